// VirtualService delegation (Istio's mergeVirtualServicesIfNeeded, pilot/pkg/model/virtualservice.go): a root route
// with `delegate` is replaced by the delegate's routes, each with the root match merged in and unset fields inherited.
import type { Config } from '../../api/config.js';
import type { HTTPMatchRequest, HTTPRoute, StringMatch, VirtualService } from '../../api/types/networking.js';
import { logger } from '../../shared/log.js';
import { exportToSet, isVisible } from '../registry/hosts.js';

const log = logger('model');

/** Root VirtualServices with delegate routes expanded; routes whose delegate is missing or conflicts are dropped. */
export function mergeDelegates(roots: readonly Config<VirtualService>[], delegates: ReadonlyMap<string, Config<VirtualService>>): Config<VirtualService>[] {
  return roots.map((root) => {
    const http = root.spec.http;
    if (!http || !http.some((r) => r.delegate)) return root;
    const merged: HTTPRoute[] = [];
    for (const r of http) {
      if (!r.delegate) {
        merged.push(r);
        continue;
      }
      const key = `${r.delegate.namespace || root.meta.namespace}/${r.delegate.name ?? ''}`;
      const d = delegates.get(key);
      if (!d || !isVisible(exportToSet(d.spec.exportTo, d.meta.namespace), d.meta.namespace, root.meta.namespace)) {
        log.warn('delegate VirtualService not found or not exported to the root namespace', { root: `${root.meta.namespace}/${root.meta.name}`, delegate: key });
        continue;
      }
      for (const dr of d.spec.http ?? []) {
        const m = mergeHTTPRoute(r, dr);
        if (m) merged.push(m);
      }
    }
    return { meta: root.meta, spec: { ...root.spec, http: merged } };
  });
}

/** The delegate route under the root route: matches combined, root settings filling the delegate's gaps. */
export function mergeHTTPRoute(root: HTTPRoute, delegate: HTTPRoute): HTTPRoute | undefined {
  const match = mergeMatches(root.match, delegate.match);
  if (match === null) return undefined;
  const out: HTTPRoute = { ...delegate };
  delete out.delegate;
  if (match) out.match = match;
  else delete out.match;
  if (root.name) out.name = delegate.name ? `${root.name}-${delegate.name}` : root.name;
  if (!out.rewrite && root.rewrite) out.rewrite = root.rewrite;
  if (!out.timeout && root.timeout) out.timeout = root.timeout;
  if (!out.retries && root.retries) out.retries = root.retries;
  if (!out.fault && root.fault) out.fault = root.fault;
  if (!out.mirror && root.mirror) out.mirror = root.mirror;
  if (!out.mirrors && root.mirrors) out.mirrors = root.mirrors;
  if (!out.mirrorPercentage && root.mirrorPercentage) out.mirrorPercentage = root.mirrorPercentage;
  if (out.mirrorPercent === undefined && root.mirrorPercent !== undefined) out.mirrorPercent = root.mirrorPercent;
  if (!out.corsPolicy && root.corsPolicy) out.corsPolicy = root.corsPolicy;
  if (!out.headers && root.headers) out.headers = root.headers;
  return out;
}

/**
 * Istio's mergeHTTPMatchRequests: every delegate match must fit under at least one root match (else the whole
 * delegate route conflicts: null); each fitting pair is merged.
 */
function mergeMatches(root: HTTPMatchRequest[] | undefined, delegate: HTTPMatchRequest[] | undefined): HTTPMatchRequest[] | undefined | null {
  if (!root || root.length === 0) return delegate && delegate.length > 0 ? delegate : undefined;
  if (!delegate || delegate.length === 0) return root;
  const out: HTTPMatchRequest[] = [];
  for (const d of delegate) {
    let found = false;
    for (const r of root) {
      if (hasConflict(r, d)) continue;
      out.push(mergeMatch(r, d));
      found = true;
    }
    if (!found) return null;
  }
  return out.length > 0 ? out : null;
}

/** Istio's hasStringMatchConflict: the leaf must narrow the root; regexes never merge. */
function stringConflict(root: StringMatch | undefined, leaf: StringMatch | undefined): boolean {
  if (!root || !leaf) return false;
  if (root.regex || leaf.regex) return true;
  if (root.exact) return leaf.prefix !== undefined || leaf.exact !== root.exact;
  if (root.prefix) {
    if (leaf.prefix) return !leaf.prefix.startsWith(root.prefix);
    if (leaf.exact) return !leaf.exact.startsWith(root.prefix);
  }
  return true;
}

/** Istio's hasConflict between a root match and a delegate match. */
function hasConflict(root: HTTPMatchRequest, leaf: HTTPMatchRequest): boolean {
  for (const f of ['uri', 'scheme', 'method', 'authority'] as const) if (stringConflict(root[f], leaf[f])) return true;
  for (const [k, v] of Object.entries(leaf.headers ?? {})) if (stringConflict(root.headers?.[k], v)) return true;
  for (const [k, v] of Object.entries(leaf.withoutHeaders ?? {})) if (stringConflict(root.withoutHeaders?.[k], v)) return true;
  for (const [k, v] of Object.entries(leaf.queryParams ?? {})) if (stringConflict(root.queryParams?.[k], v)) return true;
  if (Boolean(root.ignoreUriCase) !== Boolean(leaf.ignoreUriCase)) return true;
  if (root.port && leaf.port && root.port !== leaf.port) return true;
  if (root.sourceNamespace && leaf.sourceNamespace !== root.sourceNamespace) return true;
  for (const [k, v] of Object.entries(leaf.sourceLabels ?? {})) {
    const rv = root.sourceLabels?.[k];
    if (rv !== undefined && rv !== v) return true;
  }
  if (root.gateways && root.gateways.length > 0 && leaf.gateways && leaf.gateways.length > 0) {
    // The root must hold a superset of the delegate's gateways.
    if (leaf.gateways.some((g) => !root.gateways?.includes(g))) return true;
  }
  return false;
}

/** Istio's mergeHTTPMatchRequest: the delegate match with the root's conditions filled in. */
function mergeMatch(root: HTTPMatchRequest, d: HTTPMatchRequest): HTTPMatchRequest {
  const out: HTTPMatchRequest = { ...d };
  if (root.name) out.name = d.name ? `${root.name}-${d.name}` : root.name;
  if (!out.uri && root.uri) out.uri = root.uri;
  if (!out.scheme && root.scheme) out.scheme = root.scheme;
  if (!out.method && root.method) out.method = root.method;
  if (!out.authority && root.authority) out.authority = root.authority;
  if (root.headers || d.headers) out.headers = { ...root.headers, ...d.headers };
  if (root.withoutHeaders || d.withoutHeaders) out.withoutHeaders = { ...root.withoutHeaders, ...d.withoutHeaders };
  if (root.queryParams || d.queryParams) out.queryParams = { ...root.queryParams, ...d.queryParams };
  if (!out.port && root.port) out.port = root.port;
  if (root.sourceLabels || d.sourceLabels) out.sourceLabels = { ...root.sourceLabels, ...d.sourceLabels };
  if (!out.sourceNamespace && root.sourceNamespace) out.sourceNamespace = root.sourceNamespace;
  if ((!out.gateways || out.gateways.length === 0) && root.gateways) out.gateways = root.gateways;
  if (!out.statPrefix && root.statPrefix) out.statPrefix = root.statPrefix;
  return out;
}

// VirtualService delegation: a root route with `delegate` is replaced by the delegate's routes, each with its matches
// merged into the root's (Istio's mergeVirtualServicesIfNeeded / mergeHTTPRoute). Conflicting delegate routes are dropped.
// https://istio.io/latest/docs/reference/config/networking/virtual-service/#Delegate
import type { Config } from '../../../api/config.js';
import type { HTTPMatchRequest, HTTPRoute, StringMatch, VirtualService } from '../../../api/types/networking.js';
import type { PushContext } from '../../model/types.js';
import { exportToSet, isVisible } from '../../registry/hosts.js';

function stringMatchConflict(root: StringMatch | undefined, leaf: StringMatch | undefined): boolean {
  if (!root || !leaf) return false;
  if (root.regex !== undefined || leaf.regex !== undefined) return true;
  if (root.exact !== undefined) return leaf.prefix !== undefined || leaf.exact !== root.exact;
  if (root.prefix !== undefined) {
    if (leaf.prefix !== undefined) return !leaf.prefix.startsWith(root.prefix);
    if (leaf.exact !== undefined) return !leaf.exact.startsWith(root.prefix);
  }
  return true;
}

function hasConflict(root: HTTPMatchRequest, leaf: HTTPMatchRequest): boolean {
  const fields = ['uri', 'scheme', 'method', 'authority'] as const;
  for (const f of fields) if (stringMatchConflict(root[f], leaf[f])) return true;
  for (const [k, v] of Object.entries(leaf.headers ?? {})) if (stringMatchConflict(root.headers?.[k], v)) return true;
  for (const [k, v] of Object.entries(leaf.withoutHeaders ?? {})) if (stringMatchConflict(root.headers?.[k], v)) return true;
  for (const [k, v] of Object.entries(leaf.queryParams ?? {})) if (stringMatchConflict(root.queryParams?.[k], v)) return true;
  if (Boolean(root.ignoreUriCase) !== Boolean(leaf.ignoreUriCase)) return true;
  if (root.port && leaf.port && root.port !== leaf.port) return true;
  return false;
}

const joinName = (root: string | undefined, leaf: string | undefined): string | undefined => (!leaf ? root : root ? `${root}-${leaf}` : leaf);

function mergeMatch(root: HTTPMatchRequest, leaf: HTTPMatchRequest): HTTPMatchRequest {
  const out: HTTPMatchRequest = { ...leaf };
  const name = joinName(root.name, leaf.name);
  if (name !== undefined) out.name = name;
  out.uri ??= root.uri;
  out.scheme ??= root.scheme;
  out.method ??= root.method;
  out.authority ??= root.authority;
  if (root.headers || leaf.headers) out.headers = { ...root.headers, ...leaf.headers };
  if (root.withoutHeaders || leaf.withoutHeaders) out.withoutHeaders = { ...root.withoutHeaders, ...leaf.withoutHeaders };
  if (root.queryParams || leaf.queryParams) out.queryParams = { ...root.queryParams, ...leaf.queryParams };
  if (!out.port && root.port) out.port = root.port;
  // sourceLabels, sourceNamespace and gateways apply to the root only.
  for (const k of ['uri', 'scheme', 'method', 'authority', 'port'] as const) if (out[k] === undefined) delete out[k];
  return out;
}

/** Merged matches, or undefined on conflict (each delegate match must fit at least one root match). */
function mergeMatches(root: HTTPMatchRequest[] | undefined, leaf: HTTPMatchRequest[] | undefined): HTTPMatchRequest[] | undefined | 'conflict' {
  if (!root || root.length === 0) return leaf;
  if (!leaf || leaf.length === 0) return root;
  const out: HTTPMatchRequest[] = [];
  for (const sub of leaf) {
    let found = false;
    for (const r of root) {
      if (hasConflict(r, sub)) continue;
      out.push(mergeMatch(r, sub));
      found = true;
    }
    if (!found) return 'conflict';
  }
  return out.length === 0 ? 'conflict' : out;
}

function mergeRoute(root: HTTPRoute, leaf: HTTPRoute): HTTPRoute | undefined {
  const match = mergeMatches(root.match, leaf.match);
  if (match === 'conflict') return undefined;
  const out: HTTPRoute = { ...leaf };
  if (match) out.match = match;
  else delete out.match;
  const name = joinName(root.name, leaf.name);
  if (name !== undefined) out.name = name;
  out.rewrite ??= root.rewrite;
  out.timeout ??= root.timeout;
  out.retries ??= root.retries;
  out.fault ??= root.fault;
  out.mirror ??= root.mirror;
  out.mirrorPercent ??= root.mirrorPercent;
  out.mirrorPercentage ??= root.mirrorPercentage;
  out.corsPolicy ??= root.corsPolicy;
  out.headers ??= root.headers;
  for (const k of Object.keys(out) as (keyof HTTPRoute)[]) if (out[k] === undefined) delete out[k];
  return out;
}

/**
 * The VirtualService with delegate routes expanded. A missing or invisible delegate drops only the delegating route.
 * VirtualServices without delegates are returned unchanged (same object).
 */
export function resolveDelegates(vs: Config<VirtualService>, push: PushContext): Config<VirtualService> {
  const http = vs.spec.http ?? [];
  if (!http.some((r) => r.delegate)) return vs;
  const all = push.configs<VirtualService>('VirtualService');
  const merged: HTTPRoute[] = [];
  for (const route of http) {
    if (!route.delegate) {
      merged.push(route);
      continue;
    }
    const ns = route.delegate.namespace || vs.meta.namespace;
    const name = route.delegate.name;
    const delegate = all.find((c) => c.meta.name === name && c.meta.namespace === ns && (c.spec.hosts ?? []).length === 0);
    if (!delegate) continue;
    if (!isVisible(exportToSet(delegate.spec.exportTo, ns), ns, vs.meta.namespace)) continue;
    const { delegate: _d, ...root } = route;
    for (const leaf of delegate.spec.http ?? []) {
      const m = mergeRoute(root, leaf);
      if (m) merged.push(m);
    }
  }
  return { meta: vs.meta, spec: { ...vs.spec, http: merged } };
}

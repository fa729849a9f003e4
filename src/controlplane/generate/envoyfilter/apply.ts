// Applies EnvoyFilter configPatches to generated Listeners, RouteConfigurations and Clusters, in patch order.
// A patch that cannot be honoured (bad value, unsupported operation) is skipped alone and reported.
// https://istio.io/latest/docs/reference/config/networking/envoy-filter/
import type { Config } from '../../../api/config.js';
import { configKey } from '../../../api/config.js';
import type { ApplyTo, EnvoyConfigObjectPatch, EnvoyFilter, PatchOperation } from '../../../api/types/networking.js';
import type { Proxy } from '../../model/types.js';
import type { Resource } from '../types.js';
import { TypeUrl } from '../../../xds/types.js';
import { fromProtoJson } from '../../../xds/json.js';
import { RE2 } from 're2-wasm';
import { protoMerge } from './merge.js';
import {
  HCM_NAME, clusterContext, clusterMatches, contextMatches, filterChainMatches, httpFilters, listenerContext, listenerMatches,
  networkFilters, proxyMatches, routeConfigMatches, routeContext, routeMatches, vhostMatches,
} from './match.js';

type Obj = Record<string, unknown>;

export interface PatchError {
  /** `EnvoyFilter/ns/name`. */
  filter: string;
  /** `spec.configPatches[i]`. */
  path: string;
  message: string;
}

/** The message type a patch value of each applyTo is written in. */
const VALUE_TYPE: Partial<Record<ApplyTo, string>> = {
  LISTENER: 'envoy.config.listener.v3.Listener',
  FILTER_CHAIN: 'envoy.config.listener.v3.FilterChain',
  NETWORK_FILTER: 'envoy.config.listener.v3.Filter',
  LISTENER_FILTER: 'envoy.config.listener.v3.ListenerFilter',
  HTTP_FILTER: 'envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter',
  ROUTE_CONFIGURATION: 'envoy.config.route.v3.RouteConfiguration',
  VIRTUAL_HOST: 'envoy.config.route.v3.VirtualHost',
  HTTP_ROUTE: 'envoy.config.route.v3.Route',
  CLUSTER: 'envoy.config.cluster.v3.Cluster',
};

const APPLIES_TO_TYPE: Record<string, readonly ApplyTo[]> = {
  [TypeUrl.Cluster]: ['CLUSTER'],
  // Route patches reach listeners too: inbound HTTP chains carry their route config inline (as istiod does).
  [TypeUrl.Listener]: ['LISTENER', 'LISTENER_FILTER', 'FILTER_CHAIN', 'NETWORK_FILTER', 'HTTP_FILTER', 'ROUTE_CONFIGURATION', 'VIRTUAL_HOST', 'HTTP_ROUTE'],
  [TypeUrl.RouteConfiguration]: ['ROUTE_CONFIGURATION', 'VIRTUAL_HOST', 'HTTP_ROUTE'],
};

/** Operations Istio allows per applyTo. */
const ALLOWED: Record<string, readonly PatchOperation[]> = {
  LISTENER: ['ADD', 'MERGE', 'REMOVE'],
  FILTER_CHAIN: ['ADD', 'MERGE', 'REMOVE', 'INSERT_FIRST'],
  NETWORK_FILTER: ['ADD', 'MERGE', 'REMOVE', 'REPLACE', 'INSERT_BEFORE', 'INSERT_AFTER', 'INSERT_FIRST'],
  HTTP_FILTER: ['ADD', 'MERGE', 'REMOVE', 'REPLACE', 'INSERT_BEFORE', 'INSERT_AFTER', 'INSERT_FIRST'],
  LISTENER_FILTER: ['ADD', 'REMOVE', 'INSERT_BEFORE', 'INSERT_AFTER', 'INSERT_FIRST'],
  ROUTE_CONFIGURATION: ['MERGE'],
  VIRTUAL_HOST: ['ADD', 'MERGE', 'REMOVE'],
  HTTP_ROUTE: ['MERGE', 'REMOVE', 'INSERT_BEFORE', 'INSERT_AFTER', 'INSERT_FIRST'],
  CLUSTER: ['ADD', 'MERGE', 'REMOVE'],
};

export interface ApplyOptions {
  /** Matches proxy.proxyVersion patterns (RE2); injected so the hot pieces stay testable. */
  versionMatches?: (re: string, version: string) => boolean;
  onError?: (e: PatchError) => void;
}

/** Returns `resources` with every applicable patch applied; untouched resources keep their identity. */
export function applyEnvoyFilters(typeUrl: string, proxy: Proxy, filters: readonly Config<EnvoyFilter>[], resources: Resource[], opts: ApplyOptions = {}): Resource[] {
  const kinds = APPLIES_TO_TYPE[typeUrl];
  if (!kinds || filters.length === 0) return resources;
  const versionMatches = opts.versionMatches ?? re2Matches;
  let list = resources.map((r) => r.resource);
  let changed = false;
  for (const f of filters) {
    (f.spec.configPatches ?? []).forEach((p, i) => {
      if (!p.applyTo || !kinds.includes(p.applyTo)) return;
      const where: Omit<PatchError, 'message'> = { filter: configKey(f.meta), path: `spec.configPatches[${i}]` };
      const op = p.patch?.operation;
      if (!op || !ALLOWED[p.applyTo]?.includes(op)) {
        opts.onError?.({ ...where, message: `operation ${op ?? '(none)'} is not supported for applyTo ${p.applyTo}` });
        return;
      }
      if (!proxyMatches(p.match, proxy, versionMatches)) return;
      let value: Obj | undefined;
      if (op !== 'REMOVE') {
        const errors: string[] = [];
        value = fromProtoJson(VALUE_TYPE[p.applyTo]!, p.patch?.value ?? {}, `${where.path}.patch.value`, errors);
        if (errors.length > 0) {
          opts.onError?.({ ...where, message: errors.join('; ') });
          return;
        }
      }
      if (!changed) {
        list = list.map((r) => structuredClone(r));
        changed = true;
      }
      list = typeUrl === TypeUrl.Listener && ROUTE_KINDS.has(p.applyTo) ? list.map((l) => patchEmbeddedRoutes(proxy, p, op, value, l)) : applyOne(typeUrl, proxy, p, op, value, list);
    });
  }
  if (!changed) return resources;
  return list.map((r) => ({ name: String(r.name), resource: r }));
}

const ROUTE_KINDS: ReadonlySet<ApplyTo> = new Set(['ROUTE_CONFIGURATION', 'VIRTUAL_HOST', 'HTTP_ROUTE']);

/** Applies a route-kind patch to every route config embedded in the listener's HTTP connection managers. */
function patchEmbeddedRoutes(proxy: Proxy, p: EnvoyConfigObjectPatch, op: PatchOperation, value: Obj | undefined, listener: Obj): Obj {
  const patchChain = (fc: Obj): Obj => {
    let touched = false;
    const filters = networkFilters(fc).map((nf) => {
      const tc = nf.typed_config as Obj | undefined;
      if (nf.name !== HCM_NAME || !tc?.route_config) return nf;
      const [rc] = applyOne(TypeUrl.RouteConfiguration, proxy, p, op, value, [tc.route_config as Obj]);
      if (rc === tc.route_config) return nf;
      touched = true;
      return { ...nf, typed_config: { ...tc, route_config: rc } };
    });
    return touched ? { ...fc, filters } : fc;
  };
  const out: Obj = { ...listener, filter_chains: ((listener.filter_chains as Obj[] | undefined) ?? []).map(patchChain) };
  if (listener.default_filter_chain) out.default_filter_chain = patchChain(listener.default_filter_chain as Obj);
  return out;
}

function applyOne(typeUrl: string, proxy: Proxy, p: EnvoyConfigObjectPatch, op: PatchOperation, value: Obj | undefined, list: Obj[]): Obj[] {
  const m = p.match;
  switch (p.applyTo) {
    case 'CLUSTER': {
      if (op === 'ADD') return contextMatches(m?.context, proxy.type === 'router' ? 'GATEWAY' : 'SIDECAR_OUTBOUND') ? [...list, value!] : list;
      const sel = (c: Obj): boolean => contextMatches(m?.context, clusterContext(proxy, String(c.name))) && clusterMatches(m?.cluster, c);
      return op === 'REMOVE' ? list.filter((c) => !sel(c)) : list.map((c) => (sel(c) ? protoMerge(c, value!) : c));
    }
    case 'LISTENER': {
      if (op === 'ADD') return contextMatches(m?.context, proxy.type === 'router' ? 'GATEWAY' : 'SIDECAR_OUTBOUND') ? [...list, value!] : list;
      const sel = (l: Obj): boolean => contextMatches(m?.context, listenerContext(proxy, l)) && listenerMatches(m?.listener, l);
      return op === 'REMOVE' ? list.filter((l) => !sel(l)) : list.map((l) => (sel(l) ? protoMerge(l, value!) : l));
    }
    case 'LISTENER_FILTER':
      return list.map((l) => {
        if (!contextMatches(m?.context, listenerContext(proxy, l)) || !listenerMatches({ ...m?.listener, listenerFilter: undefined }, l)) return l;
        const lfs = (l.listener_filters as Obj[] | undefined) ?? [];
        const selected = m?.listener?.listenerFilter;
        return { ...l, listener_filters: patchNamed(lfs, selected === undefined ? undefined : (x) => x.name === selected, op, value) };
      });
    case 'FILTER_CHAIN':
      return list.map((l) => {
        if (!contextMatches(m?.context, listenerContext(proxy, l)) || !listenerMatches(m?.listener, l)) return l;
        const chains = (l.filter_chains as Obj[] | undefined) ?? [];
        if (op === 'ADD') return { ...l, filter_chains: [...chains, value!] };
        if (op === 'INSERT_FIRST') return { ...l, filter_chains: [value!, ...chains] };
        const sel = (fc: Obj): boolean => filterChainMatches(m?.listener, l, fc);
        const next = op === 'REMOVE' ? chains.filter((fc) => !sel(fc)) : chains.map((fc) => (sel(fc) ? protoMerge(fc, value!) : fc));
        return { ...l, filter_chains: next };
      });
    case 'NETWORK_FILTER':
    case 'HTTP_FILTER':
      return list.map((l) => {
        if (!contextMatches(m?.context, listenerContext(proxy, l)) || !listenerMatches(m?.listener, l)) return l;
        const chainMatch = m?.listener ? { ...m.listener, filterChain: m.listener.filterChain ? { ...m.listener.filterChain, filter: undefined } : undefined } : undefined;
        const patchChain = (fc: Obj): Obj => {
          if (!filterChainMatches(chainMatch, l, fc)) return fc;
          const filterName = m?.listener?.filterChain?.filter?.name;
          if (p.applyTo === 'NETWORK_FILTER') {
            return { ...fc, filters: patchNamed(networkFilters(fc), filterName === undefined ? undefined : (x) => x.name === filterName, op, value) };
          }
          const sub = m?.listener?.filterChain?.filter?.subFilter?.name;
          const filters = networkFilters(fc).map((nf) => {
            if (nf.name !== HCM_NAME || (filterName !== undefined && filterName !== HCM_NAME)) return nf;
            const tc = nf.typed_config as Obj;
            return { ...nf, typed_config: { ...tc, http_filters: patchNamed(httpFilters(nf), sub === undefined ? undefined : (x) => x.name === sub, op, value) } };
          });
          return { ...fc, filters };
        };
        const out: Obj = { ...l, filter_chains: ((l.filter_chains as Obj[] | undefined) ?? []).map(patchChain) };
        if (l.default_filter_chain) out.default_filter_chain = patchChain(l.default_filter_chain as Obj);
        return out;
      });
    case 'ROUTE_CONFIGURATION':
      return list.map((rc) => (rcSelected(proxy, p, rc) ? protoMerge(rc, value!) : rc));
    case 'VIRTUAL_HOST':
      return list.map((rc) => {
        if (!rcSelected(proxy, p, rc)) return rc;
        const vhs = (rc.virtual_hosts as Obj[] | undefined) ?? [];
        if (op === 'ADD') return { ...rc, virtual_hosts: [...vhs, value!] };
        const sel = (vh: Obj): boolean => vhostMatches(m?.routeConfiguration?.vhost, vh);
        return { ...rc, virtual_hosts: op === 'REMOVE' ? vhs.filter((vh) => !sel(vh)) : vhs.map((vh) => (sel(vh) ? protoMerge(vh, value!) : vh)) };
      });
    case 'HTTP_ROUTE':
      return list.map((rc) => {
        if (!rcSelected(proxy, p, rc)) return rc;
        const vm = m?.routeConfiguration?.vhost;
        const vhs = ((rc.virtual_hosts as Obj[] | undefined) ?? []).map((vh) => {
          if (!vhostMatches(vm ? { ...vm, route: undefined } : undefined, vh)) return vh;
          const routes = (vh.routes as Obj[] | undefined) ?? [];
          const rm = vm?.route;
          return { ...vh, routes: patchNamed(routes, rm === undefined ? undefined : (r) => routeMatches(rm, r), op, value) };
        });
        return { ...rc, virtual_hosts: vhs };
      });
    default:
      return list;
  }
}

/** proxyVersion patterns are user input: RE2 semantics, and a pattern that does not compile matches nothing. */
function re2Matches(re: string, v: string): boolean {
  try {
    return new RE2(re, 'u').test(v);
  } catch {
    return false;
  }
}

function rcSelected(proxy: Proxy, p: EnvoyConfigObjectPatch, rc: Obj): boolean {
  const m = p.match;
  return contextMatches(m?.context, routeContext(proxy, String(rc.name))) && routeConfigMatches(m?.routeConfiguration ? { ...m.routeConfiguration, vhost: undefined } : undefined, rc);
}

/**
 * A list operation on an ordered list of named elements (filters, routes): `selected` picks the anchor element;
 * without a selector MERGE/REMOVE/REPLACE apply to every element, INSERT_BEFORE inserts first and INSERT_AFTER last.
 */
export function patchNamed(list: Obj[], selected: ((o: Obj) => boolean) | undefined, op: PatchOperation, value: Obj | undefined): Obj[] {
  const sel = selected ?? ((): boolean => true);
  switch (op) {
    case 'ADD':
      return [...list, value!];
    case 'INSERT_FIRST':
      return [value!, ...list];
    case 'INSERT_BEFORE': {
      if (!selected) return [value!, ...list];
      const i = list.findIndex(sel);
      return i < 0 ? list : [...list.slice(0, i), value!, ...list.slice(i)];
    }
    case 'INSERT_AFTER': {
      if (!selected) return [...list, value!];
      const i = list.findIndex(sel);
      return i < 0 ? list : [...list.slice(0, i + 1), value!, ...list.slice(i + 1)];
    }
    case 'REMOVE':
      return list.filter((o) => !sel(o));
    case 'REPLACE':
      return list.map((o) => (sel(o) ? value! : o));
    case 'MERGE':
      return list.map((o) => (sel(o) ? protoMerge(o, value!) : o));
    default:
      return list;
  }
}

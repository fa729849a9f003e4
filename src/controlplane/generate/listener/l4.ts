// VirtualService tcp/tls routes → tcp_proxy network filters and SNI filter chains (Istio's buildOutboundNetworkFilters,
// l4SingleMatch and the sidecar/gateway TLS chain builders).
import type { Config } from '../../../api/config.js';
import type { L4MatchAttributes, RouteDestination, TLSMatchAttributes, VirtualService } from '../../../api/types/networking.js';
import type { Proxy, PushContext, Service } from '../../model/types.js';
import { expandHost, selectorMatches } from '../../registry/hosts.js';
import { destinationCluster } from '../route/translate.js';
import type { Obj } from '../route/util.js';
import { tcpProxy, tcpProxyWeighted } from './filters.js';

export interface L4Context {
  proxy: Proxy;
  push: PushContext;
  port: number;
  /** 'mesh' for sidecars, `ns/name` for gateways. */
  gatewayNames: ReadonlySet<string>;
  lookupService(host: string): Service | undefined;
  /** Sidecars also honour sourceLabels/sourceNamespace; gateways check only port and gateways. */
  checkSource: boolean;
}

/** Whether one L4/TLS match condition applies to this listener port and proxy. */
export function l4MatchApplies(m: L4MatchAttributes | TLSMatchAttributes, ctx: L4Context): boolean {
  if (m.port && m.port !== ctx.port) return false;
  if (m.gateways && m.gateways.length > 0) return m.gateways.some((g) => ctx.gatewayNames.has(g));
  if (!ctx.checkSource) return true;
  if (!selectorMatches(m.sourceLabels, ctx.proxy.labels)) return false;
  return !m.sourceNamespace || m.sourceNamespace === ctx.proxy.namespace;
}

/** tcp_proxy for route destinations: one cluster, or weighted clusters (zero weights dropped). */
export function networkFiltersForRoute(dests: readonly RouteDestination[], vs: Config<VirtualService>, ctx: L4Context): Obj[] {
  const cluster = (d: RouteDestination): string => {
    const host = expandHost(d.destination.host, vs.meta.namespace, ctx.push.domainSuffix);
    return destinationCluster(d.destination, host, ctx.lookupService(host), ctx.port);
  };
  if (dests.length === 1) {
    const c = cluster(dests[0]);
    return [tcpProxy(c, c)];
  }
  const clusters = dests.filter((d) => (d.weight ?? 0) > 0).map((d) => ({ name: cluster(d), weight: d.weight! }));
  return [tcpProxyWeighted(`${vs.meta.name}.${vs.meta.namespace}`, clusters)];
}

function prefixRanges(subnets: readonly string[] | undefined): Obj[] | undefined {
  if (!subnets || subnets.length === 0) return undefined;
  return subnets.map((s) => {
    const [addr, len] = s.split('/');
    const bits = len !== undefined ? Number(len) : addr.includes(':') ? 128 : 32;
    return { address_prefix: addr, prefix_len: { value: bits } };
  });
}

/**
 * Filter chains from the tcp routes of VirtualServices: routes whose match names destinationSubnets get a chain
 * matching those prefixes; the first applicable route without subnets becomes the chain without a match.
 */
export function tcpRouteChains(vss: readonly Config<VirtualService>[], ctx: L4Context): { chains: Obj[]; hasDefault: boolean } {
  const chains: Obj[] = [];
  for (const vs of vss) {
    for (const tcp of vs.spec.tcp ?? []) {
      if (!tcp.route || tcp.route.length === 0) continue;
      const matches = tcp.match && tcp.match.length > 0 ? tcp.match : [undefined];
      for (const m of matches) {
        if (m && !l4MatchApplies(m, ctx)) continue;
        const filters = networkFiltersForRoute(tcp.route, vs, ctx);
        const ranges = prefixRanges(m?.destinationSubnets);
        if (ranges) {
          chains.push({ filter_chain_match: { prefix_ranges: ranges }, filters });
          continue;
        }
        chains.push({ filters });
        return { chains, hasDefault: true };
      }
    }
  }
  return { chains, hasDefault: false };
}

/** One SNI filter chain per applicable tls route match, skipping SNI names an earlier chain already claimed. */
export function tlsRouteChains(vss: readonly Config<VirtualService>[], ctx: L4Context, claimed: Set<string>): Obj[] {
  const chains: Obj[] = [];
  for (const vs of vss) {
    for (const tls of vs.spec.tls ?? []) {
      if (!tls.route || tls.route.length === 0) continue;
      for (const m of tls.match ?? []) {
        if (!l4MatchApplies(m, ctx)) continue;
        const names = (m.sniHosts ?? []).filter((h) => !claimed.has(h));
        if (names.length === 0) continue;
        for (const n of names) claimed.add(n);
        // A bare '*' SNI cannot be an Envoy server name: it matches any SNI (no server_names).
        const match: Obj = names.includes('*') ? {} : { server_names: names };
        const ranges = prefixRanges(m.destinationSubnets);
        if (ranges) match.prefix_ranges = ranges;
        chains.push({ filter_chain_match: match, filters: networkFiltersForRoute(tls.route, vs, ctx) });
      }
    }
  }
  return chains;
}

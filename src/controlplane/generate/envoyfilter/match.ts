// Which generated xDS objects an EnvoyFilter patch's `match` selects (context, proxy, listener, route, cluster).
// https://istio.io/latest/docs/reference/config/networking/envoy-filter/
import type { EnvoyConfigObjectMatch, EnvoyFilterListenerMatch, PatchContext } from '../../../api/types/networking.js';
import type { Proxy } from '../../model/types.js';
import { parseClusterName } from '../../../xds/types.js';

type Obj = Record<string, unknown>;

export const HCM_NAME = 'envoy.filters.network.http_connection_manager';

export function proxyMatches(m: EnvoyConfigObjectMatch | undefined, proxy: Proxy, versionMatches: (re: string, v: string) => boolean): boolean {
  const pm = m?.proxy;
  if (!pm) return true;
  if (pm.proxyVersion && !versionMatches(pm.proxyVersion, proxy.metadata.ISTIO_VERSION ?? '')) return false;
  for (const [k, v] of Object.entries(pm.metadata ?? {})) {
    const actual = proxy.metadata.raw[k];
    if (typeof actual !== 'string' || actual !== v) return false;
  }
  return true;
}

export function contextMatches(ctx: PatchContext | undefined, actual: PatchContext): boolean {
  return ctx === undefined || ctx === 'ANY' || ctx === actual;
}

/** The patch context a listener belongs to. */
export function listenerContext(proxy: Proxy, listener: Obj): PatchContext {
  if (proxy.type === 'router') return 'GATEWAY';
  return listener.name === 'virtualInbound' || (listener.traffic_direction === 'INBOUND') ? 'SIDECAR_INBOUND' : 'SIDECAR_OUTBOUND';
}

export function clusterContext(proxy: Proxy, name: string): PatchContext {
  if (proxy.type === 'router') return 'GATEWAY';
  return name.startsWith('inbound|') ? 'SIDECAR_INBOUND' : 'SIDECAR_OUTBOUND';
}

export function routeContext(proxy: Proxy, name: string): PatchContext {
  if (proxy.type === 'router') return 'GATEWAY';
  return name.startsWith('inbound|') ? 'SIDECAR_INBOUND' : 'SIDECAR_OUTBOUND';
}

function listenerPort(listener: Obj): number | undefined {
  const sa = (listener.address as Obj | undefined)?.socket_address as Obj | undefined;
  const p = sa?.port_value;
  return typeof p === 'number' ? p : undefined;
}

export function listenerMatches(lm: EnvoyFilterListenerMatch | undefined, listener: Obj): boolean {
  if (!lm) return true;
  if (lm.name !== undefined && lm.name !== listener.name) return false;
  if (lm.portNumber !== undefined) {
    // virtualInbound/virtualOutbound carry per-port chains: Istio matches the port against chain destination ports.
    const isVirtual = listener.name === 'virtualInbound' || listener.name === 'virtualOutbound';
    if (!isVirtual && listenerPort(listener) !== lm.portNumber) return false;
    if (isVirtual && !filterChains(listener).some((fc) => chainDestinationPort(fc) === lm.portNumber)) return false;
  }
  if (lm.listenerFilter !== undefined) {
    const lfs = (listener.listener_filters as Obj[] | undefined) ?? [];
    if (!lfs.some((f) => f.name === lm.listenerFilter)) return false;
  }
  return true;
}

export function filterChains(listener: Obj): Obj[] {
  const out = [...((listener.filter_chains as Obj[] | undefined) ?? [])];
  if (listener.default_filter_chain) out.push(listener.default_filter_chain as Obj);
  return out;
}

function chainDestinationPort(fc: Obj): number | undefined {
  const dp = ((fc.filter_chain_match as Obj | undefined)?.destination_port as Obj | undefined)?.value;
  return typeof dp === 'number' ? dp : undefined;
}

export function filterChainMatches(lm: EnvoyFilterListenerMatch | undefined, listener: Obj, fc: Obj): boolean {
  const m = lm?.filterChain;
  if (lm?.portNumber !== undefined && (listener.name === 'virtualInbound' || listener.name === 'virtualOutbound')) {
    if (chainDestinationPort(fc) !== lm.portNumber) return false;
  }
  if (!m) return true;
  const fcm = (fc.filter_chain_match as Obj | undefined) ?? {};
  if (m.name !== undefined && m.name !== fc.name) return false;
  if (m.sni !== undefined && !((fcm.server_names as string[] | undefined) ?? []).includes(m.sni)) return false;
  if (m.transportProtocol !== undefined && (fcm.transport_protocol ?? 'raw_buffer') !== m.transportProtocol) return false;
  if (m.applicationProtocols !== undefined) {
    const want = m.applicationProtocols.split(',').map((s) => s.trim());
    const have = (fcm.application_protocols as string[] | undefined) ?? [];
    if (!want.some((w) => have.includes(w))) return false;
  }
  if (m.destinationPort !== undefined && chainDestinationPort(fc) !== m.destinationPort) return false;
  if (m.filter?.name !== undefined) {
    const f = networkFilters(fc).find((x) => x.name === m.filter!.name);
    if (!f) return false;
    if (m.filter.subFilter?.name !== undefined) {
      if (!httpFilters(f).some((h) => h.name === m.filter!.subFilter!.name)) return false;
    }
  }
  return true;
}

export function networkFilters(fc: Obj): Obj[] {
  return (fc.filters as Obj[] | undefined) ?? [];
}

export function httpFilters(networkFilter: Obj): Obj[] {
  if (networkFilter.name !== HCM_NAME) return [];
  return ((networkFilter.typed_config as Obj | undefined)?.http_filters as Obj[] | undefined) ?? [];
}

export function clusterMatches(m: EnvoyConfigObjectMatch['cluster'], cluster: Obj): boolean {
  if (!m) return true;
  const name = String(cluster.name);
  if (m.name !== undefined && m.name !== name) return false;
  if (m.service !== undefined || m.portNumber !== undefined || m.subset !== undefined) {
    const p = parseClusterName(name);
    if (!p) return false;
    if (m.service !== undefined && !hostMatches(m.service, p.host)) return false;
    if (m.portNumber !== undefined && m.portNumber !== p.port) return false;
    if (m.subset !== undefined && m.subset !== p.subset) return false;
  }
  return true;
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith('*')) return host.endsWith(pattern.slice(1));
  return pattern === host;
}

export function routeConfigMatches(m: EnvoyConfigObjectMatch['routeConfiguration'], rc: Obj): boolean {
  if (!m) return true;
  const name = String(rc.name);
  if (m.name !== undefined && m.name !== name) return false;
  if (m.portNumber !== undefined) {
    const port = name.startsWith('http.') ? Number(name.slice(5)) : name.startsWith('inbound|') ? Number(name.split('|')[1]) : Number(name.split(':').pop());
    if (port !== m.portNumber) return false;
  }
  if (m.portName !== undefined) return false; // port names are not carried in route configs; Istio matches them only on gateways
  return true;
}

export function vhostMatches(m: NonNullable<EnvoyConfigObjectMatch['routeConfiguration']>['vhost'], vh: Obj): boolean {
  if (!m) return true;
  if (m.name !== undefined && m.name !== vh.name) return false;
  if (m.domainName !== undefined && !((vh.domains as string[] | undefined) ?? []).includes(m.domainName)) return false;
  return true;
}

export function routeMatches(m: NonNullable<NonNullable<EnvoyConfigObjectMatch['routeConfiguration']>['vhost']>['route'], r: Obj): boolean {
  if (!m) return true;
  if (m.name !== undefined && m.name !== r.name) return false;
  switch (m.action) {
    case undefined:
    case 'ANY':
      return true;
    case 'ROUTE':
      return r.route !== undefined;
    case 'REDIRECT':
      return r.redirect !== undefined;
    case 'DIRECT_RESPONSE':
      return r.direct_response !== undefined;
  }
}

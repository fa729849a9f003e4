// Sidecar outbound listeners: `virtualOutbound` (15001, original destination, passthrough or blackhole) and one
// listener per service port (`0.0.0.0_9080` for HTTP, `VIP_PORT` for TCP), not bound unless the Sidecar egress listener
// (or the proxy) uses captureMode NONE, in which case it is bound to `bind:port` (Istio's buildSidecarOutboundListeners).
// An egress port of protocol HTTP_PROXY is an explicit HTTP proxy (absolute URIs, CONNECT) routed by `http_proxy`.
import type { Config } from '../../../api/config.js';
import type { VirtualService } from '../../../api/types/networking.js';
import { ClusterName, ListenerName, clusterName } from '../../../xds/types.js';
import type { Protocol, Proxy, PushContext, Service } from '../../model/types.js';
import { hostMatches } from '../../registry/hosts.js';
import type { EgressListener } from '../route/egress.js';
import { egressListeners, isHTTP } from '../route/egress.js';
import { HTTP_PROXY_ROUTE } from '../route/sidecar.js';
import type { Obj } from '../route/util.js';
import {
  PLAINTEXT_HTTP_ALPNS, SNIFF_TIMEOUT, httpConnectionManager, httpInspector, socketAddress, tcpProxy, tlsInspector,
} from './filters.js';
import type { L4Context } from './l4.js';
import { tcpRouteChains, tlsRouteChains } from './l4.js';

export const OUTBOUND_CAPTURE_PORT = 15001;
const LOCALHOST = '127.0.0.1';
const WILDCARD = '0.0.0.0';

/** Where traffic nobody claimed goes: PassthroughCluster (ALLOW_ANY) or BlackHoleCluster (REGISTRY_ONLY). */
export function fallbackCluster(proxy: Proxy, push: PushContext): string {
  return push.sidecarScope(proxy).outboundTrafficPolicy === 'REGISTRY_ONLY' ? ClusterName.BlackHole : ClusterName.Passthrough;
}

export function virtualOutboundListener(proxy: Proxy, push: PushContext): Obj {
  const fallback = fallbackCluster(proxy, push);
  return {
    name: ListenerName.VirtualOutbound,
    address: socketAddress(WILDCARD, OUTBOUND_CAPTURE_PORT),
    use_original_dst: { value: true },
    traffic_direction: 'OUTBOUND',
    filter_chains: [
      // Traffic sent to 15001 itself would loop.
      { name: 'virtualOutbound-blackhole', filter_chain_match: { destination_port: { value: OUTBOUND_CAPTURE_PORT } }, filters: [tcpProxy(ClusterName.BlackHole, ClusterName.BlackHole)] },
      { name: 'virtualOutbound-catchall-tcp', filters: [tcpProxy(fallback, fallback)] },
    ],
  };
}

interface PortGroup {
  address: string;
  port: number;
  protocol: Protocol;
  bound: boolean;
  services: Service[];
  /** VirtualServices of the egress listener(s) the group came from (narrowed to the group's hosts when used). */
  virtualServices: Config<VirtualService>[];
}

const isTLSProtocol = (p: Protocol): boolean => p === 'TLS' || p === 'HTTPS';

/** The proxy does no traffic capture at all (node metadata INTERCEPTION_MODE NONE). */
export function interceptionNone(proxy: Proxy): boolean {
  return proxy.metadata.INTERCEPTION_MODE === 'NONE';
}

function groupsFor(proxy: Proxy, listeners: readonly EgressListener[]): PortGroup[] {
  const groups = new Map<string, { g: PortGroup; services: Set<Service>; vss: Set<Config<VirtualService>> }>();
  const explicit = new Set(listeners.filter((l) => l.port).map((l) => l.port!.number));
  const add = (key: string, g: Omit<PortGroup, 'services' | 'virtualServices'>, services: readonly Service[], l: EgressListener): void => {
    let cur = groups.get(key);
    if (!cur) {
      cur = { g: { ...g, services: [], virtualServices: [] }, services: new Set(), vss: new Set() };
      groups.set(key, cur);
    }
    for (const s of services) {
      if (cur.services.has(s)) continue;
      cur.services.add(s);
      cur.g.services.push(s);
    }
    for (const v of l.virtualServices) {
      if (cur.vss.has(v)) continue;
      cur.vss.add(v);
      cur.g.virtualServices.push(v);
    }
  };
  for (const l of listeners) {
    const bound = l.captureMode === 'NONE' || interceptionNone(proxy);
    if (l.port) {
      const address = l.bind ?? (bound ? LOCALHOST : WILDCARD);
      const services = l.services.filter((s) => s.ports.some((p) => p.port === l.port!.number));
      add(`${address}_${l.port.number}`, { address, port: l.port.number, protocol: l.port.protocol, bound }, services, l);
      continue;
    }
    for (const svc of l.services) {
      for (const p of svc.ports) {
        if (explicit.has(p.port) || p.protocol === 'UDP') continue;
        const vip = svc.addresses.find((a) => a && a !== WILDCARD && !a.includes('/'));
        const httpish = isHTTP(p.protocol) || p.protocol === 'UNSUPPORTED';
        let address = l.bind ?? (bound ? LOCALHOST : WILDCARD);
        if (!bound && !l.bind && !httpish && vip) address = vip;
        add(`${address}_${p.port}`, { address, port: p.port, protocol: p.protocol, bound }, [svc], l);
      }
    }
  }
  return [...groups.values()].map((x) => x.g);
}

function vssFor(group: PortGroup): Config<VirtualService>[] {
  return group.virtualServices.filter((v) => (v.spec.hosts ?? []).some((h) => group.services.some((s) => hostMatches(h, s.hostname) || hostMatches(s.hostname, h))));
}

function hcmChain(name: string, port: number): Obj {
  return { name, filters: [httpConnectionManager({ statPrefix: `outbound_${name}`, class: 'sidecar-outbound', rds: String(port) })] };
}

/** Istio's HTTP_PROXY egress port: an HCM taking absolute-URI requests and CONNECT, routed by `http_proxy`. */
function httpProxyChain(name: string): Obj {
  return { name, filters: [httpConnectionManager({ statPrefix: `outbound_${name}`, class: 'sidecar-outbound', rds: HTTP_PROXY_ROUTE, httpProxy: true })] };
}

/** TCP chains: VirtualService tcp routes, else the (first) service's cluster, else the fallback cluster. */
function tcpChains(group: PortGroup, ctx: L4Context, fallback: string): Obj[] {
  const { chains, hasDefault } = tcpRouteChains(vssFor(group), ctx);
  if (!hasDefault) {
    const svc = group.services[0];
    const c = svc ? clusterName('outbound', group.port, '', svc.hostname) : fallback;
    chains.push({ filters: [tcpProxy(c, c)] });
  }
  return chains;
}

function buildPortListener(proxy: Proxy, push: PushContext, g: PortGroup): Obj | undefined {
  const name = `${g.address}_${g.port}`;
  const fallback = fallbackCluster(proxy, push);
  const ctx: L4Context = {
    proxy,
    push,
    port: g.port,
    gatewayNames: new Set(['mesh']),
    lookupService: (h) => g.services.find((s) => s.hostname === h),
    checkSource: true,
  };
  const listener: Obj = { name, address: socketAddress(g.address, g.port), traffic_direction: 'OUTBOUND' };
  if (g.protocol === 'HTTP_PROXY') {
    listener.filter_chains = [httpProxyChain(name)];
  } else if (isHTTP(g.protocol)) {
    listener.filter_chains = [hcmChain(name, g.port)];
  } else if (g.protocol === 'UNSUPPORTED') {
    // Protocol not declared: sniff; HTTP goes to the HCM, anything else through the TCP chain.
    const http = hcmChain(name, g.port);
    http.filter_chain_match = { application_protocols: PLAINTEXT_HTTP_ALPNS };
    listener.filter_chains = [http, ...tcpChains(g, ctx, fallback)];
    listener.listener_filters = [tlsInspector(), httpInspector()];
    listener.listener_filters_timeout = SNIFF_TIMEOUT;
    listener.continue_on_listener_filters_timeout = true;
  } else if (isTLSProtocol(g.protocol)) {
    const claimed = new Set<string>();
    const chains = tlsRouteChains(vssFor(g), ctx, claimed);
    const isVip = g.address !== WILDCARD && g.address !== LOCALHOST && !g.bound;
    for (const svc of g.services) {
      if (claimed.has(svc.hostname)) continue;
      claimed.add(svc.hostname);
      const c = clusterName('outbound', g.port, '', svc.hostname);
      chains.push({ filter_chain_match: isVip ? {} : { server_names: [svc.hostname] }, filters: [tcpProxy(c, c)] });
    }
    listener.filter_chains = chains;
    if (!isVip) listener.default_filter_chain = { name: `${name}-fallback`, filters: [tcpProxy(fallback, fallback)] };
    listener.listener_filters = [tlsInspector()];
    listener.listener_filters_timeout = SNIFF_TIMEOUT;
    listener.continue_on_listener_filters_timeout = true;
  } else {
    listener.filter_chains = tcpChains(g, ctx, fallback);
  }
  if (!g.bound) listener.bind_to_port = { value: false };
  return listener;
}

/** virtualOutbound (unless the proxy does no capture) and every per-port outbound listener. */
export function outboundListeners(proxy: Proxy, push: PushContext): Obj[] {
  const out: Obj[] = [];
  if (!interceptionNone(proxy)) out.push(virtualOutboundListener(proxy, push));
  for (const g of groupsFor(proxy, egressListeners(proxy, push))) {
    const l = buildPortListener(proxy, push, g);
    if (l) out.push(l);
  }
  return out;
}

// Router (gateway) listeners: one bound listener per server `bind:port`; plain HTTP servers share one HCM chain
// (RDS `http.PORT`), HTTPS servers get an SNI chain each with a DownstreamTlsContext and their own RDS name, TLS
// passthrough routes by SNI from VirtualService tls routes, TCP through tcp routes (Istio's buildGatewayListeners).
import type { Proxy, PushContext } from '../../model/types.js';
import { hostsOverlap } from '../../registry/hosts.js';
import type { GatewayServer } from '../route/servers.js';
import { gatewayServers, serverHostsFor, sniHosts } from '../route/servers.js';
import type { Obj } from '../route/util.js';
import { httpConnectionManager, socketAddress, tlsInspector } from './filters.js';
import type { L4Context } from './l4.js';
import { tcpRouteChains, tlsRouteChains } from './l4.js';
import { tlsTransportSocket } from './tls.js';

function l4Context(proxy: Proxy, push: PushContext, gs: GatewayServer): L4Context {
  return {
    proxy,
    push,
    port: gs.port,
    gatewayNames: new Set([gs.gatewayName]),
    lookupService: (h) => push.serviceForHost(h, proxy.namespace),
    checkSource: false,
  };
}

/** VirtualServices bound to the server's Gateway whose hosts overlap the server's hosts (pickMatchingGatewayHosts). */
function boundVirtualServices(proxy: Proxy, push: PushContext, gs: GatewayServer) {
  return push.virtualServices(proxy, gs.gatewayName).filter((vs) => {
    const hosts = serverHostsFor(gs, vs.meta.namespace);
    return (vs.spec.hosts ?? []).some((h) => hosts.some((s) => hostsOverlap(s, h)));
  });
}

function serverChains(proxy: Proxy, push: PushContext, gs: GatewayServer, listenerName: string, claimedSni: Set<string>): Obj[] {
  const sni = sniHosts(gs);
  const match: Obj = sni.length > 0 ? { server_names: sni } : {};
  switch (gs.kind) {
    case 'https': {
      const hcm = httpConnectionManager({ statPrefix: gs.server.name || `outbound_${listenerName}`, class: 'gateway', rds: gs.routeName });
      return [{ filter_chain_match: match, transport_socket: tlsTransportSocket(gs.server.tls ?? {}, ['h2', 'http/1.1']), filters: [hcm] }];
    }
    case 'tls-passthrough':
      // AUTO_PASSTHROUGH (SNI-DNAT to outbound|...) belongs to the multi-network work; only VS tls routes here.
      return tlsRouteChains(boundVirtualServices(proxy, push, gs), l4Context(proxy, push, gs), claimedSni);
    case 'tls-terminate': {
      const { chains } = tcpRouteChains(boundVirtualServices(proxy, push, gs), l4Context(proxy, push, gs));
      const first = chains.find((c) => !c.filter_chain_match);
      if (!first) return [];
      return [{ filter_chain_match: match, transport_socket: tlsTransportSocket(gs.server.tls ?? {}, undefined), filters: first.filters }];
    }
    case 'tcp':
      return tcpRouteChains(boundVirtualServices(proxy, push, gs), l4Context(proxy, push, gs)).chains;
    case 'http':
      return [];
  }
}

/** All listeners of a router proxy, one per `bind_port` of its Gateways' servers. */
export function gatewayListeners(proxy: Proxy, push: PushContext): Obj[] {
  const byListener = new Map<string, GatewayServer[]>();
  for (const gs of gatewayServers(proxy, push)) {
    const list = byListener.get(gs.listenerName) ?? [];
    list.push(gs);
    byListener.set(gs.listenerName, list);
  }
  const out: Obj[] = [];
  for (const [name, servers] of byListener) {
    const first = servers[0];
    const listener: Obj = { name, address: socketAddress(first.bind || '0.0.0.0', first.port), traffic_direction: 'OUTBOUND' };
    const http = servers.find((s) => s.kind === 'http');
    let chains: Obj[];
    if (http) {
      // Plain HTTP servers on a port share one connection manager and one route configuration.
      chains = [{ filters: [httpConnectionManager({ statPrefix: `outbound_${name}`, class: 'gateway', rds: http.routeName })] }];
    } else {
      const claimed = new Set<string>();
      chains = servers.flatMap((gs) => serverChains(proxy, push, gs, name, claimed));
    }
    if (chains.length === 0) continue; // Istio omits listeners without filter chains
    listener.filter_chains = chains;
    if (chains.some((c) => c.transport_socket || (c.filter_chain_match as Obj | undefined)?.server_names)) listener.listener_filters = [tlsInspector()];
    out.push(listener);
  }
  return out;
}

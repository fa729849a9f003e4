// The Gateway servers a router proxy serves, flattened and named the way Istio's MergeGateways names them: listener
// `BIND_PORT`, HTTP route `http.PORT[.BIND]`, terminated HTTPS route `https.PORT.PORTNAME.GATEWAY.NAMESPACE[.BIND]`.
import type { Config } from '../../../api/config.js';
import type { Gateway, Server } from '../../../api/types/networking.js';
import type { Proxy, PushContext } from '../../model/types.js';
import { hostMatches } from '../../registry/hosts.js';

export type ServerKind = 'http' | 'https' | 'tls-passthrough' | 'tls-terminate' | 'tcp';

export interface GatewayServer {
  gateway: Config<Gateway>;
  /** `namespace/name` of the Gateway, as VirtualServices and match.gateways refer to it. */
  gatewayName: string;
  server: Server;
  /** Index of the server in the Gateway, for stable names. */
  index: number;
  port: number;
  /** Upper-case protocol of the server port. */
  protocol: string;
  bind: string;
  kind: ServerKind;
  /** RDS route name for servers with an HTTP connection manager, '' otherwise. */
  routeName: string;
  listenerName: string;
}

const HTTP_PROTOCOLS = new Set(['HTTP', 'HTTP2', 'GRPC', 'GRPC-WEB']);

function kindOf(server: Server, protocol: string): ServerKind {
  if (HTTP_PROTOCOLS.has(protocol)) return 'http';
  const mode = server.tls?.mode ?? 'SIMPLE';
  const passthrough = mode === 'PASSTHROUGH' || mode === 'AUTO_PASSTHROUGH';
  if (protocol === 'HTTPS') return passthrough ? 'tls-passthrough' : 'https';
  if (protocol === 'TLS') return passthrough ? 'tls-passthrough' : 'tls-terminate';
  return 'tcp';
}

/** Every server of every Gateway selecting the proxy, in Gateway order. */
export function gatewayServers(proxy: Proxy, push: PushContext): GatewayServer[] {
  const out: GatewayServer[] = [];
  for (const gw of push.gatewaysForProxy(proxy)) {
    const gatewayName = `${gw.meta.namespace}/${gw.meta.name}`;
    (gw.spec.servers ?? []).forEach((server, index) => {
      const protocol = (server.port.protocol ?? '').toUpperCase();
      const port = server.port.number;
      const bind = server.bind ?? '';
      const kind = kindOf(server, protocol);
      const bindSuffix = bind ? `.${bind}` : '';
      let routeName = '';
      if (kind === 'http') routeName = `http.${port}${bindSuffix}`;
      else if (kind === 'https') routeName = `https.${port}.${server.port.name ?? ''}.${gw.meta.name}.${gw.meta.namespace}${bindSuffix}`;
      out.push({ gateway: gw, gatewayName, server, index, port, protocol, bind, kind, routeName, listenerName: `${bind || '0.0.0.0'}_${port}` });
    });
  }
  return out;
}

/** Server hosts visible to resources in `namespace` with the `ns/` part stripped ('.' is the Gateway's namespace). */
export function serverHostsFor(gs: GatewayServer, namespace: string): string[] {
  const out: string[] = [];
  for (const h of gs.server.hosts ?? []) {
    const slash = h.indexOf('/');
    if (slash < 0) {
      out.push(h);
      continue;
    }
    let ns = h.slice(0, slash);
    if (ns === '.') ns = gs.gateway.meta.namespace;
    if (ns === '*' || ns === namespace) out.push(h.slice(slash + 1));
  }
  return out;
}

/** SNI names of a TLS server: its hosts without namespaces, sorted, `*` dropped (a bare `*` matches any SNI). */
export function sniHosts(gs: GatewayServer): string[] {
  const set = new Set<string>();
  for (const h of gs.server.hosts ?? []) {
    const slash = h.indexOf('/');
    const host = slash < 0 ? h : h.slice(slash + 1);
    if (host !== '*') set.add(host);
  }
  if ((gs.server.hosts ?? []).some((h) => h === '*' || h.endsWith('/*'))) return [];
  return [...set].sort();
}

/** host.Names.Intersection: the more specific host of each overlapping pair. */
export function intersectHosts(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  const add = (h: string): void => {
    if (!out.includes(h)) out.push(h);
  };
  for (const x of a) {
    for (const y of b) {
      if (hostMatches(y, x)) add(x);
      else if (hostMatches(x, y)) add(y);
    }
  }
  return out;
}

// Sidecar outbound RouteConfiguration for one port (RDS name "9080"): a virtual host per visible HTTP service on the
// port (VirtualService routes or a default route), then the allow_any / block_all catch-all (Istio's
// buildSidecarOutboundHTTPRouteConfig and BuildSidecarOutboundVirtualHosts). RDS name "http_proxy" (an HTTP_PROXY egress
// port) merges every HTTP port's virtual hosts, domains with `:port` (bare names only for port 80).
import type { Config } from '../../../api/config.js';
import type { VirtualService } from '../../../api/types/networking.js';
import { ClusterName, clusterName } from '../../../xds/types.js';
import type { Proxy, PushContext, Service } from '../../model/types.js';
import { hostMatches } from '../../registry/hosts.js';
import type { EgressListener } from './egress.js';
import { egressListenerForPort, egressListeners, isHTTPOrSniffed } from './egress.js';
import { hashPolicyFor } from '../cluster/lb.js';
import type { RouteContext } from './translate.js';
import { buildHTTPRoutes, defaultRoute, destinationCluster } from './translate.js';
import type { Obj } from './util.js';
import { ALLOW_ANY, BLOCK_ALL, MAX_DIRECT_RESPONSE_BODY_BYTES, ZERO_DURATION, byName, domainName } from './util.js';
import { dedupeDomains, serviceDomains } from './vhost.js';

interface Wrapper {
  services: Service[];
  /** VirtualService hosts that are not services in the registry (e.g. external names). */
  vsHosts: string[];
  routes: Obj[];
}

const isWildcard = (h: string): boolean => h.startsWith('*');

/** For each service host, the VirtualService whose wildcard host matches it most specifically (first wins on ties). */
function wildcardOwners(vss: readonly Config<VirtualService>[], services: readonly Service[]): Map<string, Config<VirtualService>> {
  const wild: { vs: Config<VirtualService>; host: string }[] = [];
  for (const vs of vss) for (const h of vs.spec.hosts ?? []) if (isWildcard(h)) wild.push({ vs, host: h });
  const owners = new Map<string, { vs: Config<VirtualService>; len: number }>();
  if (wild.length === 0) return new Map();
  for (const svc of services) {
    for (const { vs, host } of wild) {
      if (!hostMatches(host, svc.hostname)) continue;
      const cur = owners.get(svc.hostname);
      if (!cur || host.length > cur.len) owners.set(svc.hostname, { vs, len: host.length });
    }
  }
  return new Map([...owners].map(([k, v]) => [k, v.vs]));
}

/** Virtual hosts of one egress listener on `port`; `withPort` adds `host:port` domain forms. */
export function sidecarVirtualHosts(proxy: Proxy, push: PushContext, listener: EgressListener, port: number, withPort: boolean): Obj[] {
  const services = listener.services.filter((s) => s.ports.some((p) => p.port === port));
  const byHost = new Map(services.map((s) => [s.hostname, s]));
  const portOf = (s: Service): Service => ({ ...s, ports: s.ports.filter((p) => p.port === port) });
  const httpOnPort = (s: Service): boolean => s.ports.some((p) => p.port === port && isHTTPOrSniffed(p.protocol));

  let vss = listener.virtualServices;
  if (port !== 80) {
    // Only VirtualServices that match a service on this port (Istio's selectVirtualServices).
    const wildServices = services.filter((s) => isWildcard(s.hostname));
    const matches = (h: string): boolean =>
      byHost.has(h) || (isWildcard(h) ? services.some((s) => hostMatches(h, s.hostname)) : wildServices.some((s) => hostMatches(s.hostname, h)));
    vss = vss.filter((v) => (v.spec.hosts ?? []).some(matches));
  }
  const owners = wildcardOwners(vss, services);
  const ctx: RouteContext = {
    proxy,
    push,
    listenPort: port,
    gatewayNames: new Set(['mesh']),
    lookupService: (h) => {
      const s = byHost.get(h);
      return s ? portOf(s) : undefined;
    },
  };

  const wrappers: Wrapper[] = [];
  const claimed = new Set<string>();
  // Delegate VirtualServices are already merged into their roots by the snapshot (model/delegate.ts).
  for (const vs of vss) {
    const routes = buildHTTPRoutes(vs, ctx);
    if (routes.length === 0) continue;
    const vsHosts: string[] = [];
    const matching: Service[] = [];
    for (const h of vs.spec.hosts ?? []) {
      if (!isWildcard(h)) {
        const s = byHost.get(h);
        if (s) matching.push(s);
        else vsHosts.push(h);
        continue;
      }
      const matched = services.filter((s) => hostMatches(h, s.hostname));
      if (matched.length === 0) vsHosts.push(h);
      for (const s of matched) if (owners.get(s.hostname) === vs && !matching.includes(s)) matching.push(s);
    }
    const httpServices = matching.filter(httpOnPort);
    if (httpServices.length === 0 && port !== 80) continue;
    wrappers.push({ services: httpServices, vsHosts, routes });
    for (const s of httpServices) claimed.add(s.hostname);
  }
  for (const svc of services) {
    if (claimed.has(svc.hostname) || !httpOnPort(svc)) continue;
    const cluster = clusterName('outbound', port, '', svc.hostname);
    const hash = hashPolicyFor(push.destinationRule(proxy, svc.hostname)?.spec, undefined, port);
    wrappers.push({ services: [svc], vsHosts: [], routes: [defaultRoute(cluster, `${svc.hostname}:${port}/*`, hash, proxy)] });
  }

  const knownFQDN = new Set<string>();
  for (const w of wrappers) for (const s of w.services) knownFQDN.add(s.hostname).add(domainName(s.hostname, port));
  const names = new Set<string>();
  const used = new Set<string>();
  const out: Obj[] = [];
  const add = (host: string, domains: string[], altHosts: string[], routes: Obj[]): void => {
    const name = domainName(host, port);
    if (names.has(name)) return; // duplicate virtual host: first wins
    names.add(name);
    const d = dedupeDomains(domains, used, altHosts, knownFQDN);
    if (d.length > 0) out.push({ name, domains: d, routes, include_request_attempt_count: true });
  };
  for (const w of wrappers) {
    for (const h of w.vsHosts) add(h, withPort ? [h, domainName(h, port)] : [h], [], w.routes);
    for (const s of w.services) {
      const { domains, altHosts } = serviceDomains(s, withPort ? port : undefined, proxy);
      add(s.hostname, domains, altHosts, w.routes);
    }
  }
  return out.sort(byName);
}

/** The catch-all virtual host: allow_any → PassthroughCluster (or the egress proxy), or block_all → 502. */
export function catchAllVirtualHost(proxy: Proxy, push: PushContext): Obj {
  const scope = push.sidecarScope(proxy);
  if (scope.outboundTrafficPolicy === 'REGISTRY_ONLY') {
    return {
      name: BLOCK_ALL,
      domains: ['*'],
      routes: [{ name: BLOCK_ALL, match: { prefix: '/' }, direct_response: { status: 502 } }],
      include_request_attempt_count: true,
    };
  }
  const egressProxy = scope.config?.spec.outboundTrafficPolicy?.egressProxy;
  const cluster = egressProxy ? destinationCluster(egressProxy, egressProxy.host, undefined, 0) : ClusterName.Passthrough;
  return {
    name: ALLOW_ANY,
    domains: ['*'],
    routes: [{ name: ALLOW_ANY, match: { prefix: '/' }, route: { cluster, timeout: ZERO_DURATION, max_grpc_timeout: ZERO_DURATION } }],
    include_request_attempt_count: true,
  };
}

export function emptyRouteConfig(name: string): Obj {
  return { name, virtual_hosts: [], validate_clusters: { value: false } };
}

/** RDS name of the HTTP proxy route configuration (Istio's model.RDSHttpProxy). */
export const HTTP_PROXY_ROUTE = 'http_proxy';

/**
 * The `http_proxy` route configuration of an HTTP_PROXY egress listener: the virtual hosts of every HTTP (or sniffed)
 * port of its services, keeping only `host:port` domains except on port 80 (Istio's mergeAllVirtualHosts), then the
 * catch-all. Ports are kept in host matching (unlike per-port route configs), so `reviews:9080` and `reviews:9081`
 * reach different virtual hosts.
 */
function httpProxyRouteConfig(proxy: Proxy, push: PushContext): Obj {
  const listener = egressListeners(proxy, push).find((l) => l.port?.protocol === 'HTTP_PROXY');
  if (!listener) return emptyRouteConfig(HTTP_PROXY_ROUTE);
  const ports = new Set<number>();
  for (const s of listener.services) for (const p of s.ports) if (isHTTPOrSniffed(p.protocol)) ports.add(p.port);
  const vhosts: Obj[] = [];
  const used = new Set<string>();
  for (const port of [...ports].sort((a, b) => a - b)) {
    // A VirtualService contributes to the ports of the services it names (no port-80 special case: Istio's listenPort 0).
    const onPort = listener.services.filter((s) => s.ports.some((p) => p.port === port && isHTTPOrSniffed(p.protocol)));
    const vss = listener.virtualServices.filter((v) => (v.spec.hosts ?? []).some((h) => onPort.some((s) => hostMatches(h, s.hostname) || hostMatches(s.hostname, h))));
    for (const vh of sidecarVirtualHosts(proxy, push, { ...listener, virtualServices: vss }, port, true)) {
      const domains = (vh.domains as string[]).filter((d) => (port === 80 || d.includes(':')) && !used.has(d.toLowerCase()));
      if (domains.length === 0) continue;
      for (const d of domains) used.add(d.toLowerCase());
      vhosts.push({ ...vh, domains });
    }
  }
  vhosts.sort(byName);
  vhosts.push(catchAllVirtualHost(proxy, push));
  return {
    name: HTTP_PROXY_ROUTE,
    virtual_hosts: vhosts,
    validate_clusters: { value: false },
    max_direct_response_body_size_bytes: { value: MAX_DIRECT_RESPONSE_BODY_BYTES },
  };
}

/** RouteConfiguration for sidecar RDS name `routeName` (a port number, or `http_proxy`); an empty one for names it does not know. */
export function sidecarRouteConfig(proxy: Proxy, push: PushContext, routeName: string): Obj {
  if (routeName === HTTP_PROXY_ROUTE) return httpProxyRouteConfig(proxy, push);
  const port = Number(routeName);
  if (!/^\d+$/.test(routeName) || !Number.isInteger(port) || port <= 0) return emptyRouteConfig(routeName);
  const listener = egressListenerForPort(egressListeners(proxy, push), port);
  if (!listener) return emptyRouteConfig(routeName);
  const vhosts = sidecarVirtualHosts(proxy, push, listener, port, true);
  vhosts.push(catchAllVirtualHost(proxy, push));
  return {
    name: routeName,
    virtual_hosts: vhosts,
    validate_clusters: { value: false },
    max_direct_response_body_size_bytes: { value: MAX_DIRECT_RESPONSE_BODY_BYTES },
    ignore_port_in_host_matching: true,
  };
}

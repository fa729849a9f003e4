// Gateway RouteConfiguration (`http.80`, `https.443.https.gw.ns`): one virtual host per host shared by a server and a
// VirtualService bound to its Gateway, 404 (no routes) when nothing is bound (Istio's buildGatewayHTTPRouteConfig).
import type { Proxy, PushContext } from '../../model/types.js';
import { isCatchAllRoute } from './match.js';
import { emptyRouteConfig } from './sidecar.js';
import type { GatewayServer } from './servers.js';
import { gatewayServers, intersectHosts, serverHostsFor } from './servers.js';
import { buildHTTPRoutes } from './translate.js';
import type { Obj } from './util.js';
import { MAX_DIRECT_RESPONSE_BODY_BYTES, byName, domainName } from './util.js';

/** SortVHostRoutes: catch-all routes move to the end, others keep their order. */
function sortRoutes(routes: Obj[]): Obj[] {
  return [...routes.filter((r) => !isCatchAllRoute(r)), ...routes.filter(isCatchAllRoute)];
}

function gatewayDomains(host: string, port: number): string[] {
  return host.includes('*') ? [host] : [host, domainName(host, port)];
}

export function gatewayVirtualHosts(proxy: Proxy, push: PushContext, servers: readonly GatewayServer[]): Obj[] {
  const vhosts = new Map<string, Obj>();
  const routeCache = new Map<string, Obj[]>();
  for (const gs of servers) {
    const port = gs.port;
    const redirect = gs.server.tls?.httpsRedirect === true;
    for (const vs of push.virtualServices(proxy, gs.gatewayName)) {
      const hosts = intersectHosts(serverHostsFor(gs, vs.meta.namespace), vs.spec.hosts ?? []);
      if (hosts.length === 0) continue;
      const key = `${gs.gatewayName}|${vs.meta.namespace}/${vs.meta.name}|${port}`;
      let routes = routeCache.get(key);
      if (!routes) {
        routes = buildHTTPRoutes(vs, {
          proxy,
          push,
          listenPort: port,
          gatewayNames: new Set([gs.gatewayName]),
          lookupService: (h) => push.serviceForHost(h, vs.meta.namespace) ?? push.serviceForHost(h, proxy.namespace),
          isTLS: gs.server.tls !== undefined,
        });
        routeCache.set(key, routes);
      }
      if (routes.length === 0) continue;
      for (const raw of hosts) {
        const h = raw.toLowerCase();
        const existing = vhosts.get(h);
        if (existing) {
          existing.routes = [...(existing.routes as Obj[]), ...routes];
          if (redirect) existing.require_tls = 'ALL';
          continue;
        }
        const vh: Obj = { name: domainName(h, port), domains: gatewayDomains(h, port), routes: [...routes], include_request_attempt_count: true };
        if (redirect) vh.require_tls = 'ALL';
        vhosts.set(h, vh);
      }
    }
    if (redirect) {
      for (const raw of gs.server.hosts ?? []) {
        const h = raw.slice(raw.indexOf('/') + 1).toLowerCase();
        const existing = vhosts.get(h);
        if (existing) existing.require_tls = 'ALL';
        else vhosts.set(h, { name: domainName(h, port), domains: gatewayDomains(h, port), include_request_attempt_count: true, require_tls: 'ALL' });
      }
    }
  }
  if (vhosts.size === 0) {
    // Empty route list: Envoy answers 404 NR.
    return [{ name: domainName('blackhole', servers[0]?.port ?? 0), domains: ['*'], routes: [] }];
  }
  const out = [...vhosts.values()];
  for (const v of out) if (Array.isArray(v.routes)) v.routes = sortRoutes(v.routes as Obj[]);
  return out.sort(byName);
}

/** RouteConfiguration for a router proxy's RDS name; an empty configuration for names no server uses. */
export function gatewayRouteConfig(proxy: Proxy, push: PushContext, routeName: string): Obj {
  const servers = gatewayServers(proxy, push).filter((s) => s.routeName === routeName);
  if (servers.length === 0) return emptyRouteConfig(routeName);
  return {
    name: routeName,
    virtual_hosts: gatewayVirtualHosts(proxy, push, servers),
    validate_clusters: { value: false },
    ignore_port_in_host_matching: !proxy.isGrpc,
    max_direct_response_body_size_bytes: { value: MAX_DIRECT_RESPONSE_BODY_BYTES },
  };
}

// Route configurations for proxyless gRPC (istiod's grpcgen BuildHTTPRoutes): RDS `outbound|PORT||HOST` (or `host:port`)
// → the service's virtual host, domains with ports (gRPC matches the target authority `host:port`), VirtualService routes
// as for sidecars. grpc-js-xds rejects a whole RouteConfiguration for one route it cannot run (redirect, direct
// response) or one per-route filter config it does not know (CORS), so those are left out here.
import type { Proxy, PushContext } from '../../model/types.js';
import { egressListenerForPort, egressListeners } from '../route/egress.js';
import { sidecarVirtualHosts } from '../route/sidecar.js';
import type { Obj } from '../route/util.js';
import { NAME, domainName } from '../route/util.js';
import { parseRouteName } from './names.js';

/**
 * Routes as grpc-js-xds can run them: route actions only (redirect/direct_response NACK the configuration), no
 * query-parameter or JWT-claim matches (ignored by gRPC, so such a route would match every call), fault as the only
 * per-filter config (CORS NACKs), weighted clusters with a positive sum.
 */
function grpcRoutes(routes: readonly Obj[]): Obj[] {
  const out: Obj[] = [];
  for (const r of routes) {
    const action = r.route as Obj | undefined;
    if (!action) continue;
    const m = (r.match ?? {}) as Obj;
    if (Array.isArray(m.query_parameters) || Array.isArray(m.dynamic_metadata)) continue;
    const wc = action.weighted_clusters as { clusters?: { weight?: { value?: number } }[] } | undefined;
    if (wc && (wc.clusters ?? []).reduce((s, c) => s + (c.weight?.value ?? 0), 0) === 0) continue;
    const copy: Obj = { ...r };
    const pf = r.typed_per_filter_config as Obj | undefined;
    if (pf) {
      const fault = pf[NAME.Fault];
      if (fault) copy.typed_per_filter_config = { [NAME.Fault]: fault };
      else delete copy.typed_per_filter_config;
    }
    out.push(copy);
  }
  return out;
}

/** One RouteConfiguration for a gRPC route name, or undefined when the name is not a service route name. */
export function grpcRouteConfig(proxy: Proxy, push: PushContext, name: string): Obj | undefined {
  const target = parseRouteName(name, proxy);
  if (!target) return undefined;
  const listener = egressListenerForPort(egressListeners(proxy, push), target.port);
  const vhosts = listener ? sidecarVirtualHosts(proxy, push, listener, target.port, true) : [];
  const wanted = domainName(target.host, target.port);
  const vh = vhosts.find((v) => v.name === wanted);
  // An unknown host gets an empty configuration: RPCs then fail fast ("no matching virtual host") instead of hanging.
  const virtualHosts = vh ? [{ ...vh, routes: grpcRoutes(vh.routes as Obj[]) }] : [];
  return { name, virtual_hosts: virtualHosts, validate_clusters: { value: false } };
}

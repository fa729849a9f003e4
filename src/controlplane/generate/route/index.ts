// RDS generator: sidecar outbound route configurations by port, gateway route configurations (`http.PORT`, `https.…`)
// and proxyless gRPC route configurations (`outbound|PORT||HOST`), the way istiod builds them.
import { TypeUrl } from '../../../xds/types.js';
import type { Proxy, PushContext } from '../../model/types.js';
import { grpcRouteConfig } from '../grpc/rds.js';
import { buildListeners, routeNamesOf } from '../listener/index.js';
import type { Generator, GenerateRequest, Resource } from '../types.js';
import { gatewayRouteConfig } from './gateway.js';
import { sidecarRouteConfig } from './sidecar.js';
import type { Obj } from './util.js';

/** One route configuration by name for this proxy, or undefined when the name means nothing to it (gRPC only). */
export function buildRouteConfig(proxy: Proxy, push: PushContext, name: string): Obj | undefined {
  if (proxy.isGrpc) return grpcRouteConfig(proxy, push, name);
  if (proxy.type === 'router') return gatewayRouteConfig(proxy, push, name);
  return sidecarRouteConfig(proxy, push, name);
}

export const routeGenerator: Generator = {
  typeUrl: TypeUrl.RouteConfiguration,
  generate(proxy: Proxy, push: PushContext, request: GenerateRequest): Resource[] {
    // RDS is a named subscription; a wildcard request (debug, config dump) gets every name the listeners use.
    const names = request.names ?? routeNamesOf(buildListeners(proxy, push));
    const out: Resource[] = [];
    for (const name of names) {
      const rc = buildRouteConfig(proxy, push, name);
      if (rc) out.push({ name, resource: rc });
    }
    return out;
  },
};

export { sidecarRouteConfig } from './sidecar.js';
export { gatewayRouteConfig } from './gateway.js';

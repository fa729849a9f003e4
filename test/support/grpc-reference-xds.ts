// Reference xDS resources in the shape istiod's grpcgen serves to proxyless gRPC clients (GENERATOR=grpc), as plain
// objects for src/xds/codec.ts: what @grpc/grpc-js-xds is known to accept (see test/e2e/GRPC-XDS-NOTES.md).
import { TypeUrl } from '../../src/xds/types.js';

export const HCM_URL = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const ROUTER_URL = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
export const FAULT_URL = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';
export const FAULT_FILTER = 'envoy.filters.http.fault';
export { TypeUrl };

/** Istio's default retry policy (VirtualService without `retries`). */
export const ISTIO_DEFAULT_RETRY = {
  retry_on: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
  num_retries: { value: 2 },
};

/** istiod's RDS name for a proxyless client's listener `host:port`: the default cluster key. */
export function routeName(hostPort: string): string {
  const [host, port] = splitHostPort(hostPort);
  return `outbound|${port}||${host}`;
}

/** LDS: the API listener named `host:port`, HCM with RDS over ADS and [fault, router] filters. */
export function apiListener(hostPort: string, o: { httpFilters?: object[] } = {}): object {
  const [host, port] = splitHostPort(hostPort);
  return {
    name: hostPort,
    address: { socket_address: { address: host, port_value: port } },
    api_listener: {
      api_listener: {
        '@type': HCM_URL,
        rds: { config_source: { ads: {}, resource_api_version: 'V3' }, route_config_name: routeName(hostPort) },
        http_filters: o.httpFilters ?? [
          { name: FAULT_FILTER, typed_config: { '@type': FAULT_URL } },
          { name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER_URL } },
        ],
      },
    },
  };
}

/** RDS: one virtual host with every domain form of `host:port`, and the given routes. */
export function routeConfig(hostPort: string, routes: object[]): object {
  const [host, port] = splitHostPort(hostPort);
  const short = host.split('.')[0] ?? host;
  const domains = [host, `${host}:${port}`, short, `${short}:${port}`];
  return { name: routeName(hostPort), virtual_hosts: [{ name: hostPort, domains, routes }], validate_clusters: { value: false } };
}

/** A route to one cluster, Istio style (prefix "/", default retry policy unless given). */
export function clusterRoute(cluster: string, o: { match?: object; retry?: object | null; fault?: object; name?: string } = {}): object {
  const action: Record<string, unknown> = { cluster, max_stream_duration: { max_stream_duration: { seconds: 0 }, grpc_timeout_header_max: { seconds: 0 } } };
  if (o.retry !== null) action['retry_policy'] = o.retry ?? ISTIO_DEFAULT_RETRY;
  const r: Record<string, unknown> = { name: o.name ?? 'default', match: o.match ?? { prefix: '/' }, route: action };
  if (o.fault) r['typed_per_filter_config'] = { [FAULT_FILTER]: { '@type': FAULT_URL, ...o.fault } };
  return r;
}

/** CDS: an EDS cluster over ADS with service_name = its own name (istiod's edsCluster()). */
export function edsCluster(name: string, extra: object = {}): object {
  return { name, type: 'EDS', eds_cluster_config: { service_name: name, eds_config: { ads: {}, resource_api_version: 'V3' } }, ...extra };
}

/** EDS: one locality (present, weighted) holding the given loopback endpoints. */
export function loadAssignment(name: string, endpoints: { address: string; port: number }[], o: { localityWeight?: number | null } = {}): object {
  const locality: Record<string, unknown> = {
    locality: {},
    lb_endpoints: endpoints.map((e) => ({
      endpoint: { address: { socket_address: { address: e.address, port_value: e.port } } },
      health_status: 'HEALTHY',
      load_balancing_weight: { value: 1 },
    })),
  };
  if (o.localityWeight !== null) locality['load_balancing_weight'] = { value: o.localityWeight ?? endpoints.length };
  return { cluster_name: name, endpoints: [locality] };
}

function splitHostPort(hp: string): [string, number] {
  const i = hp.lastIndexOf(':');
  return [hp.slice(0, i), Number(hp.slice(i + 1))];
}

// Network and listener filters as Istio configures them: the HTTP connection manager (RDS or inline routes, filter
// chain fault → cors → router), tcp_proxy, and the tls/http/original-destination listener filters.
import type { Obj } from '../route/util.js';
import { NAME, TYPE, ZERO_DURATION, adsConfigSource, typed } from '../route/util.js';

/** HTTP filters every Isthmus HCM carries: per-route fault and CORS configs need their filters; the router is last. */
export function httpFilters(): Obj[] {
  return [typed(NAME.Fault, TYPE.Fault), typed(NAME.Cors, TYPE.Cors), typed(NAME.Router, TYPE.Router)];
}

export type HcmClass = 'sidecar-outbound' | 'sidecar-inbound' | 'gateway';

export interface HcmOptions {
  statPrefix: string;
  class: HcmClass;
  /** RDS route configuration name (outbound and gateways). */
  rds?: string;
  /** Inline RouteConfiguration (inbound). */
  routeConfig?: Obj;
  /**
   * Istio's HTTP_PROXY egress port: absolute-URI requests (`http_protocol_options.allow_absolute_url`) and CONNECT
   * tunnels (`upgrade_configs` CONNECT) besides WebSocket.
   */
  httpProxy?: boolean;
}

/** The envoy.filters.network.http_connection_manager network filter. */
export function httpConnectionManager(o: HcmOptions): Obj {
  const cfg: Obj = { '@type': TYPE.HCM, stat_prefix: o.statPrefix };
  if (o.rds !== undefined) cfg.rds = { config_source: adsConfigSource(), route_config_name: o.rds };
  else if (o.routeConfig) cfg.route_config = o.routeConfig;
  cfg.http_filters = httpFilters();
  cfg.use_remote_address = { value: o.class === 'gateway' };
  cfg.generate_request_id = { value: true };
  cfg.upgrade_configs = [{ upgrade_type: 'websocket' }];
  if (o.httpProxy) {
    cfg.http_protocol_options = { allow_absolute_url: { value: true } };
    (cfg.upgrade_configs as Obj[]).push({ upgrade_type: 'CONNECT' });
  }
  cfg.stream_idle_timeout = ZERO_DURATION;
  cfg.normalize_path = { value: true };
  cfg.path_with_escaped_slashes_action = 'KEEP_UNCHANGED';
  if (o.class === 'sidecar-inbound') {
    cfg.server_name = 'istio-envoy';
    cfg.forward_client_cert_details = 'APPEND_FORWARD';
    cfg.set_current_client_cert_details = { subject: { value: true }, dns: true, uri: true };
  } else if (o.class === 'gateway') {
    cfg.server_name = 'istio-envoy';
    cfg.forward_client_cert_details = 'SANITIZE_SET';
    cfg.set_current_client_cert_details = { subject: { value: true }, cert: true, dns: true, uri: true };
  }
  return { name: NAME.HCM, typed_config: cfg };
}

/** tcp_proxy to one cluster. */
export function tcpProxy(statPrefix: string, cluster: string): Obj {
  return { name: NAME.TcpProxy, typed_config: { '@type': TYPE.TcpProxy, stat_prefix: statPrefix, cluster } };
}

/** tcp_proxy splitting connections over weighted clusters. */
export function tcpProxyWeighted(statPrefix: string, clusters: { name: string; weight: number }[]): Obj {
  return { name: NAME.TcpProxy, typed_config: { '@type': TYPE.TcpProxy, stat_prefix: statPrefix, weighted_clusters: { clusters } } };
}

export const tlsInspector = (): Obj => typed(NAME.TlsInspector, TYPE.TlsInspector);
export const httpInspector = (): Obj => typed(NAME.HttpInspector, TYPE.HttpInspector);
export const originalDst = (): Obj => typed(NAME.OriginalDst, TYPE.OriginalDst);

/** ALPN values http_inspector reports for plaintext HTTP (Istio's plaintext HTTP filter chain match). */
export const PLAINTEXT_HTTP_ALPNS = ['http/1.0', 'http/1.1', 'h2c'];

/** How long listener filters may sniff before the connection continues unsniffed (Istio's protocolDetectionTimeout 100ms). */
export const SNIFF_TIMEOUT = { seconds: 0, nanos: 100_000_000 };

export function socketAddress(address: string, port: number): Obj {
  return { socket_address: { address, port_value: port } };
}

// connectionPool and outlierDetection → circuit breakers, timeouts, HTTP protocol options, keepalive, outlier ejection
// (Istio's applyConnectionPool / applyH2Upgrade / applyOutlierDetection in cluster_traffic_policy.go).
import type { ConnectionPoolSettings, OutlierDetection } from '../../../api/types/networking.js';
import type { ServicePort } from '../../model/types.js';
import { httpOptions, isHttp2, isHttpProtocol, setH2, setUseDownstream, type ClusterDraft } from './draft.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, MAX_UINT32, duration, seconds, u32, type Obj } from './util.js';
import { durationMs } from '../../../xds/codec.js';

/** meshConfig.h2UpgradePolicy default. */
const MESH_H2_UPGRADE_POLICY: 'DO_NOT_UPGRADE' | 'UPGRADE' = 'DO_NOT_UPGRADE';

/** Istio's getDefaultCircuitBreakerThresholds: everything unlimited, track_remaining on. */
function defaultThresholds(): Obj {
  return { max_connections: u32(MAX_UINT32), max_pending_requests: u32(MAX_UINT32), max_requests: u32(MAX_UINT32), max_retries: u32(MAX_UINT32), track_remaining: true };
}

function applyKeepalive(c: Obj, ka: NonNullable<NonNullable<ConnectionPoolSettings['tcp']>['tcpKeepalive']> | undefined): void {
  if (!ka) return;
  const opts = (c.upstream_connection_options ??= { tcp_keepalive: {} }) as Obj;
  const k = opts.tcp_keepalive as Obj;
  if (ka.probes && ka.probes > 0) k.keepalive_probes = u32(ka.probes);
  const time = seconds(ka.time);
  if (time !== undefined) k.keepalive_time = u32(time);
  const interval = seconds(ka.interval);
  if (interval !== undefined) k.keepalive_interval = u32(interval);
}

/**
 * Applies connection-pool settings (an empty object still sets connect_timeout and the default circuit breakers, as
 * Istio does for every cluster).
 */
export function applyConnectionPool(d: ClusterDraft, settings: ConnectionPoolSettings): void {
  const c = d.c;
  const t = defaultThresholds();
  let idle: string | undefined;
  let maxReqPerConn = 0;
  let maxStreams = 0;
  let maxConnDuration: string | undefined;
  const http = settings.http;
  if (http) {
    if (http.http2MaxRequests && http.http2MaxRequests > 0) t.max_requests = u32(http.http2MaxRequests);
    if (http.http1MaxPendingRequests && http.http1MaxPendingRequests > 0) t.max_pending_requests = u32(http.http1MaxPendingRequests);
    if (http.maxRetries && http.maxRetries > 0) t.max_retries = u32(http.maxRetries);
    idle = http.idleTimeout;
    maxReqPerConn = http.maxRequestsPerConnection ?? 0;
    maxStreams = http.maxConcurrentStreams ?? 0;
  }
  c.connect_timeout = durationMs(DEFAULT_CONNECT_TIMEOUT_MS);
  const tcp = settings.tcp;
  if (tcp) {
    const ct = duration(tcp.connectTimeout);
    if (ct) c.connect_timeout = ct;
    if (tcp.maxConnections && tcp.maxConnections > 0) t.max_connections = u32(tcp.maxConnections);
    if (tcp.maxConnectionDuration !== undefined) maxConnDuration = tcp.maxConnectionDuration;
    idle ??= tcp.idleTimeout;
  }
  applyKeepalive(c, tcp?.tcpKeepalive);
  c.circuit_breakers = { thresholds: [t] };

  const idleD = duration(idle);
  const durD = duration(maxConnDuration);
  if (idleD || durD || maxReqPerConn > 0 || maxStreams > 0) {
    const o = httpOptions(d);
    const common = (o.common_http_protocol_options ??= {}) as Obj;
    if (idleD) common.idle_timeout = idleD;
    if (maxReqPerConn > 0) common.max_requests_per_connection = u32(maxReqPerConn);
    if (durD) common.max_connection_duration = durD;
    if (isHttp2(d) && maxStreams > 0) {
      const explicit = o.explicit_http_config as Obj;
      explicit.http2_protocol_options = { ...(explicit.http2_protocol_options as Obj), max_concurrent_streams: u32(maxStreams) };
    }
  }
  if (http?.useClientProtocol) setUseDownstream(d);
}

/**
 * h2UpgradePolicy (Istio's shouldH2Upgrade): UPGRADE forces HTTP/2 upstream; otherwise only HTTP ports follow the mesh
 * default, which is DO_NOT_UPGRADE, so nothing changes.
 */
export function applyH2Upgrade(d: ClusterDraft, port: ServicePort, settings: ConnectionPoolSettings | undefined): void {
  const policy = settings?.http?.h2UpgradePolicy;
  if (policy === 'UPGRADE') setH2(d);
  else if (policy === undefined && isHttpProtocol(port.protocol) && MESH_H2_UPGRADE_POLICY === 'UPGRADE') setH2(d);
}

/** Port protocol → upstream protocol (Istio's setUpstreamProtocol): h2 for HTTP2/GRPC, downstream's for unknown protocols. */
export function setUpstreamProtocol(d: ClusterDraft, port: ServicePort, sidecar: boolean): void {
  if (port.protocol === 'HTTP2' || port.protocol === 'GRPC' || port.protocol === 'GRPC-WEB') setH2(d);
  else if (sidecar && port.protocol === 'UNSUPPORTED') setUseDownstream(d);
}

/**
 * outlierDetection → Cluster.outlier_detection, with success-rate ejection disabled and the panic threshold set to
 * minHealthPercent (0 by default: Istio disables panic mode), as Istio's applyOutlierDetection.
 */
export function applyOutlierDetection(c: Obj, od: OutlierDetection | undefined): void {
  if (!od) return;
  const out: Obj = { enforcing_success_rate: u32(0) };
  const c5xx = od.consecutive5xxErrors;
  const gw = od.consecutiveGatewayErrors;
  if (c5xx !== undefined) {
    out.consecutive_5xx = u32(c5xx);
    out.enforcing_consecutive_5xx = u32(c5xx > 0 ? 100 : 0);
  }
  if (gw !== undefined) {
    out.consecutive_gateway_failure = u32(gw);
    out.enforcing_consecutive_gateway_failure = u32(gw > 0 ? 100 : 0);
  }
  if (c5xx === undefined && gw === undefined && od.consecutiveErrors !== undefined && od.consecutiveErrors > 0) {
    // Deprecated consecutiveErrors meant gateway errors only (istio/api#617).
    out.consecutive_gateway_failure = u32(od.consecutiveErrors);
    out.enforcing_consecutive_gateway_failure = u32(100);
    out.enforcing_consecutive_5xx = u32(0);
  }
  const interval = duration(od.interval);
  if (interval) out.interval = interval;
  const base = duration(od.baseEjectionTime);
  if (base) out.base_ejection_time = base;
  if (od.maxEjectionPercent && od.maxEjectionPercent > 0) out.max_ejection_percent = u32(od.maxEjectionPercent);
  if (od.splitExternalLocalOriginErrors) {
    out.split_external_local_origin_errors = true;
    if (od.consecutiveLocalOriginFailures && od.consecutiveLocalOriginFailures > 0) {
      out.consecutive_local_origin_failure = u32(od.consecutiveLocalOriginFailures);
      out.enforcing_consecutive_local_origin_failure = u32(100);
    }
    out.enforcing_local_origin_success_rate = u32(0);
  }
  c.outlier_detection = out;
  const min = od.minHealthPercent ?? 0;
  if (min >= 0) {
    const common = (c.common_lb_config ?? {}) as Obj;
    common.healthy_panic_threshold = { value: min };
    c.common_lb_config = common;
  }
}

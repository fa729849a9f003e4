// CDS: Cluster bytes → Cluster (discovery type, load balancing, circuit breakers, outlier detection, upstream HTTP
// protocol options, upstream TLS, bind address, inline endpoints), with Envoy's defaults for everything unset.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/cluster.proto
import { TypeUrl } from '../../../xds/types.js';
import type { CircuitBreakerThresholds, Cluster, Decoded, DiscoveryType, LbPolicy, OutlierDetectionConfig } from '../types.js';
import { loadAssignmentFromObject } from './endpoint.js';
import { lbFromPolicy } from './lb-policy.js';
import { upstreamTls } from './tls.js';
import type { DecodeContext, Rec } from './util.js';
import { Problems, at, bytesHash, decodeView, defaultDecodeContext, durMs, enumStr, list, msg, rec, str, unpackAny, wrappedNum } from './util.js';

/** Envoy defaults. */
export const CLUSTER_DEFAULTS = {
  connectTimeoutMs: 5_000,
  circuitBreakers: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 },
  upstreamIdleTimeoutMs: 3_600_000,
  dnsRefreshRateMs: 5_000,
  ringHash: { minRingSize: 1024, maxRingSize: 8 * 1024 * 1024 },
  maglevTableSize: 65537,
  leastRequestChoiceCount: 2,
} as const;

const HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
const TYPES = new Set<DiscoveryType>(['EDS', 'STATIC', 'STRICT_DNS', 'LOGICAL_DNS', 'ORIGINAL_DST']);
const LB_POLICIES = new Set(['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'RING_HASH', 'MAGLEV', 'CLUSTER_PROVIDED', 'LOAD_BALANCING_POLICY_CONFIG']);

/** The DEFAULT-priority thresholds (the proxy has no HIGH-priority routes). */
function circuitBreakers(cb: Rec | undefined): CircuitBreakerThresholds {
  const d = CLUSTER_DEFAULTS.circuitBreakers;
  const th = list(cb ?? {}, 'thresholds').find((t) => enumStr(t, 'priority', 'DEFAULT') === 'DEFAULT');
  if (!th) return { ...d };
  return {
    maxConnections: wrappedNum(th, 'max_connections') ?? d.maxConnections,
    maxPendingRequests: wrappedNum(th, 'max_pending_requests') ?? d.maxPendingRequests,
    maxRequests: wrappedNum(th, 'max_requests') ?? d.maxRequests,
    maxRetries: wrappedNum(th, 'max_retries') ?? d.maxRetries,
  };
}

function outlierDetection(o: Rec, path: string, p: Problems): OutlierDetectionConfig {
  const pct = (k: string, dflt: number): number => {
    const v = wrappedNum(o, k) ?? dflt;
    if (v > 100) p.add(at(path, k), `${v} is more than 100`);
    return v;
  };
  return {
    consecutive5xx: wrappedNum(o, 'consecutive_5xx') ?? 5,
    consecutiveGatewayFailure: wrappedNum(o, 'consecutive_gateway_failure') ?? 5,
    consecutiveLocalOriginFailure: wrappedNum(o, 'consecutive_local_origin_failure') ?? 5,
    enforcingConsecutive5xx: pct('enforcing_consecutive_5xx', 100),
    enforcingConsecutiveGatewayFailure: pct('enforcing_consecutive_gateway_failure', 0),
    intervalMs: durMs(o, 'interval') ?? 10_000,
    baseEjectionTimeMs: durMs(o, 'base_ejection_time') ?? 30_000,
    maxEjectionPercent: pct('max_ejection_percent', 10),
    splitExternalLocalOriginErrors: o.split_external_local_origin_errors === true,
  };
}

interface HttpOptions {
  protocol: Cluster['protocol'];
  idleTimeoutMs: number;
  maxRequestsPerConnection: number;
  maxConnectionDurationMs: number;
  autoSni: boolean;
}

/** typed_extension_protocol_options[HttpProtocolOptions], falling back to the deprecated Cluster-level fields. */
function httpOptions(c: Rec, p: Problems): HttpOptions {
  const legacyCommon = msg(c, 'common_http_protocol_options') ?? {};
  const out: HttpOptions = {
    protocol: msg(c, 'http2_protocol_options') ? 'http2' : 'http1',
    idleTimeoutMs: durMs(legacyCommon, 'idle_timeout') ?? CLUSTER_DEFAULTS.upstreamIdleTimeoutMs,
    maxRequestsPerConnection: wrappedNum(c, 'max_requests_per_connection') ?? wrappedNum(legacyCommon, 'max_requests_per_connection') ?? 0,
    maxConnectionDurationMs: durMs(legacyCommon, 'max_connection_duration') ?? 0,
    autoSni: false,
  };
  const opts = rec(c.typed_extension_protocol_options);
  const path = `typed_extension_protocol_options[${HTTP_PROTOCOL_OPTIONS}]`;
  const a = unpackAny(rec(opts?.[HTTP_PROTOCOL_OPTIONS]));
  if (!a) return out;
  if (a.error || !a.fields) {
    p.add(path, a.error ?? `unexpected type ${a.type}`);
    return out;
  }
  const h = a.fields;
  if (a.type !== HTTP_PROTOCOL_OPTIONS) p.add(path, `unexpected type ${a.type}`);
  const explicit = msg(h, 'explicit_http_config');
  if (explicit) {
    if (msg(explicit, 'http3_protocol_options')) p.add(at(path, 'explicit_http_config.http3_protocol_options'), 'HTTP/3 upstreams are not supported');
    out.protocol = msg(explicit, 'http2_protocol_options') ? 'http2' : 'http1';
  } else if (msg(h, 'use_downstream_protocol_config')) {
    if (msg(msg(h, 'use_downstream_protocol_config') ?? {}, 'http3_protocol_options')) p.add(at(path, 'use_downstream_protocol_config.http3_protocol_options'), 'HTTP/3 upstreams are not supported');
    out.protocol = 'downstream';
  } else if (msg(h, 'auto_config')) {
    p.add(at(path, 'auto_config'), 'ALPN-selected upstream protocols are not supported');
  }
  const common = msg(h, 'common_http_protocol_options');
  if (common) {
    out.idleTimeoutMs = durMs(common, 'idle_timeout') ?? out.idleTimeoutMs;
    out.maxRequestsPerConnection = wrappedNum(common, 'max_requests_per_connection') ?? out.maxRequestsPerConnection;
    out.maxConnectionDurationMs = durMs(common, 'max_connection_duration') ?? out.maxConnectionDurationMs;
  }
  out.autoSni = msg(h, 'upstream_http_protocol_options')?.auto_sni === true;
  for (const k of ['http_filters', 'header_validation_config']) {
    const v = h[k];
    if (v !== undefined && !(Array.isArray(v) && v.length === 0)) p.add(at(path, k), 'not supported by the proxy');
  }
  return out;
}

/** A Cluster object → Cluster; problems go to `p`. */
export function clusterFromObject(c: Rec, p: Problems, ctx: DecodeContext, hash: string): Cluster | undefined {
  const name = str(c, 'name') ?? '';
  if (!name) p.add('name', 'cluster name is required');
  if (msg(c, 'cluster_type')) {
    p.add('cluster_type', `custom cluster type ${str(msg(c, 'cluster_type') ?? {}, 'name') ?? ''} is not supported`);
    return undefined;
  }
  const type = enumStr(c, 'type', 'STATIC') as DiscoveryType;
  if (!TYPES.has(type)) p.add('type', `discovery type ${type} is not supported`);
  let lbPolicy = enumStr(c, 'lb_policy', 'ROUND_ROBIN');
  if (!LB_POLICIES.has(lbPolicy)) p.add('lb_policy', `unknown lb_policy ${lbPolicy}`);
  const http = httpOptions(c, p);
  const out: Cluster = {
    name,
    type,
    lbPolicy: 'ROUND_ROBIN',
    localityWeighted: msg(msg(c, 'common_lb_config') ?? {}, 'locality_weighted_lb_config') !== undefined,
    connectTimeoutMs: durMs(c, 'connect_timeout') ?? CLUSTER_DEFAULTS.connectTimeoutMs,
    circuitBreakers: circuitBreakers(msg(c, 'circuit_breakers')),
    protocol: http.protocol,
    maxRequestsPerConnection: http.maxRequestsPerConnection,
    idleTimeoutMs: http.idleTimeoutMs,
    maxConnectionDurationMs: http.maxConnectionDurationMs,
    hash,
  };
  const policy = msg(c, 'load_balancing_policy');
  if (policy) {
    const lb = lbFromPolicy(policy, 'load_balancing_policy', p);
    if (lb) {
      lbPolicy = lb.policy;
      Object.assign(out, lb.extra);
      if (lb.localityWeighted) out.localityWeighted = true;
    }
  } else if (lbPolicy === 'LOAD_BALANCING_POLICY_CONFIG') {
    p.add('load_balancing_policy', 'required when lb_policy is LOAD_BALANCING_POLICY_CONFIG');
  }
  if (LB_POLICIES.has(lbPolicy) && lbPolicy !== 'LOAD_BALANCING_POLICY_CONFIG') out.lbPolicy = lbPolicy as LbPolicy;
  if (!policy) {
    const rh = msg(c, 'ring_hash_lb_config');
    if (out.lbPolicy === 'RING_HASH') {
      out.ringHash = {
        minRingSize: wrappedNum(rh ?? {}, 'minimum_ring_size') ?? CLUSTER_DEFAULTS.ringHash.minRingSize,
        maxRingSize: wrappedNum(rh ?? {}, 'maximum_ring_size') ?? CLUSTER_DEFAULTS.ringHash.maxRingSize,
      };
      if (out.ringHash.minRingSize > out.ringHash.maxRingSize) p.add('ring_hash_lb_config', 'minimum_ring_size is larger than maximum_ring_size');
    }
    if (out.lbPolicy === 'MAGLEV') out.maglev = { tableSize: wrappedNum(msg(c, 'maglev_lb_config') ?? {}, 'table_size') ?? CLUSTER_DEFAULTS.maglevTableSize };
    if (out.lbPolicy === 'LEAST_REQUEST') out.leastRequest = { choiceCount: wrappedNum(msg(c, 'least_request_lb_config') ?? {}, 'choice_count') ?? CLUSTER_DEFAULTS.leastRequestChoiceCount };
  }
  if (out.maglev && !isPrime(out.maglev.tableSize)) p.add('maglev_lb_config.table_size', `${out.maglev.tableSize} is not a prime number`);
  if (type === 'ORIGINAL_DST' && out.lbPolicy !== 'CLUSTER_PROVIDED') p.add('lb_policy', `LB policy ${out.lbPolicy} is not valid for cluster type ORIGINAL_DST; only CLUSTER_PROVIDED is allowed`);
  if (type !== 'ORIGINAL_DST' && out.lbPolicy === 'CLUSTER_PROVIDED') p.add('lb_policy', `CLUSTER_PROVIDED is only valid for ORIGINAL_DST clusters`);
  const panic = wrappedNum(msg(c, 'common_lb_config') ?? {}, 'healthy_panic_threshold');
  if (panic !== undefined) out.healthyPanicThresholdPercent = panic;

  if (type === 'EDS') {
    const eds = msg(c, 'eds_cluster_config') ?? {};
    const src = msg(eds, 'eds_config');
    if (src && !msg(src, 'ads') && !msg(src, 'self')) p.add('eds_cluster_config.eds_config', 'only ADS config sources are supported');
    out.edsServiceName = str(eds, 'service_name') || name;
  }
  if (type === 'STATIC' || type === 'STRICT_DNS' || type === 'LOGICAL_DNS') {
    const la = msg(c, 'load_assignment');
    out.loadAssignment = loadAssignmentFromObject(la ?? {}, 'load_assignment', p, { allowHostname: type !== 'STATIC', clusterName: name });
    if (type === 'LOGICAL_DNS') {
      const n = out.loadAssignment.localities.reduce((s, l) => s + l.endpoints.length, 0);
      if (n !== 1) p.add('load_assignment', `LOGICAL_DNS clusters must have exactly one endpoint, found ${n}`);
    }
  }
  if (type === 'STRICT_DNS' || type === 'LOGICAL_DNS') {
    out.dnsRefreshRateMs = durMs(c, 'dns_refresh_rate') ?? CLUSTER_DEFAULTS.dnsRefreshRateMs;
    out.dnsLookupFamily = enumStr(c, 'dns_lookup_family', 'AUTO');
  }
  const od = msg(c, 'outlier_detection');
  if (od) out.outlierDetection = outlierDetection(od, 'outlier_detection', p);
  const bind = msg(msg(c, 'upstream_bind_config') ?? {}, 'source_address');
  if (bind) {
    const addr = str(bind, 'address');
    if (addr) out.upstreamBindAddress = addr;
  }
  const tls = upstreamTls(msg(c, 'transport_socket'), 'transport_socket', p, ctx, http.autoSni);
  if (tls) out.tls = tls;
  if (list(c, 'transport_socket_matches').length > 0) p.add('transport_socket_matches', 'per-endpoint transport socket selection is not supported');
  if (list(c, 'health_checks').length > 0) p.add('health_checks', 'active health checking is not supported');
  return out;
}

function isPrime(n: number): boolean {
  if (n < 2 || !Number.isInteger(n)) return false;
  for (let i = 2; i * i <= n; i++) if (n % i === 0) return false;
  return true;
}

/** CDS: Cluster bytes → Cluster, or every problem as `cluster <name>: <path>: <reason>`. */
export function decodeCluster(bytes: Uint8Array, ctx: DecodeContext = defaultDecodeContext): Decoded<Cluster> {
  const view = decodeView(TypeUrl.Cluster, bytes);
  if ('error' in view) return { ok: false, errors: [`cluster: ${view.error}`] };
  const p = new Problems(`cluster ${str(view.obj, 'name') || '(unnamed)'}`);
  const c = clusterFromObject(view.obj, p, ctx, bytesHash(bytes));
  return p.ok && c ? { ok: true, value: c } : { ok: false, errors: p.list };
}

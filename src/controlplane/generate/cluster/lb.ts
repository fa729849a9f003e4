// Load-balancer settings → Cluster lb_policy/lb configs (Istio's applyLoadBalancer), and the route hash_policy
// that goes with consistentHash (Istio's consistentHashToHashPolicy), exported for the route generator.
// https://istio.io/latest/docs/reference/config/networking/destination-rule/#LoadBalancerSettings
import type { DestinationRule, LoadBalancerSettings, LocalityLoadBalancerSetting, ConsistentHashLB } from '../../../api/types/networking.js';
import { effectivePolicy } from './policy.js';
import { duration, type Obj } from './util.js';

/** Istio's meshConfig.localityLbSetting default: enabled (it only acts with outlier detection or explicit settings). */
const MESH_LOCALITY_LB: LocalityLoadBalancerSetting = { enabled: true };

/** The locality LB setting in effect (Istio's GetLocalityLbSetting): the DR's unless disabled, else the mesh default. */
export function localityLbSetting(lb: LoadBalancerSettings | undefined): LocalityLoadBalancerSetting | undefined {
  const dr = lb?.localityLbSetting;
  if (dr) return dr.enabled === false ? undefined : dr;
  return MESH_LOCALITY_LB.enabled === false ? undefined : MESH_LOCALITY_LB;
}

/**
 * Slow start (Istio's setWarmup / deprecated setSlowStartConfig): `warmup` wins over `warmupDurationSecs`; aggression
 * defaults to 1 (linear) and min weight to 10%. Istio fixes the runtime key to "(" so it cannot be overridden.
 */
function slowStart(c: Obj, lb: LoadBalancerSettings | undefined, key: 'round_robin_lb_config' | 'least_request_lb_config'): void {
  const warmup = lb?.warmup;
  if (warmup) {
    const window = duration(warmup.duration);
    const cfg: Obj = { aggression: { default_value: warmup.aggression ?? 1, runtime_key: '(' }, min_weight_percent: { value: warmup.minimumPercent ?? 10 } };
    if (window) cfg.slow_start_window = window;
    c[key] = { slow_start_config: cfg };
    return;
  }
  const window = duration(lb?.warmupDurationSecs);
  if (window) c[key] = { slow_start_config: { slow_start_window: window } };
}

/**
 * Sets lb_policy and its config on a cluster. Unset → LEAST_REQUEST (Istio's default since 1.14); ORIGINAL_DST clusters
 * are always CLUSTER_PROVIDED; PASSTHROUGH turns the cluster into ORIGINAL_DST.
 */
export function applyLoadBalancer(c: Obj, lb: LoadBalancerSettings | undefined): void {
  if (c.type === 'ORIGINAL_DST') {
    c.lb_policy = 'CLUSTER_PROVIDED';
    return;
  }
  switch (lb?.simple) {
    case 'LEAST_CONN':
    case 'LEAST_REQUEST':
      c.lb_policy = 'LEAST_REQUEST';
      slowStart(c, lb, 'least_request_lb_config');
      break;
    case 'RANDOM':
      c.lb_policy = 'RANDOM';
      break;
    case 'ROUND_ROBIN':
      c.lb_policy = 'ROUND_ROBIN';
      slowStart(c, lb, 'round_robin_lb_config');
      break;
    case 'PASSTHROUGH':
      c.lb_policy = 'CLUSTER_PROVIDED';
      c.type = 'ORIGINAL_DST';
      delete c.load_assignment;
      delete c.eds_cluster_config;
      break;
    default:
      c.lb_policy = 'LEAST_REQUEST';
      slowStart(c, lb, 'least_request_lb_config');
  }
  applyConsistentHash(c, lb?.consistentHash);
}

/** consistentHash → RING_HASH (ring_hash_lb_config) or MAGLEV (maglev_lb_config), as Istio's ApplyRingHashLoadBalancer. */
export function applyConsistentHash(c: Obj, ch: ConsistentHashLB | undefined): void {
  if (!ch) return;
  delete c.round_robin_lb_config;
  delete c.least_request_lb_config;
  if (ch.maglev) {
    c.lb_policy = 'MAGLEV';
    if (ch.maglev.tableSize) c.maglev_lb_config = { table_size: { value: ch.maglev.tableSize } };
  } else if (ch.ringHash) {
    c.lb_policy = 'RING_HASH';
    if (ch.ringHash.minimumRingSize) c.ring_hash_lb_config = { minimum_ring_size: { value: ch.ringHash.minimumRingSize } };
  } else {
    c.lb_policy = 'RING_HASH';
    c.ring_hash_lb_config = { minimum_ring_size: { value: ch.minimumRingSize || 1024 } };
  }
}

/**
 * Locality part of the cluster (Istio's applyLocalityLoadBalancer): locality_weighted_lb_config is set when a
 * distribute list is given, or when failover/failoverPriority is given and outlier detection is on (failover needs it).
 * The priorities and weights themselves are computed per endpoint group (see endpoint/locality.ts).
 */
export function applyLocalityConfig(c: Obj, lb: LoadBalancerSettings | undefined): void {
  const setting = localityLbSetting(lb);
  if (!setting) return;
  const failover = c.outlier_detection !== undefined;
  const wants = (setting.distribute?.length ?? 0) > 0 || (failover && ((setting.failover?.length ?? 0) > 0 || (setting.failoverPriority?.length ?? 0) > 0));
  if (!wants) return;
  const common = (c.common_lb_config ?? {}) as Obj;
  common.locality_weighted_lb_config = {};
  c.common_lb_config = common;
}

/** The consistentHash of cluster (port, subset) after Istio's subset/port-level merge, or undefined. */
export function consistentHashFor(dr: DestinationRule | undefined, subset: string | undefined, port: number): ConsistentHashLB | undefined {
  return effectivePolicy(dr, port, subset ?? '')?.loadBalancer?.consistentHash;
}

/**
 * The envoy.config.route.v3.RouteAction.HashPolicy a route to cluster (port, subset) of a service with DestinationRule
 * `dr` must carry for its consistentHash to take effect, or undefined when the cluster is not consistent-hashed.
 * Uses the same merged policy as the cluster itself (so route and cluster always agree).
 */
export function hashPolicyFor(dr: DestinationRule | undefined, subset: string | undefined, port: number): Obj | undefined {
  const ch = consistentHashFor(dr, subset, port);
  return ch ? hashPolicyFromConsistentHash(ch) : undefined;
}

/** Istio's consistentHashToHashPolicy. */
export function hashPolicyFromConsistentHash(ch: ConsistentHashLB): Obj | undefined {
  if (ch.httpHeaderName) return { header: { header_name: ch.httpHeaderName } };
  if (ch.httpCookie) {
    const cookie: Obj = { name: ch.httpCookie.name };
    const ttl = duration(ch.httpCookie.ttl);
    if (ttl) cookie.ttl = ttl;
    if (ch.httpCookie.path) cookie.path = ch.httpCookie.path;
    if (ch.httpCookie.attributes?.length) cookie.attributes = ch.httpCookie.attributes.map((a) => (a.value !== undefined ? { name: a.name, value: a.value } : { name: a.name }));
    return { cookie };
  }
  if (ch.useSourceIp) return { connection_properties: { source_ip: true } };
  if (ch.httpQueryParameterName) return { query_parameter: { name: ch.httpQueryParameterName } };
  return undefined;
}

// Clusters for proxyless gRPC clients (node metadata GENERATOR=grpc), as istiod's grpcgen builds them: only the clusters
// the client asked for, always EDS (or LOGICAL_DNS for DNS services), with only what @grpc/grpc-js-xds accepts —
// lb_policy ROUND_ROBIN or RING_HASH, outlier detection, max_requests, ISTIO_MUTUAL via certificate providers.
import type { Proxy, PushContext, Service } from '../../model/types.js';
import { clusterName, parseClusterName } from '../../../xds/types.js';
import { buildLoadAssignment } from '../endpoint/assignment.js';
import { applyOutlierDetection } from './connpool.js';
import { effectivePolicy, findSubset } from './policy.js';
import { applyGrpcTls } from './tls.js';
import { serviceAccounts } from './outbound.js';
import { u32, type Obj } from './util.js';

function grpcCluster(proxy: Proxy, push: PushContext, svc: Service, portNumber: number, subset: string): Obj | undefined {
  const port = svc.ports.find((p) => p.port === portNumber);
  if (!port) return undefined;
  const dr = push.destinationRule(proxy, svc.hostname)?.spec;
  const ss = findSubset(dr, subset);
  if (subset && !ss) return undefined;
  const name = clusterName('outbound', portNumber, subset, svc.hostname);
  const policy = effectivePolicy(dr, portNumber, subset);
  let c: Obj;
  if (svc.resolution === 'DNS' || svc.resolution === 'DNS_ROUND_ROBIN') {
    const eps = ss ? push.endpoints(svc, portNumber, ss.labels ?? {}) : push.endpoints(svc, portNumber);
    const la = buildLoadAssignment(eps, { clusterName: name, proxy, outlierDetection: false, single: true });
    if ((la.endpoints as Obj[]).length === 0) return undefined;
    c = { name, type: 'LOGICAL_DNS', load_assignment: la };
  } else {
    c = { name, type: 'EDS', eds_cluster_config: { service_name: name, eds_config: { ads: {}, resource_api_version: 'V3' } } };
  }
  // Only ROUND_ROBIN and RING_HASH exist for gRPC; other simple policies fall back to ROUND_ROBIN (istiod warns too),
  // and MAGLEV becomes RING_HASH.
  c.lb_policy = 'ROUND_ROBIN';
  const ch = policy?.loadBalancer?.consistentHash;
  if (ch) {
    c.lb_policy = 'RING_HASH';
    const min = ch.ringHash?.minimumRingSize || ch.minimumRingSize;
    if (min) c.ring_hash_lb_config = { minimum_ring_size: { value: min } };
  }
  applyOutlierDetection(c, policy?.outlierDetection);
  delete c.common_lb_config;
  const maxRequests = policy?.connectionPool?.http?.http2MaxRequests;
  if (maxRequests && maxRequests > 0) c.circuit_breakers = { thresholds: [{ max_requests: u32(maxRequests) }] };
  applyGrpcTls(c, policy?.tls, () => serviceAccounts(svc, push.endpoints(svc, portNumber)));
  return c;
}

/**
 * gRPC CDS: the named clusters (`outbound|PORT|SUBSET|HOST`) the client subscribed to, or — for a wildcard request —
 * every default and subset cluster of every visible service. Unknown names are left out (the client then sees them
 * as not existing).
 */
export function buildGrpcClusters(proxy: Proxy, push: PushContext, visible: ReadonlyMap<string, Service>, names: readonly string[] | undefined): Obj[] {
  const out: Obj[] = [];
  if (names === undefined) {
    for (const svc of visible.values()) {
      const dr = push.destinationRule(proxy, svc.hostname)?.spec;
      for (const p of svc.ports) {
        if (p.protocol === 'UDP') continue;
        for (const subset of ['', ...(dr?.subsets ?? []).map((s) => s.name)]) {
          const c = grpcCluster(proxy, push, svc, p.port, subset);
          if (c) out.push(c);
        }
      }
    }
    return out;
  }
  for (const n of new Set(names)) {
    const parsed = parseClusterName(n);
    if (!parsed || parsed.direction !== 'outbound') continue;
    const svc = visible.get(parsed.host);
    if (!svc) continue;
    const c = grpcCluster(proxy, push, svc, parsed.port, parsed.subset);
    if (c) out.push(c);
  }
  return out;
}

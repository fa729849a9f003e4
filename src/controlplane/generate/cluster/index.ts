// CDS generator: Istio's cluster set for a proxy — outbound clusters of every visible service (and its DestinationRule
// subsets), BlackHole/Passthrough clusters, and a sidecar's inbound clusters; proxyless gRPC gets grpcgen's variant.
import type { Proxy, PushContext, Service } from '../../model/types.js';
import { TypeUrl } from '../../../xds/types.js';
import type { GenerateRequest, Generator, Resource } from '../types.js';
import { buildGrpcClusters } from './grpc.js';
import { blackHoleCluster, buildInboundClusters, inboundPassthroughCluster, passthroughCluster } from './inbound.js';
import { buildServiceClusters } from './outbound.js';
import type { Obj } from './util.js';

export { hashPolicyFor, consistentHashFor, hashPolicyFromConsistentHash } from './lb.js';
export { effectivePolicy } from './policy.js';

/** Visible services by hostname (first wins, as Istio keeps the first of duplicate cluster names). */
export function visibleServices(proxy: Proxy, push: PushContext): Map<string, Service> {
  const m = new Map<string, Service>();
  for (const s of push.sidecarScope(proxy).services) if (!m.has(s.hostname)) m.set(s.hostname, s);
  return m;
}

/** Every cluster for `proxy` as plain Cluster objects (names unique, first kept). */
export function buildClusters(proxy: Proxy, push: PushContext, names?: readonly string[]): Obj[] {
  const visible = visibleServices(proxy, push);
  if (proxy.isGrpc) return buildGrpcClusters(proxy, push, visible, names);
  const out: Obj[] = [];
  for (const svc of visible.values()) out.push(...buildServiceClusters(proxy, push, svc));
  out.push(blackHoleCluster());
  if (proxy.type === 'sidecar') {
    out.push(passthroughCluster());
    out.push(...buildInboundClusters(proxy, push, push.sidecarScope(proxy)));
    out.push(inboundPassthroughCluster());
  }
  const seen = new Set<string>();
  return out.filter((c) => {
    const n = c.name as string;
    if (seen.has(n)) return false;
    seen.add(n);
    return true;
  });
}

export const clusterGenerator: Generator = {
  typeUrl: TypeUrl.Cluster,
  generate(proxy: Proxy, push: PushContext, request: GenerateRequest): Resource[] {
    return buildClusters(proxy, push, request.names).map((c) => ({ name: c.name as string, resource: c }));
  },
};

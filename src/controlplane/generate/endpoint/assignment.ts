// Builds one ClusterLoadAssignment from a service port's endpoints for one proxy (Istio's EndpointBuilder):
// healthy endpoints grouped by locality, weighted, with Istio's endpoint metadata, then locality LB applied.
import type { LoadBalancerSettings } from '../../../api/types/networking.js';
import type { Endpoint, Proxy } from '../../model/types.js';
import { toStruct } from '../../../xds/codec.js';
import { localityLbSetting } from '../cluster/lb.js';
import { parseLocality, socketAddress, u32, type Obj } from '../cluster/util.js';
import { applyLocalityLb, type LocalityGroup } from './locality.js';

export interface AssignmentOptions {
  clusterName: string;
  proxy: Proxy;
  /** The effective loadBalancer settings of the cluster (after subset/port-level merge). */
  loadBalancer?: LoadBalancerSettings | undefined;
  /** Whether the effective policy has outlierDetection (locality failover only acts with it, as in Istio). */
  outlierDetection: boolean;
  /** LOGICAL_DNS clusters take a single endpoint. */
  single?: boolean;
}

/** Istio's kubelabels.CanonicalService: canonical name and revision from well-known labels. */
function canonical(labels: Record<string, string>, workload: string): [string, string] {
  const name = labels['service.istio.io/canonical-name'] ?? labels['app.kubernetes.io/name'] ?? labels['app'] ?? workload;
  const rev = labels['service.istio.io/canonical-revision'] ?? labels['app.kubernetes.io/version'] ?? labels['version'] ?? 'latest';
  return [name, rev];
}

/** LbEndpoint.metadata as Istio's AppendLbEndpointMetadata: tlsMode for transport socket matching, and workload info. */
function endpointMetadata(ep: Endpoint, clusterId: string): Obj {
  const fm: Obj = {};
  const tlsMode = ep.labels['security.istio.io/tlsMode'];
  if (tlsMode && tlsMode !== 'disabled') fm['envoy.transport_socket_match'] = toStruct({ tlsMode });
  const [name, rev] = canonical(ep.labels, ep.workloadName);
  const workload = [ep.workloadName, ep.namespace, name, rev === 'latest' ? '' : rev, clusterId].join(';');
  fm.istio = toStruct({ workload });
  return { filter_metadata: fm };
}

export function lbEndpoint(ep: Endpoint, clusterId: string): Obj {
  return {
    endpoint: { address: socketAddress(ep.address, ep.port) },
    health_status: 'HEALTHY',
    metadata: endpointMetadata(ep, clusterId),
    load_balancing_weight: u32(ep.weight > 0 ? ep.weight : 1),
  };
}

function compareEndpoints(a: Endpoint, b: Endpoint): number {
  if (a.address !== b.address) return a.address < b.address ? -1 : 1;
  return a.port - b.port;
}

/** Healthy, de-duplicated (by address:port), sorted endpoints, grouped by locality (sorted) with summed weights. */
export function localityGroups(endpoints: readonly Endpoint[], clusterId: string): LocalityGroup[] {
  const seen = new Set<string>();
  const byLocality = new Map<string, Endpoint[]>();
  for (const ep of [...endpoints].sort(compareEndpoints)) {
    if (!ep.healthy) continue;
    const key = `${ep.address}:${ep.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const list = byLocality.get(ep.locality) ?? [];
    list.push(ep);
    byLocality.set(ep.locality, list);
  }
  return [...byLocality.keys()].sort().map((loc) => {
    const eps = byLocality.get(loc) ?? [];
    return {
      locality: parseLocality(loc),
      lbEndpoints: eps.map((e) => lbEndpoint(e, clusterId)),
      endpoints: eps,
      weight: eps.reduce((s, e) => s + (e.weight > 0 ? e.weight : 1), 0),
      priority: 0,
    };
  });
}

function localityObj(l: LocalityGroup['locality']): Obj {
  const o: Obj = {};
  if (l.region) o.region = l.region;
  if (l.zone) o.zone = l.zone;
  if (l.sub_zone) o.sub_zone = l.sub_zone;
  return o;
}

/**
 * The ClusterLoadAssignment for `endpoints` (already narrowed to the cluster's subset). Every locality group carries
 * a locality (possibly empty) and load_balancing_weight = sum of its endpoint weights (proxyless gRPC needs both).
 */
export function buildLoadAssignment(endpoints: readonly Endpoint[], opts: AssignmentOptions): Obj {
  const proxy = opts.proxy;
  const clusterId = proxy.metadata.CLUSTER_ID ?? '';
  let groups = localityGroups(endpoints, clusterId);
  if (opts.single && groups.length > 0) {
    const g = groups[0];
    groups = [{ ...g, lbEndpoints: g.lbEndpoints.slice(0, 1), endpoints: g.endpoints.slice(0, 1), weight: g.endpoints[0]?.weight ?? 1 }];
  }
  const proxyView = { locality: parseLocality(proxy.locality), labels: proxy.labels, network: proxy.metadata.NETWORK ?? '' };
  groups = applyLocalityLb(groups, proxyView, localityLbSetting(opts.loadBalancer), opts.outlierDetection);
  const out: Obj[] = [];
  for (const g of groups) {
    if (g.lbEndpoints.length === 0) continue;
    const lle: Obj = { locality: localityObj(g.locality), lb_endpoints: g.lbEndpoints, load_balancing_weight: u32(g.weight) };
    if (g.priority > 0) lle.priority = g.priority;
    out.push(lle);
  }
  return { cluster_name: opts.clusterName, endpoints: out };
}

// EDS generator: a ClusterLoadAssignment for each requested `outbound|PORT|SUBSET|HOST` cluster, with the endpoints
// of that service port narrowed to the DestinationRule subset's labels and locality LB applied for this proxy.
import type { Proxy, PushContext, Service } from '../../model/types.js';
import { clusterName, parseClusterName, TypeUrl } from '../../../xds/types.js';
import { effectivePolicy, findSubset } from '../cluster/policy.js';
import { discoveryType } from '../cluster/outbound.js';
import type { Obj } from '../cluster/util.js';
import type { GenerateRequest, Generator, Resource } from '../types.js';
import { buildLoadAssignment } from './assignment.js';

export { buildLoadAssignment } from './assignment.js';

function visible(proxy: Proxy, push: PushContext): Map<string, Service> {
  const m = new Map<string, Service>();
  for (const s of push.sidecarScope(proxy).services) if (!m.has(s.hostname)) m.set(s.hostname, s);
  return m;
}

/** The assignment for one cluster name; an empty one (same name) when the name is unknown, since Envoy waits for a reply. */
export function loadAssignmentFor(proxy: Proxy, push: PushContext, services: ReadonlyMap<string, Service>, name: string): Obj {
  const empty = { cluster_name: name, endpoints: [] };
  const parsed = parseClusterName(name);
  if (!parsed || parsed.direction !== 'outbound') return empty;
  const svc = services.get(parsed.host);
  const port = svc?.ports.find((p) => p.port === parsed.port);
  if (!svc || !port) return empty;
  const dr = push.destinationRule(proxy, svc.hostname)?.spec;
  const subset = findSubset(dr, parsed.subset);
  if (parsed.subset && !subset) return empty;
  const eps = subset ? push.endpoints(svc, port.port, subset.labels ?? {}) : push.endpoints(svc, port.port);
  const policy = effectivePolicy(dr, port.port, parsed.subset);
  return buildLoadAssignment(eps, {
    clusterName: name,
    proxy,
    loadBalancer: policy?.loadBalancer,
    outlierDetection: policy?.outlierDetection !== undefined,
  });
}

/** Names of every EDS cluster the proxy's CDS holds (used when EDS is asked without names, e.g. for config dumps). */
function allEdsClusterNames(proxy: Proxy, push: PushContext, services: ReadonlyMap<string, Service>): string[] {
  const names: string[] = [];
  for (const svc of services.values()) {
    const dr = push.destinationRule(proxy, svc.hostname)?.spec;
    for (const p of svc.ports) {
      if (p.protocol === 'UDP') continue;
      const hasEndpoints = svc.resolution === 'NONE' && push.endpoints(svc, p.port).length > 0;
      const type = proxy.isGrpc ? (svc.resolution === 'DNS' || svc.resolution === 'DNS_ROUND_ROBIN' ? 'LOGICAL_DNS' : 'EDS') : discoveryType(proxy, svc, hasEndpoints);
      if (type !== 'EDS') continue;
      for (const subset of ['', ...(dr?.subsets ?? []).map((s) => s.name)]) {
        if (!proxy.isGrpc && effectivePolicy(dr, p.port, subset)?.loadBalancer?.simple === 'PASSTHROUGH') continue;
        names.push(clusterName('outbound', p.port, subset, svc.hostname));
      }
    }
  }
  return names;
}

export const endpointGenerator: Generator = {
  typeUrl: TypeUrl.ClusterLoadAssignment,
  generate(proxy: Proxy, push: PushContext, request: GenerateRequest): Resource[] {
    const services = visible(proxy, push);
    const names = request.names ?? allEdsClusterNames(proxy, push, services);
    const out: Resource[] = [];
    for (const name of new Set(names)) out.push({ name, resource: loadAssignmentFor(proxy, push, services, name) });
    return out;
  },
};

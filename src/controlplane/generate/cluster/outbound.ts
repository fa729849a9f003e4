// Outbound clusters of one service for an Envoy-style proxy: `outbound|PORT||HOST` plus one per DestinationRule subset,
// typed by resolution, with the DestinationRule's traffic policy applied (Istio's buildOutboundClusters/applyDestinationRule).
import type { Config } from '../../../api/config.js';
import type { DestinationRule, Subset, TrafficPolicy } from '../../../api/types/networking.js';
import type { Endpoint, Proxy, PushContext, Service, ServicePort } from '../../model/types.js';
import { clusterName } from '../../../xds/types.js';
import { buildLoadAssignment } from '../endpoint/assignment.js';
import { applyConnectionPool, applyH2Upgrade, applyOutlierDetection, setUpstreamProtocol } from './connpool.js';
import { finish, type ClusterDraft } from './draft.js';
import { applyLoadBalancer, applyLocalityConfig } from './lb.js';
import { serviceMetadata, setIstioMetadata } from './metadata.js';
import { configPath, mergeSubsetPolicy, portLevelPolicy } from './policy.js';
import { applyUpstreamTls, istioMtlsSni } from './tls.js';
import { DNS_REFRESH_RATE_MS, adsConfigSource, type Obj } from './util.js';
import { durationMs } from '../../../xds/codec.js';

export type DiscoveryType = 'EDS' | 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS' | 'ORIGINAL_DST';

/** SPIFFE trust domain (meshConfig.trustDomain default). */
export const TRUST_DOMAIN = 'cluster.local';

/**
 * Resolution → cluster type (Istio's convertResolution). NONE is ORIGINAL_DST on sidecars, except — an Isthmus choice for
 * local mode without traffic capture — when the service has endpoints, then EDS (as Istio does for headless services
 * with PILOT_ENABLE_EDS_FOR_HEADLESS_SERVICES). Gateways always use EDS for NONE.
 */
export function discoveryType(proxy: Proxy, svc: Service, hasEndpoints: boolean): DiscoveryType {
  switch (svc.resolution) {
    case 'STATIC':
      return 'EDS';
    case 'DNS':
      return 'STRICT_DNS';
    case 'DNS_ROUND_ROBIN':
      return 'LOGICAL_DNS';
    case 'NONE':
      return proxy.type === 'router' || hasEndpoints ? 'EDS' : 'ORIGINAL_DST';
  }
}

/** SPIFFE identities of a service's workloads plus the ServiceEntry's subjectAltNames (Istio's push.ServiceAccounts). */
export function serviceAccounts(svc: Service, endpoints: readonly Endpoint[]): string[] {
  const s = new Set(svc.subjectAltNames);
  for (const ep of endpoints) if (ep.serviceAccount) s.add(`spiffe://${TRUST_DOMAIN}/ns/${ep.namespace}/sa/${ep.serviceAccount}`);
  return [...s].sort();
}

function dnsLookupFamily(proxy: Proxy): string {
  const v6 = proxy.ips.filter((ip) => ip.includes(':')).length;
  return v6 > 0 && v6 === proxy.ips.length ? 'V6_ONLY' : 'V4_ONLY';
}

function subsetEndpoints(push: PushContext, svc: Service, port: ServicePort, subset: Subset | undefined): readonly Endpoint[] {
  return subset ? push.endpoints(svc, port.port, subset.labels ?? {}) : push.endpoints(svc, port.port);
}

interface BuildCtx {
  proxy: Proxy;
  push: PushContext;
  svc: Service;
  port: ServicePort;
  dr: Config<DestinationRule> | undefined;
}

/** Istio's buildCluster + applyTrafficPolicy + maybeApplyEdsConfig for one (port, subset). Undefined when DNS/STATIC has no endpoints. */
function buildOne(ctx: BuildCtx, type: DiscoveryType, subset: Subset | undefined, policy: TrafficPolicy | undefined): Obj | undefined {
  const { proxy, push, svc, port } = ctx;
  const subsetName = subset?.name ?? '';
  const name = clusterName('outbound', port.port, subsetName, svc.hostname);
  const c: Obj = { name, type, common_lb_config: {} };
  const d: ClusterDraft = { c };
  const endpoints = subsetEndpoints(push, svc, port, subset);
  if (type === 'STRICT_DNS' || type === 'LOGICAL_DNS' || type === 'STATIC') {
    const la = buildLoadAssignment(endpoints, {
      clusterName: name,
      proxy,
      loadBalancer: policy?.loadBalancer,
      outlierDetection: policy?.outlierDetection !== undefined,
      single: type === 'LOGICAL_DNS',
    });
    if ((la.endpoints as Obj[]).length === 0) return undefined;
    if (type !== 'STATIC') {
      c.dns_lookup_family = dnsLookupFamily(proxy);
      c.dns_refresh_rate = durationMs(DNS_REFRESH_RATE_MS);
      c.respect_dns_ttl = true;
    }
    c.load_assignment = la;
  }
  setUpstreamProtocol(d, port, proxy.type === 'sidecar');
  const md: Parameters<typeof setIstioMetadata>[1] = { services: [serviceMetadata(svc)], default_original_port: port.port };

  // applyTrafficPolicy (outbound).
  const pool = policy?.connectionPool ?? {};
  applyConnectionPool(d, pool);
  applyH2Upgrade(d, port, pool);
  applyOutlierDetection(c, policy?.outlierDetection);
  applyLocalityConfig(c, policy?.loadBalancer);
  applyLoadBalancer(c, policy?.loadBalancer);
  applyUpstreamTls(d, policy?.tls, {
    istioSni: istioMtlsSni(port.port, subsetName, svc.hostname),
    serviceAccounts: () => serviceAccounts(svc, push.endpoints(svc, port.port)),
    subjectAltNames: svc.subjectAltNames,
    sidecar: proxy.type === 'sidecar',
    drHasWorkloadSelector: ctx.dr?.spec.workloadSelector !== undefined,
  });
  if (c.type === 'ORIGINAL_DST') c.lb_policy = 'CLUSTER_PROVIDED';
  if (c.type === 'EDS') c.eds_cluster_config = { service_name: name, eds_config: adsConfigSource() };

  if (ctx.dr) md.config = configPath(ctx.dr);
  if (subset) md.subset = subset.name;
  else if (svc.location === 'MESH_EXTERNAL') md.external = true;
  setIstioMetadata(c, md);
  return finish(d);
}

/** Every outbound cluster (default + subsets) of one service, for every non-UDP port. */
export function buildServiceClusters(proxy: Proxy, push: PushContext, svc: Service): Obj[] {
  const out: Obj[] = [];
  const dr = push.destinationRule(proxy, svc.hostname);
  for (const port of svc.ports) {
    if (port.protocol === 'UDP') continue;
    const ctx: BuildCtx = { proxy, push, svc, port, dr };
    const type = discoveryType(proxy, svc, svc.resolution === 'NONE' && push.endpoints(svc, port.port).length > 0);
    const policy = portLevelPolicy(dr?.spec.trafficPolicy, port.port);
    const def = buildOne(ctx, type, undefined, policy);
    if (!def) continue;
    out.push(def);
    for (const subset of dr?.spec.subsets ?? []) {
      const subsetPolicy = mergeSubsetPolicy(policy, subset.trafficPolicy, port.port);
      // Subsets inherit the default cluster's final type (a PASSTHROUGH policy made it ORIGINAL_DST).
      let subsetType = def.type as DiscoveryType;
      if (subset.trafficPolicy?.loadBalancer?.simple === 'PASSTHROUGH') subsetType = 'ORIGINAL_DST';
      const sc = buildOne(ctx, subsetType, subset, subsetPolicy);
      if (sc) out.push(sc);
    }
  }
  return out;
}

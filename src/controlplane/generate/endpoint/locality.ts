// Locality-aware load balancing on a ClusterLoadAssignment (Istio's loadbalancer.ApplyLocalityLoadBalancer):
// distribute → locality weights; failover → priorities by locality (0 same subzone, 1 same zone, 2 same region, 3 other,
// 4 region excluded by a failover rule); failoverPriority → priorities by matching labels.
// https://istio.io/latest/docs/reference/config/networking/destination-rule/#LocalityLoadBalancerSetting
import type { LocalityLoadBalancerSetting } from '../../../api/types/networking.js';
import type { Endpoint } from '../../model/types.js';
import type { Obj } from '../cluster/util.js';

export interface Locality {
  region: string;
  zone: string;
  sub_zone: string;
}

/** One locality group being built: the Envoy LocalityLbEndpoints plus the endpoints it came from. */
export interface LocalityGroup {
  locality: Locality;
  lbEndpoints: Obj[];
  endpoints: Endpoint[];
  weight: number;
  priority: number;
}

/** Istio's LbPriority: 0 same subzone, 1 same zone, 2 same region, 3 different region. */
export function lbPriority(proxy: Locality, ep: Locality): number {
  if (proxy.region !== ep.region) return 3;
  if (proxy.zone !== ep.zone) return 2;
  if (proxy.sub_zone !== ep.sub_zone) return 1;
  return 0;
}

/** Istio's LocalityMatch: rule `region/zone/subzone` where '*' or a missing part matches anything (region must be given). */
export function localityMatch(l: Locality, rule: string): boolean {
  const [region = '', zone = '', sub = ''] = rule.split('/');
  return (region === '*' || l.region === region) && (zone === '*' || zone === '' || l.zone === zone) && (sub === '*' || sub === '' || l.sub_zone === sub);
}

/** Renumbers priorities to 0..N-1 without gaps, keeping their order. */
function compact(groups: LocalityGroup[]): void {
  const distinct = [...new Set(groups.map((g) => g.priority))].sort((a, b) => a - b);
  const to = new Map(distinct.map((p, i) => [p, i]));
  for (const g of groups) g.priority = to.get(g.priority) ?? g.priority;
}

/** Istio's applyLocalityWeights: the first distribute rule matching the proxy's locality reweights (and drops) groups. */
function applyDistribute(proxy: Locality, groups: LocalityGroup[], distribute: NonNullable<LocalityLoadBalancerSetting['distribute']>): void {
  for (const rule of distribute) {
    if (!localityMatch(proxy, rule.from ?? '')) continue;
    const unmatched = new Set(groups.keys());
    for (const [to, weight] of Object.entries(rule.to ?? {})) {
      const hit: number[] = [];
      let total = 0;
      for (const i of unmatched) {
        const g = groups[i];
        if (localityMatch(g.locality, to)) {
          hit.push(i);
          total += g.weight;
        }
      }
      for (const i of hit) {
        unmatched.delete(i);
        const g = groups[i];
        const w = total > 0 ? (g.weight * weight) / total : 0;
        if (w > 0) g.weight = Math.ceil(w);
      }
    }
    for (const i of unmatched) (groups[i]).lbEndpoints = [];
    return;
  }
}

/** Istio's applyLocalityFailover: priority = previous*5 + locality distance (4 when a failover rule excludes the region). */
function applyFailover(proxy: Locality, groups: LocalityGroup[], failover: NonNullable<LocalityLoadBalancerSetting['failover']>): void {
  for (const g of groups) {
    let p = lbPriority(proxy, g.locality);
    if (p === 3) {
      const rule = failover.find((f) => f.from === proxy.region);
      if (rule && g.locality.region !== rule.to) p = 4;
    }
    g.priority = g.priority * 5 + p;
  }
  compact(groups);
}

/** Labels Istio adds to endpoints and proxies so failoverPriority can name topology (network, region, zone, subzone). */
function topologyLabels(labels: Record<string, string>, locality: Locality, network: string): Record<string, string> {
  const out: Record<string, string> = { ...labels };
  if (network && out['topology.istio.io/network'] === undefined) out['topology.istio.io/network'] = network;
  if (locality.region && out['topology.kubernetes.io/region'] === undefined) out['topology.kubernetes.io/region'] = locality.region;
  if (locality.zone && out['topology.kubernetes.io/zone'] === undefined) out['topology.kubernetes.io/zone'] = locality.zone;
  if (locality.sub_zone && out['topology.istio.io/subzone'] === undefined) out['topology.istio.io/subzone'] = locality.sub_zone;
  return out;
}

/** Istio's applyFailoverPriorities: each group is split by how many leading failoverPriority labels match the proxy's. */
function applyFailoverPriority(groups: LocalityGroup[], proxyLabels: Record<string, string>, priorities: readonly string[]): LocalityGroup[] {
  if (Object.keys(proxyLabels).length === 0 || groups.length === 0) return groups;
  const names: string[] = [];
  const overrides = new Map<string, string>();
  for (const p of priorities) {
    const parts = p.split('=');
    names.push(parts[0]);
    if (parts.length === 2) overrides.set(parts[0], parts[1]);
  }
  const lowest = names.length;
  const out: LocalityGroup[] = [];
  for (const g of groups) {
    const byPriority = new Map<number, number[]>();
    g.endpoints.forEach((ep, i) => {
      const epLabels = topologyLabels(ep.labels, g.locality, ep.network);
      let priority = 0;
      for (let j = 0; j < names.length; j++) {
        const name = names[j];
        const want = overrides.get(name) ?? proxyLabels[name];
        if (want !== epLabels[name]) {
          priority = lowest - j;
          break;
        }
      }
      const list = byPriority.get(priority) ?? [];
      list.push(i);
      byPriority.set(priority, list);
    });
    for (const p of [...byPriority.keys()].sort((a, b) => a - b)) {
      const idx = byPriority.get(p) ?? [];
      const lbEndpoints = idx.map((i) => g.lbEndpoints[i]);
      const endpoints = idx.map((i) => g.endpoints[i]);
      const weight = endpoints.reduce((s, e) => s + e.weight, 0);
      out.push({ locality: g.locality, lbEndpoints, endpoints, weight, priority: p });
    }
  }
  compact(out);
  return out;
}

/**
 * Applies a locality LB setting to groups for a proxy (Istio: distribute, or — only with outlier detection —
 * failoverPriority and/or failover). Returns the (possibly split) groups.
 */
export function applyLocalityLb(
  groups: LocalityGroup[],
  proxy: { locality: Locality; labels: Record<string, string>; network: string },
  setting: LocalityLoadBalancerSetting | undefined,
  enableFailover: boolean,
): LocalityGroup[] {
  if (!setting) return groups;
  if (setting.distribute && setting.distribute.length > 0) {
    applyDistribute(proxy.locality, groups, setting.distribute);
    return groups;
  }
  if (!enableFailover) return groups;
  if (setting.failoverPriority && setting.failoverPriority.length > 0) {
    const split = applyFailoverPriority(groups, topologyLabels(proxy.labels, proxy.locality, proxy.network), setting.failoverPriority);
    if (setting.failover && setting.failover.length > 0) applyFailover(proxy.locality, split, setting.failover);
    return split;
  }
  applyFailover(proxy.locality, groups, setting.failover ?? []);
  return groups;
}

// DestinationRule traffic policy selection for one cluster, as Istio merges it (pilot/pkg/networking/util
// GetPortLevelTrafficPolicy / MergeSubsetTrafficPolicy): subset port-level > subset > DR port-level > DR top-level,
// each level replacing whole components (loadBalancer, connectionPool, outlierDetection, tls, proxyProtocol) it sets.
import type { Config } from '../../../api/config.js';
import type { DestinationRule, PortTrafficPolicy, Subset, TrafficPolicy } from '../../../api/types/networking.js';

/** The components a port-level or subset policy can override. */
type Overridable = Pick<TrafficPolicy, 'loadBalancer' | 'connectionPool' | 'outlierDetection' | 'tls' | 'proxyProtocol'>;

function mergeComponents(original: TrafficPolicy | undefined, override: Overridable | PortTrafficPolicy | undefined, isPortLevel: boolean): TrafficPolicy | undefined {
  if (!override) return original;
  const merged: TrafficPolicy = { ...(original ?? {}) };
  if (override.connectionPool) merged.connectionPool = override.connectionPool;
  if (override.outlierDetection) merged.outlierDetection = override.outlierDetection;
  if (override.loadBalancer) merged.loadBalancer = override.loadBalancer;
  if (override.tls) merged.tls = override.tls;
  if (!isPortLevel) {
    const o = override as TrafficPolicy;
    if (o.proxyProtocol) merged.proxyProtocol = o.proxyProtocol;
    if (o.tunnel) merged.tunnel = o.tunnel;
    if (o.retryBudget) merged.retryBudget = o.retryBudget;
  }
  return merged;
}

function portSettings(policy: TrafficPolicy | undefined, port: number): PortTrafficPolicy | undefined {
  return policy?.portLevelSettings?.find((p) => p.port?.number === port);
}

/** The DR's top-level policy with its matching portLevelSettings merged in (Istio's GetPortLevelTrafficPolicy). */
export function portLevelPolicy(policy: TrafficPolicy | undefined, port: number): TrafficPolicy | undefined {
  const merged = mergeComponents(policy, portSettings(policy, port), true);
  if (merged && merged !== policy) delete merged.portLevelSettings;
  return merged;
}

/** Subset policy merged over the (port-level) parent, then the subset's own port-level settings (MergeSubsetTrafficPolicy). */
export function mergeSubsetPolicy(parent: TrafficPolicy | undefined, subset: TrafficPolicy | undefined, port: number): TrafficPolicy | undefined {
  const merged = mergeComponents(parent, subset, false);
  return mergeComponents(merged, portSettings(subset, port), true);
}

export function findSubset(dr: DestinationRule | undefined, name: string): Subset | undefined {
  if (!dr || !name) return undefined;
  return dr.subsets?.find((s) => s.name === name);
}

/**
 * The effective traffic policy of cluster (port, subset) under a DestinationRule; `subset` '' is the default cluster.
 * Returns undefined when nothing applies.
 */
export function effectivePolicy(dr: DestinationRule | undefined, port: number, subset = ''): TrafficPolicy | undefined {
  if (!dr) return undefined;
  const base = portLevelPolicy(dr.trafficPolicy, port);
  if (!subset) return base;
  const s = findSubset(dr, subset);
  return s ? mergeSubsetPolicy(base, s.trafficPolicy, port) : base;
}

/** Istio's cluster metadata `config` value: /apis/GROUP/VERSION/namespaces/NS/destination-rule/NAME. */
export function configPath(cfg: Config): string {
  const kind = cfg.meta.kind.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
  return `/apis/${cfg.meta.group}/${cfg.meta.version}/namespaces/${cfg.meta.namespace}/${kind}/${cfg.meta.name}`;
}

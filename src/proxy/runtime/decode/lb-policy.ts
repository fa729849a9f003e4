// Cluster.load_balancing_policy (typed LB policy extensions): the first policy the proxy supports wins, as in Envoy.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/cluster/v3/cluster.proto#envoy-v3-api-field-config-cluster-v3-cluster-load-balancing-policy
import type { Cluster, LbPolicy } from '../types.js';
import type { Problems, Rec } from './util.js';
import { at, list, msg, str, unpackAny, wrappedNum } from './util.js';

const PKG = 'envoy.extensions.load_balancing_policies';

export interface TypedLb {
  policy: LbPolicy;
  extra: Partial<Pick<Cluster, 'ringHash' | 'maglev' | 'leastRequest'>>;
  localityWeighted: boolean;
}

function one(type: string, f: Rec, path: string, p: Problems): TypedLb | undefined {
  switch (type) {
    case `${PKG}.round_robin.v3.RoundRobin`:
      return { policy: 'ROUND_ROBIN', extra: {}, localityWeighted: false };
    case `${PKG}.random.v3.Random`:
      return { policy: 'RANDOM', extra: {}, localityWeighted: false };
    case `${PKG}.least_request.v3.LeastRequest`:
      return { policy: 'LEAST_REQUEST', extra: { leastRequest: { choiceCount: wrappedNum(f, 'choice_count') ?? 2 } }, localityWeighted: false };
    case `${PKG}.ring_hash.v3.RingHash`: {
      const min = wrappedNum(f, 'minimum_ring_size') ?? 1024;
      const max = wrappedNum(f, 'maximum_ring_size') ?? 8 * 1024 * 1024;
      if (min > max) p.add(path, 'minimum_ring_size is larger than maximum_ring_size');
      return { policy: 'RING_HASH', extra: { ringHash: { minRingSize: min, maxRingSize: max } }, localityWeighted: false };
    }
    case `${PKG}.maglev.v3.Maglev`:
      return { policy: 'MAGLEV', extra: { maglev: { tableSize: wrappedNum(f, 'table_size') ?? 65537 } }, localityWeighted: false };
    case `${PKG}.wrr_locality.v3.WrrLocality`: {
      const inner = msg(f, 'endpoint_picking_policy');
      const lb = inner ? lbFromPolicy(inner, at(path, 'endpoint_picking_policy'), p) : undefined;
      if (!inner) p.add(at(path, 'endpoint_picking_policy'), 'endpoint_picking_policy is required');
      return lb ? { ...lb, localityWeighted: true } : undefined;
    }
    default:
      return undefined;
  }
}

/** envoy.config.cluster.v3.LoadBalancingPolicy → the first supported policy, or a problem listing what was offered. */
export function lbFromPolicy(policy: Rec, path: string, p: Problems): TypedLb | undefined {
  const offered: string[] = [];
  const items = list(policy, 'policies');
  for (let i = 0; i < items.length; i++) {
    const tec = msg(items[i] ?? {}, 'typed_extension_config') ?? {};
    const a = unpackAny(msg(tec, 'typed_config'));
    const type = a?.type ?? str(tec, 'name') ?? '';
    offered.push(type);
    if (!a?.fields) continue;
    const before = p.list.length;
    const lb = one(a.type, a.fields, `${at(path, 'policies')}[${i}].typed_extension_config.typed_config`, p);
    if (lb || p.list.length > before) return lb;
  }
  p.add(at(path, 'policies'), `no supported load balancing policy among [${offered.join(', ')}]`);
  return undefined;
}

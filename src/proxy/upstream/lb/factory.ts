// Picker factory by Envoy lb_policy.
import type { LbPolicy } from '../../runtime/types.js';
import { LeastRequestPicker } from './least-request.js';
import { MaglevPicker } from './maglev.js';
import { RandomPicker } from './random.js';
import { RingHashPicker } from './ring-hash.js';
import { RoundRobinPicker } from './round-robin.js';
import type { LbHost, Picker, PickerOptions } from './types.js';

export function isHashPolicy(policy: LbPolicy): boolean {
  return policy === 'RING_HASH' || policy === 'MAGLEV';
}

/** A picker of `policy` over `hosts` (CLUSTER_PROVIDED, used by ORIGINAL_DST, falls back to round robin). */
export function createPicker<H extends LbHost>(policy: LbPolicy, hosts: readonly H[], opts: PickerOptions): Picker<H> {
  switch (policy) {
    case 'LEAST_REQUEST':
      return new LeastRequestPicker(hosts, opts.random, opts.leastRequest?.choiceCount);
    case 'RANDOM':
      return new RandomPicker(hosts, opts.random);
    case 'RING_HASH':
      return new RingHashPicker(hosts, opts.random, opts.ringHash?.minRingSize, opts.ringHash?.maxRingSize);
    case 'MAGLEV':
      return new MaglevPicker(hosts, opts.random, opts.maglev?.tableSize);
    case 'ROUND_ROBIN':
    case 'CLUSTER_PROVIDED':
      return new RoundRobinPicker(hosts, opts.random);
  }
}

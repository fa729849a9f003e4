// RING_HASH (Ketama-style consistent hashing), sized as Envoy's RingHashLoadBalancer: every host gets entries in
// proportion to its normalized weight, the ring has at least minRingSize and at most maxRingSize entries.
// Entry i of host `a:p` is at murmur3("a:p_i") (see hash.ts for why not xxHash64).
import { hashKey } from './hash.js';
import type { LbHost, Picker, Random } from './types.js';

export const DEFAULT_MIN_RING_SIZE = 1024;
export const DEFAULT_MAX_RING_SIZE = 8 * 1024 * 1024;

export class RingHashPicker<H extends LbHost> implements Picker<H> {
  /** Sorted entry hashes, and the host index of each entry. */
  readonly ringHashes: Uint32Array;
  private readonly ringHosts: Uint32Array;

  constructor(
    private readonly hosts: readonly H[],
    private readonly random: Random,
    minRingSize = DEFAULT_MIN_RING_SIZE,
    maxRingSize = DEFAULT_MAX_RING_SIZE,
  ) {
    if (hosts.length === 0) {
      this.ringHashes = new Uint32Array(0);
      this.ringHosts = new Uint32Array(0);
      return;
    }
    let total = 0;
    for (const h of hosts) total += h.weight;
    const normalized = hosts.map((h) => h.weight / total);
    const minNorm = Math.min(...normalized);
    const max = Math.max(1, maxRingSize);
    const scale = Math.min(Math.ceil(minNorm * Math.max(1, minRingSize)) / minNorm, max);
    const size = Math.min(Math.ceil(scale), max);
    const hashes: number[] = [];
    const owners: number[] = [];
    let target = 0;
    for (let i = 0; i < hosts.length; i++) {
      target += scale * normalized[i];
      const key = hosts[i].key;
      for (let n = 0; hashes.length < target && hashes.length < size; n++) {
        hashes.push(hashKey(`${key}_${n}`));
        owners.push(i);
      }
    }
    const order = hashes.map((_, i) => i).sort((a, b) => hashes[a] - hashes[b] || owners[a] - owners[b]);
    this.ringHashes = Uint32Array.from(order, (i) => hashes[i]);
    this.ringHosts = Uint32Array.from(order, (i) => owners[i]);
  }

  get size(): number {
    return this.ringHashes.length;
  }

  pick(hash: number | undefined, exclude: ReadonlySet<string> | undefined): H | undefined {
    const n = this.ringHashes.length;
    if (n === 0) return undefined;
    const h = hash === undefined ? Math.floor(this.random() * 4294967296) : hash >>> 0;
    // First entry with hash >= h, wrapping to the start.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ringHashes[mid] < h) lo = mid + 1;
      else hi = mid;
    }
    const start = lo === n ? 0 : lo;
    const first = this.hosts[this.ringHosts[start]];
    if (exclude === undefined || exclude.size === 0 || !exclude.has(first.key)) return first;
    // Walk the ring to the next host not excluded (retry previous_hosts).
    for (let i = 1; i < n; i++) {
      const cand = this.hosts[this.ringHosts[(start + i) % n]];
      if (!exclude.has(cand.key)) return cand;
    }
    return first;
  }
}

// MAGLEV consistent hashing (Google's Maglev paper, weighted as Envoy's MaglevLoadBalancer): a lookup table of
// prime size (default 65537) filled by each host's permutation, hosts taking turns in proportion to their weight.
import { hashKey } from './hash.js';
import type { LbHost, Picker, Random } from './types.js';

export const DEFAULT_MAGLEV_TABLE_SIZE = 65537;

export class MaglevPicker<H extends LbHost> implements Picker<H> {
  /** Host index per table slot. */
  readonly table: Uint32Array;

  constructor(
    private readonly hosts: readonly H[],
    private readonly random: Random,
    tableSize = DEFAULT_MAGLEV_TABLE_SIZE,
  ) {
    const m = tableSize;
    if (hosts.length === 0 || m < 2) {
      this.table = new Uint32Array(0);
      return;
    }
    const table = new Uint32Array(m);
    const filled = new Uint8Array(m);
    let total = 0;
    for (const h of hosts) total += h.weight;
    const entries = hosts.map((h) => ({
      offset: hashKey(h.key, 0) % m,
      skip: (hashKey(h.key, 1) % (m - 1)) + 1,
      weight: h.weight / total,
      target: 0,
      next: 0,
    }));
    const maxWeight = Math.max(...entries.map((e) => e.weight));
    let count = 0;
    for (let iteration = 1; count < m; iteration++) {
      for (let i = 0; i < entries.length && count < m; i++) {
        const e = entries[i];
        // A host of weight max/3 takes a slot every third iteration.
        if (iteration * e.weight < e.target) continue;
        e.target += maxWeight;
        let c = (e.offset + e.skip * e.next) % m;
        while (filled[c]) {
          e.next++;
          c = (e.offset + e.skip * e.next) % m;
        }
        table[c] = i;
        filled[c] = 1;
        e.next++;
        count++;
      }
    }
    this.table = table;
  }

  pick(hash: number | undefined, exclude: ReadonlySet<string> | undefined): H | undefined {
    const m = this.table.length;
    if (m === 0) return undefined;
    const h = hash === undefined ? Math.floor(this.random() * 4294967296) : hash >>> 0;
    const slot = h % m;
    const first = this.hosts[this.table[slot]];
    if (exclude === undefined || exclude.size === 0 || !exclude.has(first.key)) return first;
    for (let i = 1; i < m; i++) {
      const cand = this.hosts[this.table[(slot + i) % m]];
      if (!exclude.has(cand.key)) return cand;
    }
    return first;
  }
}

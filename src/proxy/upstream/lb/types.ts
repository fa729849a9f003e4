// Shared vocabulary of the pure load balancers: what they know about a host, a picker over a fixed host list.

/** What a picker needs to know about a host. */
export interface LbHost {
  /** `address:port`, the identity used by exclusion sets. */
  readonly key: string;
  readonly weight: number;
  /** In-flight requests, for LEAST_REQUEST. */
  readonly activeRequests: number;
}

/** Uniform random number in [0, 1) (Math.random, or a seeded generator in tests). */
export type Random = () => number;

/** Chooses one host out of a fixed list; built at config/health-change time, used per request. */
export interface Picker<H extends LbHost> {
  /**
   * `hash` is the request hash (RING_HASH/MAGLEV; others ignore it). Hosts whose key is in `exclude` are avoided
   * (retry previous_hosts); when every host is excluded the picker still returns one, as Envoy does.
   */
  pick(hash: number | undefined, exclude: ReadonlySet<string> | undefined): H | undefined;
}

export interface PickerOptions {
  random: Random;
  ringHash?: { minRingSize: number; maxRingSize: number };
  maglev?: { tableSize: number };
  leastRequest?: { choiceCount: number };
}

/** A seeded PRNG (mulberry32) for deterministic tests and reproducible distributions. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Hosts not in `exclude` (only called on retries with a non-empty exclusion set). */
export function withoutExcluded<H extends LbHost>(hosts: readonly H[], exclude: ReadonlySet<string>): H[] {
  const out: H[] = [];
  for (const h of hosts) if (!exclude.has(h.key)) out.push(h);
  return out;
}

/** Weighted random choice (by `weight`) among `hosts` (non-empty). */
export function weightedRandom<H extends LbHost>(hosts: readonly H[], random: Random): H {
  let total = 0;
  for (const h of hosts) total += h.weight;
  let r = random() * total;
  for (const h of hosts) {
    r -= h.weight;
    if (r < 0) return h;
  }
  return hosts[hosts.length - 1];
}

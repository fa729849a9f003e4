// The benchmark's result file (bench/results/latest.json): what run.ts writes and report.ts reads.
import type { FixedRate, Saturation } from './load.js';

/** A fixed-rate phase with the noise indicator of its window. */
export interface FixedRateMeasured extends FixedRate {
  foreignCores: number;
}

export type TargetId = 'direct' | 'nginx' | 'haproxy' | 'node-floor' | 'isthmus-1' | 'isthmus-2';

export interface Measured extends Saturation {
  /** CPU seconds (utime+stime) of the measured process tree during the window, per 10k requests. */
  cpuSPer10k: number;
  /** Requests per second per fully used core = requests / CPU seconds. */
  rpsPerCore: number;
  /** Peak RSS of the measured process tree during the window (MB). */
  rssPeakMb: number;
  /** CPU used by processes outside the benchmark during the window, in cores (noise indicator). */
  foreignCores: number;
}

export interface TargetResult {
  id: TargetId;
  label: string;
  status: 'ok' | 'skipped' | 'failed';
  /** Why it was skipped or failed. */
  reason?: string;
  /** What was measured: the upstream for `direct`, the proxy process tree otherwise. */
  measuredProcess?: string;
  command?: string;
  cpus?: string;
  /** RSS after start-up and config, before any load (MB; summed over the process tree). */
  rssIdleMb?: number;
  /** The same as proportional set size: shared pages split between the tree's processes (MB). */
  pssIdleMb?: number;
  /** Peak RSS over all load phases (MB). */
  rssPeakMb?: number;
  /** Saturation phases: medians over the rounds (each field separately). */
  h1?: Measured;
  /**
   * Fixed-rate phase: the round with the lowest p99. Interference from other work only ever adds latency, so on a
   * shared machine the least-disturbed round is the best estimate of the target's own latency.
   */
  moderate?: FixedRateMeasured;
  /** Median over the rounds of the fixed-rate p99 (for comparison with the best round). */
  moderateMedianP99Ms?: number;
  h2?: Measured;
  rounds: Round[];
}

/** One round of the three load phases against one target (rounds are interleaved across targets). */
export interface Round {
  h1: Measured;
  moderate: FixedRateMeasured;
  h2: Measured;
}

export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Field-by-field median of objects with the same numeric fields. */
export function medianOf<T extends object>(items: readonly T[]): T {
  const first = items[0];
  if (first === undefined) throw new Error('medianOf: no items');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(first)) {
    out[k] = typeof v === 'number' ? median(items.map((i) => (i as Record<string, unknown>)[k] as number)) : v;
  }
  return out as T;
}

export interface Machine {
  nproc: number;
  cpuModel: string;
  kernel: string;
  node: string;
  nginx: string;
  haproxy: string;
  wrk: string;
  h2load: string;
  loadavgBefore: string;
}

export interface Settings {
  rounds: number;
  durationS: number;
  warmupS: number;
  h1Connections: number;
  h2Clients: number;
  h2Streams: number;
  moderateRps: number;
  moderateClients: number;
  pinned: boolean;
  loadCpus?: string;
  targetCpus?: string;
  bodyBytes: number;
  /** nice value of every process the run started (0: default priority). */
  nice?: number;
}

export interface Results {
  date: string;
  machine: Machine;
  settings: Settings;
  targets: TargetResult[];
  wallS: number;
}

/** The fixed-rate round with the lowest p99 (see TargetResult.moderate). */
export function bestLatency(rounds: readonly Round[]): FixedRateMeasured | undefined {
  let best: FixedRateMeasured | undefined;
  for (const r of rounds) if (!best || r.moderate.p99Ms < best.p99Ms) best = r.moderate;
  return best;
}

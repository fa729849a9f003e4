// Cluster-level host selection over priorities and localities (Envoy's LoadBalancerBase + locality weighting):
// priority load from health with the overprovisioning factor, panic threshold, locality-weighted EDF, then a
// per-policy picker. Pure: rebuilt by `update()` whenever hosts, health or ejections change.
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/priority
import type { LbPolicy } from '../../runtime/types.js';
import { EdfScheduler } from './edf.js';
import { createPicker, isHashPolicy } from './factory.js';
import type { LbHost, Picker, PickerOptions, Random } from './types.js';

export interface LbEntry extends LbHost {
  readonly priority: number;
  readonly locality: string;
  /** Weight of the host's locality (locality-weighted LB). */
  readonly localityWeight: number;
  /** Healthy (EDS health) and not ejected by outlier detection. */
  readonly available: boolean;
}

export interface PriorityLbOptions extends PickerOptions {
  /** Percent, e.g. 140 (Envoy's default overprovisioning factor 1.4); read on every update(). */
  overprovisioningFactor: number;
  localityWeighted: boolean;
  /** Percent of healthy hosts below which a priority level ignores health (Envoy default 50; 0 disables panic). */
  panicThreshold: number;
}

interface Level<H extends LbEntry> {
  all: H[];
  healthy: H[];
  panic: boolean;
  picker: Picker<H>;
  localities?: { edf: EdfScheduler<LocalityPick<H>>; count: number };
}

interface LocalityPick<H extends LbEntry> {
  picker: Picker<H>;
  weight: number;
}

/**
 * Per-priority load (percent, summing to 100) from per-priority availability: level p's health is
 * min(100, OF * healthy_p / total_p); loads cascade from priority 0, scaled up when total health is below 100.
 * All levels unavailable → everything to priority 0 (which then panics or finds no host).
 */
export function computePriorityLoad(levels: readonly { healthy: number; total: number }[], overprovisioningFactor: number): number[] {
  const health = levels.map((l) => (l.total === 0 ? 0 : Math.min(100, (overprovisioningFactor * l.healthy) / l.total)));
  const sum = health.reduce((a, b) => a + b, 0);
  const load = new Array<number>(levels.length).fill(0);
  if (levels.length === 0) return load;
  if (sum === 0) {
    load[0] = 100;
    return load;
  }
  const scale = sum < 100 ? 100 / sum : 1;
  let remaining = 100;
  for (let p = 0; p < levels.length && remaining > 0; p++) {
    load[p] = Math.min(remaining, health[p] * scale);
    remaining -= load[p];
  }
  if (remaining > 1e-9) load[load.findIndex((l) => l > 0)] += remaining;
  return load;
}

export class PriorityLoadBalancer<H extends LbEntry> {
  private levels: Level<H>[] = [];
  /** Cumulative load per level (last = 100). */
  private cumulative: number[] = [];
  private readonly random: Random;
  private readonly hashPolicy: boolean;

  constructor(
    private readonly policy: LbPolicy,
    private readonly opts: PriorityLbOptions,
  ) {
    this.random = opts.random;
    this.hashPolicy = isHashPolicy(policy);
  }

  /** Rebuilds the per-priority state from the current hosts (their `available` flags included). */
  update(hosts: readonly H[]): void {
    const byPriority: H[][] = [];
    for (const h of hosts) (byPriority[h.priority] ??= []).push(h);
    const levels: Level<H>[] = [];
    const counts: { healthy: number; total: number }[] = [];
    for (const all of byPriority) {
      if (!all || all.length === 0) continue;
      const healthy = all.filter((h) => h.available);
      const panic = this.opts.panicThreshold > 0 && (100 * healthy.length) / all.length < this.opts.panicThreshold;
      const use = panic ? all : healthy;
      const level: Level<H> = { all, healthy, panic, picker: createPicker(this.policy, use, this.opts) };
      if (this.opts.localityWeighted && !panic && !this.hashPolicy) level.localities = this.buildLocalities(all);
      levels.push(level);
      counts.push({ healthy: healthy.length, total: all.length });
    }
    const load = computePriorityLoad(counts, this.opts.overprovisioningFactor);
    let acc = 0;
    this.cumulative = load.map((l) => (acc += l));
    this.levels = levels;
  }

  /** Panic state per priority level (for admin and tests). */
  get panicLevels(): boolean[] {
    return this.levels.map((l) => l.panic);
  }

  choose(hash: number | undefined, exclude: ReadonlySet<string> | undefined): H | undefined {
    const levels = this.levels;
    if (levels.length === 0) return undefined;
    let level = levels[0];
    if (levels.length > 1) {
      const r = this.hashPolicy && hash !== undefined ? (hash >>> 0) % 100 : this.random() * 100;
      for (let i = 0; i < levels.length; i++) {
        if (r < this.cumulative[i]) {
          level = levels[i];
          break;
        }
      }
    }
    if (level.localities !== undefined && level.localities.count > 0) {
      const edf = level.localities.edf;
      const loc = edf.pick() as LocalityPick<H>;
      edf.add(loc, loc.weight);
      const h = loc.picker.pick(hash, exclude);
      if (h !== undefined && (exclude === undefined || !exclude.has(h.key))) return h;
    }
    return level.picker.pick(hash, exclude);
  }

  /** Localities with effective weight = locality weight × min(1, OF × healthy / total) > 0. */
  private buildLocalities(all: H[]): { edf: EdfScheduler<LocalityPick<H>>; count: number } {
    const groups = new Map<string, H[]>();
    for (const h of all) {
      let g = groups.get(h.locality);
      if (!g) groups.set(h.locality, (g = []));
      g.push(h);
    }
    const edf = new EdfScheduler<LocalityPick<H>>();
    let count = 0;
    for (const group of groups.values()) {
      const healthy = group.filter((h) => h.available);
      const availability = Math.min(1, (this.opts.overprovisioningFactor / 100) * (healthy.length / group.length));
      const weight = group[0].localityWeight * availability;
      if (weight <= 0 || healthy.length === 0) continue;
      edf.add({ picker: createPicker(this.policy, healthy, this.opts), weight }, weight);
      count++;
    }
    return { edf, count };
  }
}

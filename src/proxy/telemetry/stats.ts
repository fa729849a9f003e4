// Envoy-style stats: named counters, gauges and histograms (`cluster.<name>.upstream_rq_pending_overflow`), cheap to
// bump on the hot path (look a handle up once at config time, then `inc()`), rendered for /stats and Prometheus.
import { renderPrometheus } from './prometheus.js';
import { extractTags, type TaggedName } from './tags.js';

export class Counter {
  value = 0;
  constructor(readonly name: string) {}
  inc(n = 1): void {
    this.value += n;
  }
}

export class Gauge {
  value = 0;
  constructor(readonly name: string) {}
  set(v: number): void {
    this.value = v;
  }
  inc(n = 1): void {
    this.value += n;
  }
  dec(n = 1): void {
    this.value -= n;
  }
}

/** Fixed-bucket histogram (ms), Envoy's default bucket bounds. */
export class Histogram {
  static readonly BOUNDS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];
  readonly counts = new Array<number>(Histogram.BOUNDS.length + 1).fill(0);
  sum = 0;
  count = 0;
  constructor(readonly name: string) {}
  record(v: number): void {
    const b = Histogram.BOUNDS;
    let i = 0;
    while (i < b.length && v > b[i]) i++;
    this.counts[i]++;
    this.sum += v;
    this.count++;
  }
  /** Approximate quantile from the buckets (upper bound of the bucket holding it). */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const target = q * this.count;
    let acc = 0;
    for (let i = 0; i < this.counts.length; i++) {
      acc += this.counts[i];
      if (acc >= target) return Histogram.BOUNDS[i] ?? Infinity;
    }
    return Infinity;
  }
}

export class Stats {
  private readonly tagCache = new Map<string, TaggedName>();
  private readonly counters = new Map<string, Counter>();
  private readonly gauges = new Map<string, Gauge>();
  private readonly histograms = new Map<string, Histogram>();

  counter(name: string): Counter {
    let c = this.counters.get(name);
    if (!c) this.counters.set(name, (c = new Counter(name)));
    return c;
  }
  gauge(name: string): Gauge {
    let g = this.gauges.get(name);
    if (!g) this.gauges.set(name, (g = new Gauge(name)));
    return g;
  }
  histogram(name: string): Histogram {
    let h = this.histograms.get(name);
    if (!h) this.histograms.set(name, (h = new Histogram(name)));
    return h;
  }

  /** Value of a counter or gauge by name (0 when absent), for tests and admin. */
  get(name: string): number {
    return this.counters.get(name)?.value ?? this.gauges.get(name)?.value ?? 0;
  }

  /** Envoy's /stats text: `name: value` sorted; histograms as P50/P99 summaries. `filter` is a substring. */
  renderText(filter?: string): string {
    const lines: string[] = [];
    for (const m of [this.counters, this.gauges]) for (const [n, c] of m) if (!filter || n.includes(filter)) lines.push(`${n}: ${c.value}`);
    for (const [n, h] of this.histograms) {
      if (filter && !n.includes(filter)) continue;
      lines.push(`${n}: P50(${h.quantile(0.5)}) P99(${h.quantile(0.99)}) count(${h.count}) sum(${h.sum})`);
    }
    return lines.sort().join('\n') + '\n';
  }

  /** Prometheus text exposition with istio-proxy's tag extraction (`envoy_cluster_upstream_rq_total{cluster_name=...}`). */
  renderPrometheus(): string {
    return renderPrometheus({ counters: this.counters, gauges: this.gauges, histograms: this.histograms, bounds: Histogram.BOUNDS, tagged: (n) => this.tagged(n) });
  }

  /** Tag extraction is a few regexes per name: done once per stat name, not per scrape. */
  private tagged(name: string): TaggedName {
    let t = this.tagCache.get(name);
    if (!t) this.tagCache.set(name, (t = extractTags(name)));
    return t;
  }
}

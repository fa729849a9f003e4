// Prometheus text exposition (version 0.0.4) of the stats, as Envoy's /stats/prometheus renders them: the tag-extracted
// name as the metric family (`envoy_` prefix, anything outside [a-zA-Z0-9_] as '_'), the tags as labels; counters,
// then gauges, then histograms, families sorted by name and series by labels, one TYPE line per family.
// https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
import type { TaggedName } from './tags.js';

type Kind = 'counter' | 'gauge' | 'histogram';

/** What the renderer reads of a histogram: the count in each bucket (bounds in ms, the last one open), sum and count. */
export interface HistogramView {
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

interface Family {
  name: string;
  kind: Kind;
  /** Label text (`a="1",b="2"`) → value; series from several stats with the same name and labels add up. */
  series: Map<string, number | HistogramView>;
}

export interface PrometheusInput {
  counters: Iterable<[string, { value: number }]>;
  gauges: Iterable<[string, { value: number }]>;
  histograms: Iterable<[string, HistogramView]>;
  bounds: readonly number[];
  tagged(stat: string): TaggedName;
}

export function sanitizeName(s: string): string {
  const out = s.replace(/[^a-zA-Z0-9_]/g, '_');
  return out.charCodeAt(0) >= 48 && out.charCodeAt(0) <= 57 ? '_' + out : out;
}

function escapeLabel(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : '\\' + c));
}

/** The sample names a family writes: a histogram's _bucket, _sum and _count may not belong to another family. */
function sampleNames(name: string, kind: Kind): string[] {
  return kind === 'histogram' ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
}

export function renderPrometheus(input: PrometheusInput): string {
  const families = new Map<string, Family>();
  /** Sample name → the family (name + kind) that owns it, so no name is ever written under two TYPE lines. */
  const owners = new Map<string, Family>();

  const familyFor = (base: string, kind: Kind): Family | undefined => {
    // A family whose name another kind already owns gets the kind as a suffix rather than a second TYPE line.
    for (const name of [base, `${base}_${kind}`]) {
      const f = families.get(name);
      if (f) {
        if (f.kind === kind) return f;
        continue;
      }
      const names = sampleNames(name, kind);
      if (names.some((n) => owners.has(n))) continue;
      const fresh: Family = { name, kind, series: new Map() };
      families.set(name, fresh);
      for (const n of names) owners.set(n, fresh);
      return fresh;
    }
    return undefined;
  };

  const add = (stat: string, kind: Kind, value: number | HistogramView): void => {
    const t = input.tagged(stat);
    const f = familyFor(sanitizeName('envoy_' + t.name), kind);
    if (!f) return;
    const labels = t.tags.map((g) => `${sanitizeName(g.name)}="${escapeLabel(g.value)}"`).join(',');
    const prev = f.series.get(labels);
    if (prev === undefined) f.series.set(labels, value);
    else if (typeof prev === 'number' && typeof value === 'number') f.series.set(labels, prev + value);
    else if (typeof prev !== 'number' && typeof value !== 'number') f.series.set(labels, addHistograms(prev, value));
  };

  for (const [n, c] of input.counters) add(n, 'counter', c.value);
  for (const [n, g] of input.gauges) add(n, 'gauge', g.value);
  for (const [n, h] of input.histograms) add(n, 'histogram', h);

  const order: Record<Kind, number> = { counter: 0, gauge: 1, histogram: 2 };
  const sorted = [...families.values()].sort((a, b) => order[a.kind] - order[b.kind] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const f of sorted) {
    out.push(`# TYPE ${f.name} ${f.kind}`);
    for (const labels of [...f.series.keys()].sort()) {
      const v = f.series.get(labels)!;
      if (typeof v === 'number') out.push(labels ? `${f.name}{${labels}} ${v}` : `${f.name} ${v}`);
      else writeHistogram(out, f.name, labels, v, input.bounds);
    }
  }
  return out.length ? out.join('\n') + '\n' : '';
}

function writeHistogram(out: string[], name: string, labels: string, h: HistogramView, bounds: readonly number[]): void {
  const sep = labels ? labels + ',' : '';
  let acc = 0;
  for (let i = 0; i < bounds.length; i++) {
    acc += h.counts[i] ?? 0;
    out.push(`${name}_bucket{${sep}le="${bounds[i]}"} ${acc}`);
  }
  out.push(`${name}_bucket{${sep}le="+Inf"} ${h.count}`);
  const l = labels ? `{${labels}}` : '';
  out.push(`${name}_sum${l} ${h.sum}`, `${name}_count${l} ${h.count}`);
}

function addHistograms(a: HistogramView, b: HistogramView): HistogramView {
  return { counts: a.counts.map((c, i) => c + (b.counts[i] ?? 0)), sum: a.sum + b.sum, count: a.count + b.count };
}

// Test helper: a strict reader of the Prometheus text format (0.0.4) that reports what a scraper would reject or
// misread — a family typed twice or split into several groups, samples of another family's name, bad names or label
// syntax, histograms without +Inf / _sum / _count or with falling buckets.
// https://prometheus.io/docs/instrumenting/exposition_formats/#text-format-details

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  name: string;
  type: string;
  samples: PromSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseLabels(text: string, where: string, errors: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    const key = text.slice(i, eq);
    if (eq < 0 || !LABEL.test(key)) return (errors.push(`${where}: bad label name at "${text.slice(i)}"`), out);
    if (text[eq + 1] !== '"') return (errors.push(`${where}: label ${key} value is not quoted`), out);
    let v = '';
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\') {
        const e = text[++j];
        v += e === 'n' ? '\n' : e;
      } else v += text[j];
    }
    if (j >= text.length) return (errors.push(`${where}: unterminated label value`), out);
    if (key in out) errors.push(`${where}: label ${key} repeated`);
    out[key] = v;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (i < text.length) return (errors.push(`${where}: expected ',' after label ${key}`), out);
  }
  return out;
}

/** Parses an exposition; `errors` lists every rule broken (empty = a scraper takes it as meant). */
export function parsePrometheus(body: string): { families: Map<string, PromFamily>; errors: string[] } {
  const families = new Map<string, PromFamily>();
  const errors: string[] = [];
  const closed = new Set<string>();
  let current: PromFamily | undefined;
  const lines = body.split('\n');
  if (body !== '' && lines.at(-1) !== '') errors.push('the last line does not end with a newline');
  lines.forEach((line, n) => {
    const where = `line ${n + 1}`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const [, kind, name, rest] = line.match(/^# (TYPE|HELP) (\S+)(?: (.*))?$/) ?? [];
      if (!kind) return;
      if (!name || !NAME.test(name)) return void errors.push(`${where}: bad metric name in "${line}"`);
      if (kind === 'HELP') return;
      if (!rest || !TYPES.has(rest)) errors.push(`${where}: unknown type "${rest ?? ''}"`);
      if (families.has(name)) errors.push(`${where}: second TYPE line for ${name}`);
      if (current) closed.add(current.name);
      current = { name, type: rest ?? 'untyped', samples: [] };
      families.set(name, current);
      return;
    }
    const m = line.match(/^([^{\s]+)(?:\{(.*)\})? (\S+)$/);
    if (!m) return void errors.push(`${where}: not a sample: "${line}"`);
    const [, name, labelText, raw] = m as unknown as [string, string, string | undefined, string];
    if (!NAME.test(name)) errors.push(`${where}: bad metric name ${name}`);
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    if (Number.isNaN(value) && raw !== 'NaN') errors.push(`${where}: bad value ${raw}`);
    const suffixes = current?.type === 'histogram' ? ['', '_bucket', '_sum', '_count'] : [''];
    let fam = current && suffixes.some((s) => name === current!.name + s) ? current : undefined;
    if (!fam) {
      // A sample outside the open family starts an untyped one, unless its name belongs to a family seen earlier.
      const owner = [...families.values()].find((f) => (f.type === 'histogram' ? ['', '_bucket', '_sum', '_count'] : ['']).some((s) => name === f.name + s));
      if (owner) errors.push(`${where}: ${name} appears apart from the rest of family ${owner.name}`);
      if (current) closed.add(current.name);
      fam = owner ?? { name, type: 'untyped', samples: [] };
      if (!owner) families.set(name, fam);
      current = fam;
    }
    if (closed.has(fam.name)) errors.push(`${where}: family ${fam.name} continues after another family`);
    fam.samples.push({ name, labels: labelText ? parseLabels(labelText, where, errors) : {}, value });
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f, errors);
  return { families, errors };
}

function checkHistogram(f: PromFamily, errors: string[]): void {
  const key = (l: Record<string, string>): string =>
    Object.entries(l)
      .filter(([k]) => k !== 'le')
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
  const series = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const s of f.samples) {
    const k = key(s.labels);
    let e = series.get(k);
    if (!e) series.set(k, (e = { buckets: [] }));
    if (s.name.endsWith('_bucket')) {
      const le = s.labels.le;
      if (le === undefined) errors.push(`${f.name}{${k}}: bucket without le`);
      else e.buckets.push([le === '+Inf' ? Infinity : Number(le), s.value]);
    } else if (s.name.endsWith('_sum')) e.sum = s.value;
    else if (s.name.endsWith('_count')) e.count = s.value;
  }
  for (const [k, e] of series) {
    const inf = e.buckets.find(([le]) => le === Infinity);
    if (!inf) errors.push(`${f.name}{${k}}: no +Inf bucket`);
    if (e.sum === undefined || e.count === undefined) errors.push(`${f.name}{${k}}: _sum or _count missing`);
    if (inf && e.count !== undefined && inf[1] !== e.count) errors.push(`${f.name}{${k}}: +Inf bucket ${inf[1]} != count ${e.count}`);
    for (let i = 1; i < e.buckets.length; i++) {
      if (e.buckets[i][0] <= e.buckets[i - 1][0] || e.buckets[i][1] < e.buckets[i - 1][1]) errors.push(`${f.name}{${k}}: buckets not increasing at le=${e.buckets[i][0]}`);
    }
  }
}

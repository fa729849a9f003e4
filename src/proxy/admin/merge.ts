// Merges the admin answers of several worker processes (--concurrency > 1) into one, the way a single Envoy with
// several worker threads reports: counters and connection/request gauges add up; server.* state gauges take the max.

const HISTOGRAM_SAMPLE = /^_(bucket|sum|count)$/;
const MAX_NOT_SUM = /^(envoy_)?server[._](state|live|uptime|concurrency|hot_restart_epoch|version)/;

/** Envoy /stats text: `name: value` lines, values summed per name; non-numeric lines (histograms) from the first. */
export function mergeStatsText(bodies: readonly string[]): string {
  const order: string[] = [];
  const values = new Map<string, number | string>();
  for (const body of bodies) {
    for (const line of body.split('\n')) {
      if (line === '') continue;
      const i = line.indexOf(': ');
      if (i < 0) continue;
      const name = line.slice(0, i);
      const raw = line.slice(i + 2);
      const prev = values.get(name);
      if (prev === undefined) order.push(name);
      const n = Number(raw);
      if (raw === '' || !Number.isFinite(n)) {
        if (prev === undefined) values.set(name, raw);
        continue;
      }
      if (typeof prev === 'number') values.set(name, MAX_NOT_SUM.test(name) ? Math.max(prev, n) : prev + n);
      else if (prev === undefined) values.set(name, n);
    }
  }
  return order.map((n) => `${n}: ${values.get(n)}\n`).join('');
}

/**
 * Prometheus text: identical series (name + labels) summed. Lines stay grouped by metric family (the TYPE line and
 * its samples, a histogram's _bucket/_sum/_count included) even when a worker has series the others lack, so each
 * family appears once, in first-seen order.
 */
export function mergePrometheus(bodies: readonly string[]): string {
  const families = new Map<string, { comments: string[]; series: Map<string, number> }>();
  const familyOf = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { comments: [], series: new Map() }));
    return f;
  };
  for (const body of bodies) {
    let current = '';
    for (const line of body.split('\n')) {
      if (line === '') continue;
      if (line.startsWith('#')) {
        // `# TYPE <name> <kind>` / `# HELP <name> ...` open the family <name>.
        current = line.split(' ', 3)[2] ?? line;
        const f = familyOf(current);
        if (!f.comments.includes(line)) f.comments.push(line);
        continue;
      }
      const sp = line.lastIndexOf(' ');
      const series = line.slice(0, sp);
      const brace = series.indexOf('{');
      const metric = brace < 0 ? series : series.slice(0, brace);
      const inCurrent = current !== '' && (metric === current || (metric.startsWith(current) && HISTOGRAM_SAMPLE.test(metric.slice(current.length))));
      if (!inCurrent) current = metric;
      const f = familyOf(current);
      const n = Number(line.slice(sp + 1));
      const prev = f.series.get(series);
      if (!Number.isFinite(n)) {
        if (prev === undefined) f.series.set(series, 0);
        continue;
      }
      f.series.set(series, prev === undefined ? n : MAX_NOT_SUM.test(series) ? Math.max(prev, n) : prev + n);
    }
  }
  let out = '';
  for (const f of families.values()) {
    for (const c of f.comments) out += c + '\n';
    for (const [k, v] of f.series) out += `${k} ${v}\n`;
  }
  return out;
}

const HOST_COUNTERS = new Set(['cx_active', 'cx_total', 'cx_connect_fail', 'rq_active', 'rq_error', 'rq_success', 'rq_timeout', 'rq_total']);

/** /clusters text: per-host request/connection numbers summed; everything else (flags, weights) from the first. */
export function mergeClustersText(bodies: readonly string[]): string {
  const order: string[] = [];
  const values = new Map<string, string>();
  for (const body of bodies) {
    for (const line of body.split('\n')) {
      if (line === '') continue;
      const i = line.lastIndexOf('::');
      const key = line.slice(0, i);
      const v = line.slice(i + 2);
      const prev = values.get(key);
      if (prev === undefined) {
        order.push(key);
        values.set(key, v);
        continue;
      }
      const stat = key.slice(key.lastIndexOf('::') + 2);
      if (HOST_COUNTERS.has(stat)) values.set(key, String(Number(prev) + Number(v)));
    }
  }
  return order.map((k) => `${k}::${values.get(k)}\n`).join('');
}

// Turns bench/results/latest.json into BENCHMARKS.md: tables as ratios to nginx and to the upstream directly, with
// the absolute numbers, the machine, the targets from issue 3 and how to run the benchmark.
// Usage: node --import tsx bench/report.ts [results.json] [BENCHMARKS.md]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Results, TargetResult } from './lib/results.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Issue 3's targets. */
export const TARGETS = { perCoreVsNginx: 0.5, addedP99Ms: 1, rssIdleMb: 60 };
/** Above this much CPU used by other processes during a latency window, its p99 is not trusted for a verdict. */
const NOISY_CORES = 0.2;

const f0 = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '–' : Math.round(x).toLocaleString('en-US'));
const f2 = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(2));
const f3 = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(3));
const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? '–' : `${(a / b).toFixed(2)}×`;
const signed = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(3)}` : '–');

function name(t: TargetResult): string {
  return t.id === 'direct' ? 'direct (upstream)' : t.id;
}

/** A row for a target without numbers; its reason becomes one numbered note (shared by all tables). */
function notRun(t: TargetResult, cols: number, notes: string[]): string {
  const what = t.status === 'skipped' ? 'not yet runnable' : t.status === 'ok' ? 'no data' : 'failed';
  const note = `${name(t)}: ${(t.reason ?? 'no measurement').split('\n')[0]}`;
  let i = notes.indexOf(note);
  if (i < 0) i = notes.push(note) - 1;
  return `| ${name(t)} | ${what} [${i + 1}] |${' |'.repeat(cols - 2)}`;
}

function spread(t: TargetResult, pick: (r: TargetResult['rounds'][number]) => number): string {
  const xs = t.rounds.map(pick);
  if (xs.length < 2) return '';
  return ` (${f0(Math.min(...xs))}–${f0(Math.max(...xs))})`;
}

export function render(r: Results): string {
  const by = new Map(r.targets.map((t) => [t.id, t]));
  const ngx = by.get('nginx');
  const dir = by.get('direct');
  const m = r.machine;
  const s = r.settings;
  const notes: string[] = [];
  const ok = (t: TargetResult): boolean => t.status === 'ok' && t.h1 !== undefined;
  const out: string[] = [];

  out.push('## HTTP/1.1 at saturation (wrk)', '');
  out.push(`wrk, 1 thread, ${s.h1Connections} keep-alive connections, ${s.durationS} s per round after ${s.warmupS} s warm-up; median of ${s.rounds} rounds (range in brackets).`, '');
  out.push('| target | req/s | vs nginx | vs direct | CPU s / 10k req | req/s per core | per core vs nginx | p50 / p99 ms | other load |');
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const t of r.targets) {
    if (!ok(t)) {
      out.push(notRun(t, 9, notes));
      continue;
    }
    const h = t.h1!;
    out.push(`| ${name(t)} | ${f0(h.rps)}${spread(t, (x) => x.h1.rps)} | ${ratio(h.rps, ngx?.h1?.rps)} | ${ratio(h.rps, dir?.h1?.rps)} | ` +
      `${f3(h.cpuSPer10k)} | ${f0(h.rpsPerCore)} | ${ratio(h.rpsPerCore, ngx?.h1?.rpsPerCore)} | ${f2(h.p50Ms)} / ${f2(h.p99Ms)} | ${f2(h.foreignCores)} |`);
  }

  out.push('', '## Latency at a fixed moderate load (HTTP/1.1)', '');
  out.push(`h2load --h1 --rps: ${s.moderateRps} req/s in total over ${s.moderateClients} keep-alive connections, one request in flight each; ` +
    `${s.durationS} s measured after ${s.warmupS} s. Figures of the round with the lowest p99 of ${s.rounds} (other work on the machine only ` +
    `adds latency, so the least-disturbed round is the best estimate); the median p99 of the rounds is shown too. "Added" is the ` +
    `target's figure minus direct's.`, '');
  out.push('| target | p50 ms | p99 ms | added p50 ms | added p99 ms | max ms | median p99 ms | errors | other load |');
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const t of r.targets) {
    if (!ok(t) || !t.moderate) {
      out.push(notRun(t, 9, notes));
      continue;
    }
    const l = t.moderate;
    const d = dir?.moderate;
    out.push(`| ${name(t)} | ${f3(l.p50Ms)} | ${f3(l.p99Ms)} | ${d && t.id !== 'direct' ? signed(l.p50Ms - d.p50Ms) : '–'} | ` +
      `${d && t.id !== 'direct' ? signed(l.p99Ms - d.p99Ms) : '–'} | ${f2(l.maxMs)} | ${f3(t.moderateMedianP99Ms)} | ${l.errors} | ${f2(l.foreignCores)} |`);
  }

  out.push('', '## HTTP/2 (h2c) at saturation (h2load)', '');
  out.push(`h2load, ${s.h2Clients} connections × ${s.h2Streams} concurrent streams, prior-knowledge h2c to the target; the targets speak HTTP/1.1 keep-alive to the upstream.`, '');
  out.push('| target | req/s | vs nginx | vs direct | CPU s / 10k req | req/s per core | per core vs nginx | other load |');
  out.push('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const t of r.targets) {
    if (!ok(t) || !t.h2) {
      out.push(notRun(t, 8, notes));
      continue;
    }
    const h = t.h2;
    out.push(`| ${name(t)} | ${f0(h.rps)}${spread(t, (x) => x.h2.rps)} | ${ratio(h.rps, ngx?.h2?.rps)} | ${ratio(h.rps, dir?.h2?.rps)} | ` +
      `${f3(h.cpuSPer10k)} | ${f0(h.rpsPerCore)} | ${ratio(h.rpsPerCore, ngx?.h2?.rpsPerCore)} | ${f2(h.foreignCores)} |`);
  }

  out.push('', '## Memory', '');
  out.push('| target | measured process | RSS idle MB | PSS idle MB | RSS peak under load MB | errors (all phases) |');
  out.push('|---|---|---:|---:|---:|---:|');
  for (const t of r.targets) {
    if (!ok(t)) {
      out.push(notRun(t, 6, notes));
      continue;
    }
    const errors = t.rounds.reduce((a, x) => a + x.h1.errors + x.moderate.errors + x.h2.errors, 0);
    out.push(`| ${name(t)} | ${t.measuredProcess ?? ''} | ${f2(t.rssIdleMb)} | ${f2(t.pssIdleMb)} | ${f2(t.rssPeakMb)} | ${errors} |`);
  }

  out.push('', '## Targets (issue 3)', '');
  out.push('The last column is not a target: it puts isthmus next to node-floor, the least a proxy on Node\'s socket layer ' +
    'costs (per-core throughput as a share of node-floor\'s, with the CPU µs per request of both).', '');
  out.push('| proxy | HTTP/1.1 throughput per core ≥ 50% of nginx | added p99 at moderate load ≤ 1 ms | RSS idle ≤ 60 MB | isthmus vs node-floor (per core) |');
  out.push('|---|---|---|---|---|');
  const floor = by.get('node-floor');
  const vsFloor = (t: TargetResult): string => {
    if (!floor || !ok(floor) || !t.h1 || !floor.h1) return '–';
    const us = (x: number): string => (x * 100).toFixed(1); // CPU s per 10k requests → µs per request
    const h2 = t.h2 && floor.h2 ? `; h2c ${((t.h2.rpsPerCore / floor.h2.rpsPerCore) * 100).toFixed(0)}% (${us(t.h2.cpuSPer10k)} vs ${us(floor.h2.cpuSPer10k)} µs/req)` : '';
    return `HTTP/1.1 ${((t.h1.rpsPerCore / floor.h1.rpsPerCore) * 100).toFixed(0)}% (${us(t.h1.cpuSPer10k)} vs ${us(floor.h1.cpuSPer10k)} µs/req)${h2}`;
  };
  for (const id of ['isthmus-1', 'isthmus-2'] as const) {
    const t = by.get(id);
    if (!t) continue;
    if (!ok(t) || !t.moderate || !ngx?.h1 || !dir?.moderate) {
      out.push(`| ${id} | ${t.status === 'skipped' ? 'not yet runnable' : t.status === 'ok' ? 'no anchor to compare with' : 'failed'} | | | ${vsFloor(t)} |`);
      continue;
    }
    const pc = t.h1!.rpsPerCore / ngx.h1.rpsPerCore;
    const added = t.moderate.p99Ms - dir.moderate.p99Ms;
    const mark = (pass: boolean): string => (pass ? 'PASS' : 'FAIL');
    // A p99 is only comparable when neither window was disturbed (and a proxy cannot remove latency).
    const noisy = Math.max(t.moderate.foreignCores, dir.moderate.foreignCores) > NOISY_CORES || added < -0.05;
    const latency = noisy ? `inconclusive: noisy machine (${signed(added)} ms)` : `${mark(added <= TARGETS.addedP99Ms)} (${signed(added)} ms)`;
    out.push(`| ${id} | ${mark(pc >= TARGETS.perCoreVsNginx)} (${(pc * 100).toFixed(0)}%) | ${latency} | ` +
      `${mark((t.rssIdleMb ?? Infinity) <= TARGETS.rssIdleMb)} (${f2(t.rssIdleMb)} MB) | ${vsFloor(t)} |`);
  }
  if (notes.length > 0) {
    out.push('', ...notes.map((n, i) => `[${i + 1}] ${n}`));
  }
  const cmds = r.targets.filter((t) => t.command).map((t) => `- ${t.id}: \`${t.command}\``);
  if (cmds.length > 0) out.push('', 'Proxy command lines:', '', ...cmds);

  const placement = s.pinned
    ? `load generator and upstream pinned to CPU ${s.loadCpus}, one-worker targets to CPU ${s.targetCpus}, isthmus-2 on CPUs 0,1 (taskset)`
    : 'nothing pinned';
  const windows = r.targets
    .flatMap((t) => t.rounds.flatMap((x) => [x.h1.foreignCores, x.moderate.foreignCores, x.h2.foreignCores]))
    .filter((x) => Number.isFinite(x));
  const noise = windows.length > 0
    ? ` Other processes used ${(windows.reduce((a, b) => a + b, 0) / windows.length).toFixed(2)} cores on average during the measured windows ` +
      `(max ${Math.max(...windows).toFixed(2)}; "other load" columns, medians).`
    : '';
  const head = [
    `Latest run: ${r.date.slice(0, 16).replace('T', ' ')} UTC, ${r.wallS.toFixed(0)} s. Machine: ${m.nproc} × ${m.cpuModel}, Linux ${m.kernel}, ` +
      `Node.js ${m.node}, ${m.nginx}, HAProxy ${m.haproxy}, wrk ${m.wrk}, h2load ${m.h2load}; load average before the run ${m.loadavgBefore}. ` +
      `${placement}${s.nice ? `; every benchmark process at nice ${s.nice}` : ''}. Response body ${s.bodyBytes} bytes.${noise}`,
    '',
  ];
  return [...head, ...out].join('\n');
}

const STATIC_HEAD = `# Benchmarks

The data-plane benchmark of issue 3: in one run on one machine, the same upstream is measured directly, through
nginx, through HAProxy (both from Debian's packages, configured as equivalent keep-alive reverse proxies with one
worker/thread each), through node-floor (a featureless Node.js proxy: the floor for any proxy on Node's socket layer)
and through \`isthmus proxy sidecar\` with concurrency 1 and 2. Everything runs on 127.0.0.1.

This file is generated by \`bench/report.ts\` from \`bench/results/latest.json\`; edit the text there.

`;

const STATIC_TAIL = `

## How to run

\`\`\`sh
bash bench/run.sh          # installs the tools if missing, builds the CLI, runs (~5 min on 2 cores), rewrites this file
\`\`\`

- \`bench/setup.sh\` installs nginx (nginx-light), haproxy, wrk and h2load (nghttp2-client) with apt-get; nothing else is
  downloaded. \`bench/run.sh\` calls it, builds \`dist/\` (\`tsc -p tsconfig.build.json\`) so the proxy runs without the tsx
  loader, runs \`bench/run.ts\` under a time bound, then \`bench/report.ts\`.
- Environment knobs: \`BENCH_ROUNDS\` (3), \`BENCH_DURATION\` (5 s per phase per round), \`BENCH_WARMUP\` (1 s),
  \`BENCH_CONNECTIONS\` (50), \`BENCH_RATE\` (1000 req/s), \`BENCH_PIN\` (1; 0 = no taskset), \`BENCH_NICE\` (0; e.g.
  -10 gives every benchmark process priority over other work on a shared machine), \`BENCH_TARGETS\`
  (\`direct,nginx,haproxy,node-floor,isthmus-1,isthmus-2\`), \`BENCH_PORT_BASE\` (28000; the run uses ports up to
  +51), \`BENCH_PROXY_ARGS\` (extra proxy flags), \`BENCH_ISTHMUS_CLI\` (another CLI entry file: .ts through tsx,
  .js/.mjs with node), \`BENCH_BUILD\` (1; 0 = do not rebuild dist/), \`BENCH_OUT\`, \`BENCH_KEEP_DIR=1\` (keep configs
  and logs in /tmp/isthmus-bench-*), \`BENCH_MAX_S\` (900, hard bound).
- On a machine shared with other work, \`BENCH_NICE=-10 bash bench/run.sh\` (as root) gives the benchmark's processes
  priority: nice, and the same value on each one's autogroup (\`/proc/PID/autogroup\`, since with autogroup scheduling
  nice alone does not count across sessions). That protects the saturation phases well; the latency at moderate load
  still needs a quiet machine ("other load" near 0) to be conclusive.
- Every process the run starts is stopped by PID (process group) at the end, on failure and on Ctrl-C.
- The benchmark is not a test: \`npm test\` does not run it.

## What is measured

- **Upstream**: nginx, one worker, \`return 200\` with a fixed small body, HTTP/1.1 and h2c ports. nginx rather than a
  Node server, so the upstream costs little CPU (≈6 µs per request) on the shared 2 cores and "direct" is a fast
  baseline; every target is measured against the same upstream.
- **nginx**: one worker, \`proxy_pass\` to an upstream block with \`keepalive 128\`, HTTP/1.1 to the upstream, no access
  log, \`keepalive_requests\` high on both sides. **HAProxy**: \`nbthread 1\`, \`mode http\`, \`http-reuse always\`,
  keep-alive, no log. Both also listen for h2c (prior knowledge).
- **node-floor** (\`bench/node-floor.ts\`, an anchor, not product code): about the least a reverse proxy written on
  Node's socket layer can do per request. One node process on the one-worker CPU, raw \`net\` sockets, Node's own
  llhttp parser binding (the one node:http and isthmus use) for requests and responses, a pool of keep-alive upstream
  connections with one request in flight each, every HTTP/1.1 message (head + small body) written as one latin1
  string; h2c through node:http2 onto the same pool. No routing (Host is passed on, never looked at), no stats, logs,
  timeouts or retries; run with plain node (its types erased beforehand, no loader). It exists because nginx and
  HAProxy are C: part of the gap between them and isthmus is what JavaScript, libuv and Node's socket layer cost per
  request, which no proxy on Node avoids. Measured in the same run, node-floor vs nginx shows the best per-core
  figure a Node proxy can reach against the issue's target, and isthmus vs node-floor (last column of the targets
  table) how far isthmus is from what Node itself allows, i.e. what its own features and structure cost on top.
- **isthmus-1 / isthmus-2**: \`isthmus discovery\` with a generated config directory — per proxy a namespace
  (\`bench-c1\`, \`bench-c2\`) holding a ServiceEntry (\`upstream.bench.local\`, port = the sidecar's listener port,
  targetPort = the upstream's) + WorkloadEntry (127.0.0.1), a DestinationRule with TLS disabled, and a Sidecar whose
  egress listener has \`captureMode: NONE\` and \`bind: 127.0.0.1\`, so the load generator talks to the sidecar
  directly. \`isthmus proxy sidecar --interception-mode NONE --namespace bench-cN --concurrency N\` connects to it
  (admin, status and readiness on free ports; the exact command line is listed under the tables). The proxy runs
  from the compiled \`dist/\` when that has the \`proxy\` command, else through tsx. Every request carries
  \`Host: upstream.bench.local\` (for all targets alike). Before measuring, the run checks that each target returns
  the upstream's body; a proxy that cannot start is reported as not runnable (or failed, with its log tail).
- **req/s**: completed requests per second over the measured window. With the pinning used, the load generator and
  the upstream share one core, so absolute req/s of the fast anchors is bounded by that core; compare CPU instead.
- **CPU s / 10k req**: utime+stime of the measured process tree (from /proc/PID/stat) during the window, per 10,000
  requests. **req/s per core** is its inverse (requests per fully used core-second): the "throughput per core" of the
  targets below.
- **p50 / p99 at saturation**: wrk's percentiles, queueing included. **Latency at moderate load**: fixed request
  rate (h2load \`--rps\`: each connection sends a request every 10 ms unless one is still in flight), percentiles of every request's time from h2load's log, from the
  round with the lowest p99; **added** latency subtracts the direct figure.
- **RSS idle**: VmRSS summed over the measured process tree after start-up and configuration, before load (the
  issue's figure); **PSS idle** splits pages shared between processes (e.g. the node binary in each worker of
  concurrency 2) instead of counting them per process; **peak**: the highest RSS sum sampled every 100 ms under load.
- The machine is shared and noisy: rounds are interleaved across targets (order rotating) and medians reported;
  the brackets show the range over rounds. **other load** is the CPU (in cores) that processes outside the
  benchmark used during the window (/proc/stat busy time minus the benchmark's own processes): near 0 means a quiet
  machine; a latency verdict is "inconclusive" when it exceeds 0.2 cores.

## Targets (issue 3)

- HTTP/1.1 throughput per core at least 50% of nginx's (req/s per core column).
- Added p99 latency at moderate load at most 1 ms.
- RSS idle at most 60 MB.
- No per-request timers or regex compilation on the hot path (a code property, not measured here).
`;

function main(): void {
  const input = resolve(REPO, process.argv[2] ?? 'bench/results/latest.json');
  const output = resolve(REPO, process.argv[3] ?? 'BENCHMARKS.md');
  const r = JSON.parse(readFileSync(input, 'utf8')) as Results;
  writeFileSync(output, `${STATIC_HEAD}${render(r)}${STATIC_TAIL}`);
  process.stderr.write(`[bench] wrote ${output}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();

// Benchmark driver: the upstream directly, through nginx, HAProxy, the node-floor anchor (a minimal Node.js proxy)
// and `isthmus proxy` (concurrency 1 and 2), with wrk (HTTP/1.1 saturation), h2load at a fixed rate (latency at
// moderate load) and h2load h2c, in interleaved rounds; writes bench/results/latest.json. Run it through
// bench/run.sh. Every process it starts is stopped by PID.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BODY, SERVICE_HOST } from './lib/configs.js';
import { probeProxy } from './lib/isthmus.js';
import { fixedRate, h2loadSaturation, wrk } from './lib/load.js';
import type { Saturation } from './lib/load.js';
import {
  RssSampler, benchCpuSeconds, cpuSeconds, killAllSync, machineBusySeconds, processTree, pssMb, rssMb, run, setNice, sleep, stop, stopAll,
} from './lib/procs.js';
import type { Started } from './lib/procs.js';
import { bestLatency, median, medianOf } from './lib/results.js';
import type { Machine, Measured, Results, Round, Settings, TargetId, TargetResult } from './lib/results.js';
import { directTarget, startHaproxy, startIsthmusTargets, startNginx, startNodeFloor, startUpstream } from './lib/targets.js';
import type { Placement, Ports, Target } from './lib/targets.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const num = (k: string, d: number): number => (process.env[k] !== undefined && process.env[k] !== '' ? Number(process.env[k]) : d);

const ALL: TargetId[] = ['direct', 'nginx', 'haproxy', 'node-floor', 'isthmus-1', 'isthmus-2'];
const wanted = new Set((process.env.BENCH_TARGETS ?? ALL.join(',')).split(',').map((s) => s.trim()));
const pinned = num('BENCH_PIN', 1) === 1 && cpus().length >= 2;
const place: Placement = pinned ? { load: '0', target: '1', wide: '0,1' } : {};
const settings: Settings = {
  rounds: num('BENCH_ROUNDS', 3),
  durationS: num('BENCH_DURATION', 5),
  warmupS: num('BENCH_WARMUP', 1),
  h1Connections: num('BENCH_CONNECTIONS', 50),
  h2Clients: 10,
  h2Streams: 10,
  moderateRps: num('BENCH_RATE', 1000),
  moderateClients: 10,
  pinned,
  loadCpus: place.load,
  targetCpus: place.target,
  bodyBytes: Buffer.byteLength(BODY),
  nice: num('BENCH_NICE', 0),
};
setNice(settings.nice ?? 0);
const B = num('BENCH_PORT_BASE', 28000);
const PORTS: Ports = {
  upH1: B, upH2: B + 1, ngxH1: B + 10, ngxH2: B + 11, hapH1: B + 20, hapH2: B + 21, floorH1: B + 50, floorH2: B + 51,
  isthmus: [B + 30, B + 40],
};
const OUT = resolve(REPO, process.env.BENCH_OUT ?? 'bench/results/latest.json');
const DIR = mkdtempSync(join(tmpdir(), 'isthmus-bench-'));
chmodSync(DIR, 0o755); // nginx workers run as an unprivileged user
const log = (s: string): void => void process.stderr.write(`[bench] ${s}\n`);
/** Set on a signal or the time bound: the run stops and writes no results. */
let aborted = false;

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

/** The measured process tree, without tsx's esbuild helper (not part of the proxy). */
function tree(root: number): number[] {
  return processTree(root).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/comm`, 'utf8').trim() !== 'esbuild';
    } catch {
      return false;
    }
  });
}

/** Runs `load` and reports how many cores processes outside the benchmark used meanwhile. */
async function withForeign<T>(load: () => Promise<T>): Promise<{ r: T; foreignCores: number }> {
  const t0 = performance.now();
  const busy0 = machineBusySeconds();
  const own0 = benchCpuSeconds();
  const r = await load();
  const foreign = machineBusySeconds() - busy0 - (benchCpuSeconds() - own0);
  return { r, foreignCores: Math.max(0, foreign / ((performance.now() - t0) / 1000)) };
}

async function measured(root: number, load: () => Promise<Saturation>): Promise<Measured> {
  const before = cpuSeconds(tree(root));
  const sampler = new RssSampler(root);
  const { r, foreignCores } = await withForeign(load);
  const cpu = cpuSeconds(tree(root)) - before;
  const peak = sampler.stop();
  return { ...r, cpuSPer10k: (cpu / Math.max(1, r.requests)) * 1e4, rpsPerCore: cpu > 0 ? r.requests / cpu : NaN, rssPeakMb: peak, foreignCores };
}

/** One round of the three load phases against one target. */
async function round(t: Target): Promise<Round> {
  const s = settings;
  const L = place.load;
  const h1Url = `http://127.0.0.1:${t.h1Port}/`;
  const h2Url = `http://127.0.0.1:${t.h2Port}/`;
  const w = { url: h1Url, host: SERVICE_HOST, connections: s.h1Connections, threads: 1, cpus: L };
  await wrk({ ...w, durationS: s.warmupS });
  const h1 = await measured(t.root, () => wrk({ ...w, durationS: s.durationS }));
  const rate = await withForeign(() => fixedRate({
    url: h1Url, host: SERVICE_HOST, clients: s.moderateClients, ratePerClient: s.moderateRps / s.moderateClients,
    durationS: s.durationS + s.warmupS, skipS: s.warmupS, logFile: join(DIR, `${t.id}-rate.raw`), cpus: L,
  }));
  const moderate = { ...rate.r, foreignCores: rate.foreignCores };
  const h2 = { url: h2Url, host: SERVICE_HOST, clients: s.h2Clients, streams: s.h2Streams, warmupS: 0, cpus: L };
  await h2loadSaturation({ ...h2, durationS: s.warmupS });
  const h2r = await measured(t.root, () => h2loadSaturation({ ...h2, durationS: s.durationS }));
  log(`${t.id}: h1 ${h1.rps.toFixed(0)} req/s (${h1.cpuSPer10k.toFixed(3)} CPU s/10k), ` +
    `${moderate.targetRps}/s p50 ${moderate.p50Ms.toFixed(3)} p99 ${moderate.p99Ms.toFixed(3)} ms, h2c ${h2r.rps.toFixed(0)} req/s; ` +
    `other load ${h1.foreignCores.toFixed(2)}/${moderate.foreignCores.toFixed(2)}/${h2r.foreignCores.toFixed(2)} cores`);
  return { h1, moderate, h2: h2r };
}

async function version(cmd: string, args: string[], re: RegExp): Promise<string> {
  const r = await run(cmd, args, 10_000);
  return re.exec(`${r.stdout}\n${r.stderr}`)?.[1] ?? 'unknown';
}

async function machine(): Promise<Machine> {
  const model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  return {
    nproc: cpus().length,
    cpuModel: model.trim(),
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    node: process.version,
    nginx: await version('nginx', ['-v'], /nginx version: (\S+)/),
    haproxy: await version('haproxy', ['-v'], /HAProxy version (\S+)/),
    wrk: await version('wrk', ['-v'], /wrk (\S+)/),
    h2load: await version('h2load', ['--version'], /h2load (\S+)/),
    loadavgBefore: loadavg().map((x) => x.toFixed(2)).join(' '),
  };
}

async function main(): Promise<number> {
  const t0 = Date.now();
  const ports = [PORTS.upH1, PORTS.upH2, PORTS.ngxH1, PORTS.ngxH2, PORTS.hapH1, PORTS.hapH2, PORTS.floorH1, PORTS.floorH2, ...PORTS.isthmus];
  for (const p of ports) if (!(await portFree(p))) throw new Error(`port ${p} is busy; set BENCH_PORT_BASE`);
  const results: Results = { date: new Date().toISOString(), machine: await machine(), settings, targets: [], wallS: 0 };
  log(`run dir ${DIR}; ${pinned ? `load generator + upstream on CPU ${place.load}, one-worker targets on CPU ${place.target}` : 'not pinned'}`);

  const res = new Map<TargetId, TargetResult>();
  for (const id of ALL) if (wanted.has(id)) res.set(id, { id, label: id, status: 'failed', rounds: [] });
  const fail = (id: TargetId, why: string, status: 'failed' | 'skipped' = 'failed'): void => {
    const r = res.get(id);
    if (!r) return;
    r.status = status;
    r.reason = why;
    log(`${id}: ${status.toUpperCase()} — ${why.split('\n')[0]}`);
  };

  const started: Started[] = [];
  const targets: Target[] = [];
  try {
    const upstream = await startUpstream(DIR, PORTS, place);
    started.push(upstream);
    if (wanted.has('direct')) targets.push(directTarget(upstream, PORTS, place));
    for (const [id, fn] of [['nginx', startNginx], ['haproxy', startHaproxy], ['node-floor', startNodeFloor]] as const) {
      if (!wanted.has(id)) continue;
      try {
        const { s, t } = await fn(DIR, PORTS, place);
        started.push(s);
        targets.push(t);
      } catch (e) {
        fail(id, e instanceof Error ? e.message : String(e));
      }
    }
    const conc = [1, 2].filter((c) => wanted.has(c === 1 ? 'isthmus-1' : 'isthmus-2'));
    if (conc.length > 0) {
      const probe = await probeProxy(REPO, process.env.BENCH_ISTHMUS_CLI);
      if ('reason' in probe) {
        for (const c of conc) fail(c === 1 ? 'isthmus-1' : 'isthmus-2', probe.reason, 'skipped');
      } else {
        const extraArgs = (process.env.BENCH_PROXY_ARGS ?? '').split(' ').filter((s) => s !== '');
        const r = await startIsthmusTargets({ repo: REPO, dir: DIR, cmd: probe, ports: PORTS, place, concurrencies: conc, extraArgs });
        started.push(...r.started);
        targets.push(...r.targets);
        for (const [id, why] of r.failed) fail(id, why);
      }
    }

    // Idle RSS once everything is up and configured, before any load.
    await sleep(1500);
    for (const t of targets) {
      const r = res.get(t.id)!;
      Object.assign(r, { label: t.label, measuredProcess: t.measuredProcess, cpus: t.cpus, command: t.command });
      const pids = tree(t.root);
      r.rssIdleMb = rssMb(pids);
      r.pssIdleMb = pssMb(pids);
      log(`${t.id}: idle RSS ${r.rssIdleMb.toFixed(1)} MB (PSS ${r.pssIdleMb.toFixed(1)} MB, ${pids.length} process(es))`);
    }

    // Interleaved rounds (the order rotates each round), so drift on a shared machine hits every target alike.
    for (let i = 0; i < settings.rounds && !aborted; i++) {
      log(`round ${i + 1}/${settings.rounds}`);
      const order = targets.map((_, k) => targets[(k + i) % targets.length]);
      for (const t of order) {
        const r = res.get(t.id)!;
        if (r.reason || aborted) continue;
        try {
          await t.enter?.();
          r.rounds.push(await round(t));
        } catch (e) {
          fail(t.id, e instanceof Error ? e.message : String(e));
        } finally {
          await t.leave?.();
        }
      }
    }
    for (const r of res.values()) {
      if (r.reason || r.rounds.length === 0) continue;
      r.h1 = medianOf(r.rounds.map((x) => x.h1));
      r.moderate = bestLatency(r.rounds);
      r.moderateMedianP99Ms = median(r.rounds.map((x) => x.moderate.p99Ms));
      r.h2 = medianOf(r.rounds.map((x) => x.h2));
      r.rssPeakMb = Math.max(...r.rounds.flatMap((x) => [x.h1.rssPeakMb, x.h2.rssPeakMb]));
      r.status = 'ok';
    }
  } finally {
    for (const s of started.reverse()) await stop(s);
  }
  if (aborted) return 130;
  results.targets = [...res.values()];
  results.wallS = (Date.now() - t0) / 1000;
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${OUT} (${results.wallS.toFixed(0)} s)`);
  return results.targets.some((t) => t.status === 'failed') ? 1 : 0;
}

process.on('exit', () => {
  killAllSync();
  if (process.env.BENCH_KEEP_DIR !== '1') rmSync(DIR, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    log(`${sig}: stopping everything`);
    aborted = true;
    void stopAll().finally(() => process.exit(130));
  });
}
// The whole run stops by itself: a hard bound well above the expected ~5 minutes.
setTimeout(() => {
  log('time bound reached: stopping everything');
  aborted = true;
  void stopAll().finally(() => process.exit(124));
}, num('BENCH_MAX_S', 900) * 1000).unref();

main().then(
  async (code) => {
    await stopAll();
    process.exit(code);
  },
  async (e: unknown) => {
    log(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    await stopAll();
    process.exit(2);
  },
);

// Load generators for the benchmark: wrk (HTTP/1.1 at saturation), h2load at a fixed request rate (HTTP/1.1
// latency at moderate load, percentiles from its per-request log) and h2load for h2c throughput.
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { run } from './procs.js';

const WRK_SCRIPT = fileURLToPath(new URL('../wrk-report.lua', import.meta.url));

export interface Saturation {
  /** Completed requests per second over the measured window. */
  rps: number;
  requests: number;
  durationS: number;
  /** Socket errors, timeouts and non-2xx/3xx responses. */
  errors: number;
  p50Ms?: number;
  p99Ms?: number;
}

export interface FixedRate {
  /** Requested rate (req/s) and the rate achieved. */
  targetRps: number;
  rps: number;
  requests: number;
  errors: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface WrkOptions {
  url: string;
  host: string;
  connections: number;
  threads: number;
  durationS: number;
  cpus?: string;
}

interface WrkJson {
  requests: number;
  duration_us: number;
  connect_errors: number;
  read_errors: number;
  write_errors: number;
  status_errors: number;
  timeouts: number;
  p50_us: number;
  p99_us: number;
}

/** wrk closed-loop run; latency percentiles here are at saturation (queueing included). */
export async function wrk(o: WrkOptions): Promise<Saturation> {
  const args = [
    '-t', String(o.threads), '-c', String(o.connections), '-d', `${o.durationS}s`,
    '-H', `Host: ${o.host}`, '-s', WRK_SCRIPT, '--timeout', '5s', o.url,
  ];
  const r = await run('wrk', args, (o.durationS + 20) * 1000, o.cpus);
  const line = r.stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (!line) throw new Error(`wrk produced no result (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  const j = JSON.parse(line.slice('WRK_JSON '.length)) as WrkJson;
  const durationS = j.duration_us / 1e6;
  return {
    rps: j.requests / durationS,
    requests: j.requests,
    durationS,
    errors: j.connect_errors + j.read_errors + j.write_errors + j.status_errors + j.timeouts,
    p50Ms: j.p50_us / 1000,
    p99Ms: j.p99_us / 1000,
  };
}

export interface H2loadOptions {
  url: string;
  host: string;
  clients: number;
  /** Concurrent streams per client (HTTP/2 only). */
  streams?: number;
  durationS: number;
  warmupS: number;
  h1?: boolean;
  cpus?: string;
}

function headerArgs(host: string): string[] {
  return ['-H', `:authority: ${host}`];
}

/** h2load at saturation (closed loop); with h1=false the client speaks h2c with prior knowledge. */
export async function h2loadSaturation(o: H2loadOptions): Promise<Saturation> {
  const args = [
    ...(o.h1 ? ['--h1'] : []), '-c', String(o.clients), '-m', String(o.streams ?? 1),
    '-D', String(o.durationS), '--warm-up-time', String(o.warmupS), ...headerArgs(o.host), o.url,
  ];
  const r = await run('h2load', args, (o.durationS + o.warmupS + 20) * 1000, o.cpus);
  return parseH2load(r.stdout, r.stderr, o.durationS);
}

function parseH2load(stdout: string, stderr: string, durationS: number): Saturation {
  const req = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(stdout);
  const fin = /finished in ([\d.]+)(m?s), ([\d.]+) req\/s/.exec(stdout);
  if (!req || !fin) throw new Error(`h2load produced no result: ${(stderr || stdout).trim().slice(0, 400)}`);
  // "failed" includes non-2xx/3xx responses and "errored" (network failures, resets); timeouts are separate.
  return {
    rps: Number(fin[3]),
    requests: Number(req[3]),
    durationS,
    errors: Number(req[5]) + Number(req[7]),
  };
}

export interface FixedRateOptions {
  url: string;
  host: string;
  /** Total rate = clients × ratePerClient. */
  clients: number;
  ratePerClient: number;
  durationS: number;
  /** Requests that started in the first `skipS` seconds are left out of the percentiles. */
  skipS: number;
  logFile: string;
  cpus?: string;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/**
 * HTTP/1.1 at a fixed request rate (h2load --h1 --rps, one connection per client, one request in flight each):
 * latency per request from h2load's log (start time µs, status, µs to the end of the response).
 */
export async function fixedRate(o: FixedRateOptions): Promise<FixedRate> {
  rmSync(o.logFile, { force: true });
  const args = [
    '--h1', '-c', String(o.clients), '--rps', String(o.ratePerClient), '-D', String(o.durationS),
    '--log-file', o.logFile, ...headerArgs(o.host), o.url,
  ];
  const r = await run('h2load', args, (o.durationS + 20) * 1000, o.cpus);
  let text: string;
  try {
    text = readFileSync(o.logFile, 'utf8');
  } catch {
    throw new Error(`h2load --rps wrote no log (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(0, 400)}`);
  }
  const rows: { start: number; status: number; us: number }[] = [];
  for (const line of text.split('\n')) {
    const [a, b, c] = line.split('\t');
    if (a === undefined || b === undefined || c === undefined) continue;
    rows.push({ start: Number(a), status: Number(b), us: Number(c) });
  }
  if (rows.length === 0) throw new Error(`h2load --rps logged no request: ${(r.stderr || r.stdout).trim().slice(0, 400)}`);
  const t0 = Math.min(...rows.map((x) => x.start));
  const measured = rows.filter((x) => x.start >= t0 + o.skipS * 1e6);
  const lat = measured.map((x) => x.us / 1000).sort((x, y) => x - y);
  // Requests that never completed are not in the log; h2load's summary counts them.
  const summary = /(\d+) errored, (\d+) timeout/.exec(r.stdout);
  const lost = summary ? Number(summary[1]) + Number(summary[2]) : 0;
  const errors = measured.filter((x) => !(x.status >= 200 && x.status < 400)).length + lost;
  const spanS = Math.max(1e-6, o.durationS - o.skipS);
  return {
    targetRps: o.clients * o.ratePerClient,
    rps: measured.length / spanS,
    requests: measured.length,
    errors,
    p50Ms: percentile(lat, 50),
    p90Ms: percentile(lat, 90),
    p99Ms: percentile(lat, 99),
    maxMs: lat.length > 0 ? lat[lat.length - 1] : NaN,
  };
}

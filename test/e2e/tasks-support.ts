// Helpers for replaying Istio's tasks against `isthmus demo`: run the CLI as a user would (compiled when dist/ is up to
// date, else TypeScript through tsx), load productpage through the gateway, call services through sleep's sidecar.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { parseAccessLog, type AccessLogEntry } from '../integration/support/sidecar.js';
import { REPO_ROOT, startIsthmus, type UpProcess } from '../local/support.js';

const PROXY_VARS = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'all_proxy'];

/** True when every non-test .ts under src/ has a compiled dist/ copy at least as new (npm run build is current). */
function distIsFresh(): boolean {
  const walk = (dir: string): boolean => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (!walk(p)) return false;
      } else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts')) {
        const js = join(REPO_ROOT, 'dist', p.slice(join(REPO_ROOT, 'src').length + 1).replace(/\.ts$/, '.js'));
        const st = statSync(js, { throwIfNoEntry: false });
        if (!st || st.mtimeMs < statSync(p).mtimeMs) return false;
      }
    }
    return true;
  };
  return existsSync(join(REPO_ROOT, 'dist/cli/main.js')) && walk(join(REPO_ROOT, 'src'));
}

/** argv prefix that runs `isthmus`: the compiled CLI (as `npm start` does) when up to date, else src through tsx. */
export const ISTHMUS: { argv: string[]; compiled: boolean } = distIsFresh()
  ? { argv: [join(REPO_ROOT, 'dist/cli/main.js')], compiled: true }
  : { argv: ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts')], compiled: false };

/** The environment of a user's shell without proxy settings, plus `extra`. */
export function userEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const k of PROXY_VARS) delete env[k];
  return env;
}

export type Demo = UpProcess;

/** Starts `isthmus <args>` (long-running: demo/up) with its output collected, compiled when dist/ is fresh. */
export function startCli(args: string[], env: NodeJS.ProcessEnv): Demo {
  return startIsthmus(args, env, ISTHMUS.argv);
}

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

/** Runs one `isthmus <args>` command to completion (e.g. apply -f FILE), killing it after `timeoutMs`. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 45_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...ISTHMUS.argv, ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  ms: number;
}

export interface Call {
  host: string;
  port: number;
  path: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

/** One HTTP/1.1 request on a fresh connection, timed. */
export function call(c: Call): Promise<Reply> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: c.host, port: c.port, path: c.path, method: c.method ?? 'GET', headers: c.headers ?? {}, agent: false, timeout: c.timeoutMs ?? 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - t0 }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${c.method ?? 'GET'} ${c.path}: no answer within ${c.timeoutMs ?? 15_000} ms`)));
    req.on('error', reject);
    req.end(c.body);
  });
}

export const GATEWAY = { host: '127.0.0.1', port: 8080 };

/** GET a path through the ingress gateway, optionally with a cookie. */
export function viaGateway(path: string, cookie?: string, timeoutMs?: number): Promise<Reply> {
  return call({ ...GATEWAY, path, headers: cookie ? { cookie } : {}, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
}

/** Signs in at productpage through the gateway (POST /login) and returns the cookie to send back. */
export async function login(user: string): Promise<string> {
  const body = `username=${encodeURIComponent(user)}`;
  const r = await call({ ...GATEWAY, path: '/login', method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) } });
  const set = r.headers['set-cookie'];
  const first = (Array.isArray(set) ? set[0] : set)?.split(';')[0];
  if (r.status !== 302 || !first) throw new Error(`POST /login: HTTP ${r.status}, set-cookie ${String(set)}`);
  return first;
}

/** A request as an app in the mesh makes it: to its sidecar's HTTP proxy port with an absolute URI. */
export function viaSidecar(proxy: { host: string; port: number }, url: string, timeoutMs?: number): Promise<Reply> {
  const u = new URL(url);
  return call({ ...proxy, path: url, headers: { host: u.host }, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
}

export interface Page {
  /** The reviews workload named on the page ("Reviews served by: …"), if reviews answered. */
  servedBy?: string;
  stars: 'none' | 'black' | 'red' | 'other';
  reviewsError: boolean;
  ratingsUnavailable: boolean;
}

/** What a productpage HTML shows about reviews. */
export function parsePage(body: string): Page {
  const servedBy = /Reviews served by:\s*(?:<[^>]+>\s*)*([\w.-]+)/.exec(body)?.[1];
  const colors = new Set([...body.matchAll(/class="stars stars-([a-z]+)"/g)].map((m) => m[1]));
  const stars = colors.size === 0 ? 'none' : colors.size === 1 && colors.has('black') ? 'black' : colors.size === 1 && colors.has('red') ? 'red' : 'other';
  return {
    ...(servedBy !== undefined ? { servedBy } : {}),
    stars,
    reviewsError: body.includes('Error fetching product reviews!') || body.includes('Sorry, product reviews are currently unavailable for this book.'),
    ratingsUnavailable: body.includes('Ratings service is currently unavailable'),
  };
}

/** Runs `task(i)` for i in [0, n) with at most `concurrency` at once; results in order. */
export async function pool<T>(n: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(n);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      out[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
  return out;
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes; then returns the last failure. */
export async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined> | T | undefined, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Sum of every `<stat>` counter of clusters whose name contains `clusterPart` in an Envoy-style /stats text. */
export function sumStat(statsText: string, clusterPart: string, stat: string): number {
  let sum = 0;
  for (const line of statsText.split('\n')) {
    const m = /^cluster\.(.+)\.([a-z_]+): (\d+)$/.exec(line.trim());
    if (m && m[2] === stat && m[1].includes(clusterPart)) sum += Number(m[3]);
  }
  return sum;
}

/** Entries of Istio's TEXT access-log format in a proxy's log whose request path contains `needle` (other lines skipped). */
export function accessLogEntries(log: string, needle: string): AccessLogEntry[] {
  return log
    .split('\n')
    .map(parseAccessLog)
    .filter((e): e is AccessLogEntry => e !== undefined && e.path.includes(needle));
}

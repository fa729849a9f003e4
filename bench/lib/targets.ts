// The benchmark's targets: the nginx upstream (measured directly), nginx and HAProxy as reverse proxies, the
// node-floor anchor (bench/node-floor.ts) and `isthmus proxy sidecar` with concurrency 1 and 2 — each started,
// checked end to end, and described.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BODY, SERVICE_HOST, haproxyConfig, nginxProxy, nginxUpstream } from './configs.js';
import { startDiscovery, startProxy } from './isthmus.js';
import type { Discovery, IsthmusCommand } from './isthmus.js';
import { repin, sleep, start } from './procs.js';
import type { Started } from './procs.js';
import type { TargetId } from './results.js';

export interface Target {
  id: TargetId;
  label: string;
  /** What the CPU/RSS figures are of. */
  measuredProcess: string;
  /** Root of the measured process tree. */
  root: number;
  h1Port: number;
  h2Port: number;
  cpus?: string;
  command?: string;
  /** Called before and after this target's turn in a round (the direct target re-pins the upstream). */
  enter?(): Promise<void>;
  leave?(): Promise<void>;
}

export interface Ports {
  upH1: number;
  upH2: number;
  ngxH1: number;
  ngxH2: number;
  hapH1: number;
  hapH2: number;
  floorH1: number;
  floorH2: number;
  /** Sidecar listener ports of isthmus-1 and isthmus-2 (their admin/status/readiness ports are picked by the kernel). */
  isthmus: [number, number];
}

export interface Placement {
  /** CPUs of the load generator and the upstream (undefined: not pinned). */
  load?: string;
  /** CPUs of a one-worker target. */
  target?: string;
  /** CPUs of the concurrency-2 proxy. */
  wide?: string;
}

function get(port: number): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host: SERVICE_HOST }, agent: false, timeout: 2000 }, (r) => {
      let body = '';
      r.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => res({ status: r.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', rej);
    req.end();
  });
}

/** Waits until GET / on `port` returns 200 with the upstream's body (the whole path works), or throws. */
export async function waitServing(port: number, s: Started, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let last = '';
  while (Date.now() < deadline) {
    if (s.exited()) throw new Error(`${s.name} exited:\n${s.tail()}`);
    try {
      const r = await get(port);
      if (r.status === 200 && r.body === BODY) return;
      last = `status ${r.status}: ${r.body.slice(0, 200)}`;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    await sleep(200);
  }
  throw new Error(`${s.name} not serving on 127.0.0.1:${port} after ${ms} ms (last: ${last}):\n${s.tail()}`);
}

export async function startUpstream(dir: string, ports: Ports, place: Placement): Promise<Started> {
  mkdirSync(join(dir, 'up'), { recursive: true });
  writeFileSync(join(dir, 'upstream.conf'), nginxUpstream(join(dir, 'up'), ports.upH1, ports.upH2));
  const s = start('upstream-nginx', 'nginx', ['-p', join(dir, 'up'), '-c', join(dir, 'upstream.conf')], { cpus: place.load, logFile: join(dir, 'upstream.log') });
  await waitServing(ports.upH1, s, 10_000);
  return s;
}

export function directTarget(upstream: Started, ports: Ports, place: Placement): Target {
  return {
    id: 'direct',
    label: 'upstream directly (nginx `return 200`)',
    measuredProcess: 'upstream nginx (master + 1 worker)',
    root: upstream.pid,
    h1Port: ports.upH1,
    h2Port: ports.upH2,
    cpus: place.target,
    enter: async () => {
      if (place.target) await repin(upstream.pid, place.target);
    },
    leave: async () => {
      if (place.load) await repin(upstream.pid, place.load);
    },
  };
}

export async function startNginx(dir: string, ports: Ports, place: Placement): Promise<{ s: Started; t: Target }> {
  mkdirSync(join(dir, 'ngx'), { recursive: true });
  writeFileSync(join(dir, 'nginx.conf'), nginxProxy(join(dir, 'ngx'), ports.ngxH1, ports.ngxH2, ports.upH1));
  const s = start('nginx', 'nginx', ['-p', join(dir, 'ngx'), '-c', join(dir, 'nginx.conf')], { cpus: place.target, logFile: join(dir, 'nginx.log') });
  await waitServing(ports.ngxH1, s, 10_000);
  return {
    s,
    t: {
      id: 'nginx', label: 'nginx (1 worker, keep-alive upstream)', measuredProcess: 'nginx (master + 1 worker)',
      root: s.pid, h1Port: ports.ngxH1, h2Port: ports.ngxH2, cpus: place.target,
    },
  };
}

export async function startHaproxy(dir: string, ports: Ports, place: Placement): Promise<{ s: Started; t: Target }> {
  writeFileSync(join(dir, 'haproxy.cfg'), haproxyConfig(ports.hapH1, ports.hapH2, ports.upH1));
  const s = start('haproxy', 'haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { cpus: place.target, logFile: join(dir, 'haproxy.log') });
  await waitServing(ports.hapH1, s, 10_000);
  return {
    s,
    t: {
      id: 'haproxy', label: 'HAProxy (nbthread 1, http-reuse always)', measuredProcess: 'haproxy (1 thread)',
      root: s.pid, h1Port: ports.hapH1, h2Port: ports.hapH2, cpus: place.target,
    },
  };
}

const FLOOR_SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'node-floor.ts');

/**
 * The node-floor anchor: bench/node-floor.ts with its types erased (TypeScript's transpileModule, no type check)
 * into the run directory and started with plain node, so no loader runs in the measured process.
 */
export async function startNodeFloor(dir: string, ports: Ports, place: Placement): Promise<{ s: Started; t: Target }> {
  const { default: ts } = await import('typescript');
  const js = ts.transpileModule(readFileSync(FLOOR_SRC, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const file = join(dir, 'node-floor.mjs');
  writeFileSync(file, js);
  const args = [String(ports.floorH1), String(ports.floorH2), String(ports.upH1)];
  const s = start('node-floor', process.execPath, [file, ...args], { cpus: place.target, logFile: join(dir, 'node-floor.log') });
  await waitServing(ports.floorH1, s, 10_000);
  return {
    s,
    t: {
      id: 'node-floor', label: "minimal Node.js proxy (llhttp, no features): the floor for a proxy on Node's socket layer",
      measuredProcess: 'node-floor (one node process)', root: s.pid, h1Port: ports.floorH1, h2Port: ports.floorH2, cpus: place.target,
      command: `node node-floor.mjs ${args.join(' ')} (bench/node-floor.ts, types erased)`,
    },
  };
}

export interface IsthmusSetup {
  repo: string;
  dir: string;
  cmd: IsthmusCommand;
  ports: Ports;
  place: Placement;
  /** Which concurrencies to start (1, 2). */
  concurrencies: number[];
  extraArgs: string[];
}

/**
 * One discovery serving namespaces bench-c1 / bench-c2 and one proxy per concurrency. A proxy that fails to come up
 * is reported in `failed` (the others still run); discovery failing fails them all.
 */
export async function startIsthmusTargets(o: IsthmusSetup): Promise<{ started: Started[]; targets: Target[]; failed: Map<TargetId, string> }> {
  const started: Started[] = [];
  const targets: Target[] = [];
  const failed = new Map<TargetId, string>();
  const meshes = o.concurrencies.map((c) => ({ namespace: `bench-c${c}`, listenPort: o.ports.isthmus[c - 1] }));
  let d: Discovery;
  try {
    d = await startDiscovery({ repo: o.repo, cmd: o.cmd, dir: o.dir, meshes, upstreamPort: o.ports.upH1, cpus: o.place.load });
  } catch (e) {
    for (const c of o.concurrencies) failed.set(c === 1 ? 'isthmus-1' : 'isthmus-2', e instanceof Error ? e.message : String(e));
    return { started, targets, failed };
  }
  started.push(d.s);
  for (const c of o.concurrencies) {
    const id: TargetId = c === 1 ? 'isthmus-1' : 'isthmus-2';
    const cpus = c === 1 ? o.place.target : o.place.wide;
    const p = startProxy({
      repo: o.repo, cmd: o.cmd, dir: o.dir, grpc: d.grpc, namespace: `bench-c${c}`, concurrency: c, cpus, extraArgs: o.extraArgs,
    });
    started.push(p.s);
    const port = o.ports.isthmus[c - 1];
    try {
      await waitServing(port, p.s, 60_000);
      targets.push({
        id, label: `isthmus proxy sidecar (concurrency ${c})`, measuredProcess: 'isthmus proxy process tree (discovery not counted)',
        root: p.s.pid, h1Port: port, h2Port: port, cpus, command: `${o.cmd.how}: ${p.command}`,
      });
    } catch (e) {
      failed.set(id, e instanceof Error ? e.message : String(e));
    }
  }
  return { started, targets, failed };
}

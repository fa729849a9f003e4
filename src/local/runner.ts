// `isthmus up`: validates the mesh file, checks every port, writes the registration and initial config into a run
// directory, starts discovery, gateways, sidecars and apps, waits until every proxy is SYNCED and every health check
// and URL answers, then supervises until stop() (Ctrl-C / SIGTERM in the CLI) stops everything, group by group.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { formatError } from '../api/errors.js';
import { ErrorCode, MeshError } from '../shared/errors.js';
import type { Program } from './command.js';
import { isthmusProgram } from './command.js';
import { commitApply, planApply } from './config-ops.js';
import type { Forwarder } from './forwarder.js';
import { startForwarder } from './forwarder.js';
import type { MeshSpec } from './mesh-file.js';
import { loadMeshFile } from './mesh-file.js';
import type { MeshPlan } from './plan.js';
import { bindings, openUrls, planMesh } from './plan.js';
import { busyPorts, duplicateBindings } from './ports.js';
import { appSpec, discoverySpec, gatewaySpec, sidecarSpec } from './processes.js';
import { readinessProblems } from './readiness.js';
import { registrationKeys, registrationResources, registrationYaml } from './registration.js';
import type { RunState } from './state.js';
import { clearPointer, isAlive, readState, runPaths, writeAtomic, writePointer, writeState } from './state.js';
import type { ExitInfo } from './supervisor.js';
import { Supervisor } from './supervisor.js';
import { waitFor } from './sync.js';

export interface Output {
  write(s: string): unknown;
}

export interface UpOptions {
  meshFile: string;
  /** Run directory (created when missing); default a new directory under the system temp dir. */
  runDir?: string;
  /** More Istio YAML files/directories applied at start (after the mesh file's `config`). */
  config?: string[];
  /** Environment the apps inherit; also locates the pointer file. */
  env: NodeJS.ProcessEnv;
  out: Output;
  err: Output;
  /** How to run isthmus' own processes (default: like this process). */
  isthmus?: Program;
  /** How long to wait for the mesh to be ready (ms). */
  readyTimeoutMs?: number;
  /** Record the run directory in the pointer file (default true). */
  pointer?: boolean;
  /** Adjusts the validated mesh before it is planned (isthmus demo --port). */
  adjust?: (mesh: MeshSpec) => void;
  /** Aborting it (Ctrl-C during startup) stops whatever was started and rejects. */
  signal?: AbortSignal;
}

export interface LocalMesh {
  readonly runDir: string;
  readonly plan: MeshPlan;
  state(): RunState;
  /** Stops every process (apps, then proxies, then discovery); idempotent. */
  stop(): Promise<void>;
  /** SIGKILL to every process group now (a second Ctrl-C). */
  kill(): void;
  /** Resolves when the mesh has stopped. */
  readonly done: Promise<void>;
}

const STOP_ORDER = [['app'], ['gateway', 'sidecar'], ['discovery']] as const;
const STOP_DEADLINE_MS = 5000;

function fail(lines: string[], code: ErrorCode = ErrorCode.Invalid): MeshError {
  return new MeshError(code, lines.join('\n'));
}

function tail(file: string, n = 12): string {
  try {
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    return lines.slice(-n).map((l) => `    ${l}`).join('\n');
  } catch {
    return '    (no log)';
  }
}

function prepareRunDir(dir: string | undefined, name: string): string {
  if (!dir) return mkdtempSync(join(tmpdir(), `isthmus-${name}-`));
  const abs = resolve(dir);
  if (existsSync(runPaths(abs).state)) {
    try {
      const s = readState(abs);
      if (s.phase !== 'stopped' && isAlive(s.runnerPid)) throw fail([`a mesh is already running in ${abs} (isthmus up, PID ${s.runnerPid}); stop it first or use another --run-dir`], ErrorCode.Conflict);
    } catch (e) {
      if (e instanceof MeshError && e.code === ErrorCode.Conflict) throw e;
    }
  }
  // A reused run directory starts from the mesh file again: no config applied in an earlier run (logs are kept).
  rmSync(runPaths(abs).config, { recursive: true, force: true });
  mkdirSync(abs, { recursive: true });
  return abs;
}

/** Validates, checks ports, and starts the mesh; resolves once it is ready (rejects, with everything stopped, if not). */
export async function up(o: UpOptions): Promise<LocalMesh> {
  const t0 = Date.now();
  const loaded = await loadMeshFile(o.meshFile);
  if (!loaded.mesh) throw fail([`invalid mesh file ${o.meshFile}:`, ...loaded.errors.map((e) => `  ${formatError(e)}`)]);
  const mesh = loaded.mesh;
  o.adjust?.(mesh);
  const planned = planMesh(mesh);
  if (!planned.plan) throw fail([`invalid mesh file ${o.meshFile}:`, ...planned.errors.map((e) => `  ${o.meshFile}: ${e.path}: ${e.message}`)]);
  const plan = planned.plan;

  const binds = bindings(plan);
  const dup = duplicateBindings(binds);
  if (dup.length > 0) throw fail([`invalid mesh file ${o.meshFile}:`, ...dup.map((d) => `  ${d}`)]);
  const busy = await busyPorts(binds);
  if (busy.length > 0) throw fail([`cannot start mesh ${mesh.name}: ${busy.length === 1 ? 'a port is' : `${busy.length} ports are`} not available:`, ...busy.map((b) => `  ${b.message}`)], ErrorCode.AddressInUse);

  const registration = registrationResources(plan);
  const managed = new Set(registrationKeys(registration));
  const initial = [...mesh.config, ...(o.config ?? []).map((c) => resolve(c))];
  const runDir = prepareRunDir(o.runDir, mesh.name);
  const paths = runPaths(runDir);
  if (initial.length > 0) {
    const ap = await planApply(initial, paths.applied, managed);
    if (ap.errors.length > 0) throw fail([`invalid configuration (nothing was started):`, ...ap.errors.map((e) => `  ${formatError(e)}`)]);
    commitApply(ap);
  }
  mkdirSync(paths.applied, { recursive: true });
  mkdirSync(paths.logs, { recursive: true });
  writeAtomic(paths.registration, registrationYaml(plan, registration));
  o.out.write(`isthmus up: mesh ${mesh.name} from ${o.meshFile}\nrun directory: ${runDir}\n`);
  return start(o, plan, runDir, t0);
}

async function start(o: UpOptions, plan: MeshPlan, runDir: string, t0: number): Promise<LocalMesh> {
  const mesh = plan.mesh;
  const paths = runPaths(runDir);
  const isthmus = o.isthmus ?? isthmusProgram();
  const state: RunState = {
    version: 1,
    mesh: mesh.name,
    meshFile: mesh.file,
    runDir,
    runnerPid: process.pid,
    startedAt: new Date(t0).toISOString(),
    phase: 'starting',
    workloads: plan.instances.map((i) => ({
      name: i.name,
      workload: i.workload.name,
      namespace: i.workload.namespace,
      ...(i.workload.service ? { service: i.workload.service.name } : {}),
      ip: i.ip,
      ports: i.ports.map((p) => ({ name: p.name, protocol: p.protocol, port: p.number, appPort: p.listen })),
      labels: i.labels,
      serviceAccount: i.workload.serviceAccount,
      sidecar: i.proxyId !== undefined,
      ...(i.proxyId ? { proxyId: i.proxyId } : {}),
      ...(i.workload.healthPath ? { healthPath: i.workload.healthPath } : {}),
    })),
    gateways: plan.gateways.map((g) => ({ name: g.spec.name, namespace: g.spec.namespace, ip: g.ip, ports: g.spec.ports, labels: g.spec.labels, proxyId: g.proxyId })),
    processes: [],
    urls: openUrls(plan),
  };
  let startupFailure: string | undefined;
  const startup = new AbortController();
  const save = (): void => {
    state.processes = sup.list().map((p) => p.state());
    writeState(state);
  };
  const onExit = (e: ExitInfo): void => {
    const s = e.proc.spec;
    const what = `${s.name} (${s.role}) ${e.proc.lastExit ?? 'exited'} after ${(e.ranMs / 1000).toFixed(1)} s`;
    if (state.phase === 'starting') {
      startupFailure ??= `${what}; last lines of ${s.log}:\n${tail(s.log)}`;
      startup.abort();
      return;
    }
    if (state.phase !== 'ready') return;
    const next = e.restartInMs !== undefined ? `; restarting in ${(e.restartInMs / 1000).toFixed(0)} s` : '; not restarted (restart: never)';
    o.err.write(`[${new Date().toISOString().slice(11, 19)}] ${what}${next} — log: ${s.log}\n`);
  };
  const sup = new Supervisor({ pgidFile: paths.pgids, onExit, onChange: () => save() });
  const interrupted = (): void => {
    startupFailure ??= 'interrupted';
    startup.abort();
  };
  if (o.signal?.aborted) interrupted();
  o.signal?.addEventListener('abort', interrupted, { once: true });
  sup.startWatchdog();
  save();
  if (o.pointer ?? true) writePointer(o.env, runDir);

  const forwarders: Forwarder[] = [];
  let stopping: Promise<void> | undefined;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolveDone = r));
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      startup.abort();
      state.phase = 'stopping';
      save();
      await Promise.all(forwarders.map((f) => f.close()));
      await sup.stop(STOP_ORDER, STOP_DEADLINE_MS);
      state.phase = 'stopped';
      save();
      if (o.pointer ?? true) clearPointer(o.env, runDir);
      sup.closeWatchdog();
      o.signal?.removeEventListener('abort', interrupted);
      resolveDone();
    })();
    return stopping;
  };
  const local: LocalMesh = { runDir, plan, state: () => state, stop, kill: () => sup.kill(), done };

  try {
    // 1. The control plane; its ready line carries the bound addresses (port 0 resolved).
    let ready: RunState['discovery'];
    const discovery = sup.add(discoverySpec(plan, isthmus, paths.config, paths.logs, o.env, (line) => {
      const ev = parseEvent(line);
      if (ev?.event !== 'ready' || typeof ev.grpc !== 'string' || typeof ev.http !== 'string') return;
      const addrs = { grpc: ev.grpc, http: ev.http, monitoring: typeof ev.monitoring === 'string' ? ev.monitoring : '' };
      if (!ready) {
        ready = addrs;
        // A restart must come back on the same addresses (port 0 resolved), or the proxies would lose it.
        const args = discovery.spec.args;
        for (const [flag, value] of [['--grpc-addr', addrs.grpc], ['--http-addr', addrs.http], ['--monitoring-addr', addrs.monitoring]] as const) {
          const at = args.indexOf(flag);
          if (at >= 0 && value) args[at + 1] = value;
        }
      }
    }));
    const timeoutMs = o.readyTimeoutMs ?? 60_000;
    if (!(await waitFor(async () => ready !== undefined, { timeoutMs: 20_000, intervalMs: 50, signal: startup.signal })) || !ready) {
      throw fail([startupFailure ?? `the control plane did not start within 20 s; see ${join(paths.logs, 'discovery.log')}`]);
    }
    state.discovery = ready;
    save();
    o.out.write(`control plane ready: xDS ${ready.grpc}, debug http://${ready.http}/debug/syncz\n`);

    // 2. Gateways, then per instance its sidecar and its app.
    const ignore = (): void => undefined;
    for (const g of plan.gateways) sup.add(gatewaySpec(g, plan, isthmus, ready.grpc, paths.logs, o.env, ignore));
    for (const i of plan.instances) {
      if (i.proxyId) sup.add(sidecarSpec(i, plan, isthmus, ready.grpc, paths.logs, o.env, ignore));
      sup.add(appSpec(i, plan, paths.logs, o.env));
    }
    for (const g of plan.gateways) {
      for (const p of g.spec.ports) {
        if (p.hostPort !== undefined && (p.hostPort !== p.port || g.ip !== '127.0.0.1')) forwarders.push(await startForwarder('127.0.0.1', p.hostPort, g.ip, p.port));
      }
    }
    const proxies = plan.gateways.length + plan.instances.filter((i) => i.proxyId).length;
    o.out.write(`started ${plan.gateways.length} gateway(s), ${plan.instances.length} workload(s) with ${proxies - plan.gateways.length} sidecar(s); waiting for proxies to sync and apps to answer...\n`);

    // 3. Ready: every proxy SYNCED, every health check and URL answering.
    let problems: string[] = [];
    const http = ready.http;
    const ok = await waitFor(async () => {
      const now = Date.now();
      const procs = sup.list().map((p) => ({ name: p.spec.name, running: p.pid !== undefined && p.status === 'running', upMs: now - p.startedAt }));
      problems = await readinessProblems(plan, http, procs);
      return problems.length === 0;
    }, { timeoutMs, intervalMs: 250, signal: startup.signal });
    if (!ok) {
      throw fail([startupFailure ?? `the mesh was not ready within ${timeoutMs / 1000} s:\n${problems.map((p) => `  ${p}`).join('\n')}\nlogs: ${paths.logs}`]);
    }
    state.phase = 'ready';
    save();
    o.out.write(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${proxies} proxies SYNCED, ${plan.instances.length} workload(s) healthy\n`);
    return local;
  } catch (e) {
    await stop();
    if (startupFailure && !(e instanceof MeshError)) throw fail([startupFailure]);
    throw e;
  }
}

function parseEvent(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(line) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

// The run directory of a local mesh: its layout, the state file `up` keeps current (processes, PIDs, addresses),
// and how other commands find the running mesh (--run-dir, else $ISTHMUS_RUN_DIR, else the pointer file `up` writes).
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ErrorCode, MeshError } from '../shared/errors.js';

export type Role = 'discovery' | 'gateway' | 'sidecar' | 'app';
export type ProcStatus = 'starting' | 'running' | 'restarting' | 'exited' | 'stopped';

export interface ProcState {
  /** Unique in the mesh: `discovery`, `<gateway>`, `<instance>.sidecar`, `<instance>`. */
  name: string;
  role: Role;
  /** The workload instance or gateway the process belongs to. */
  owner: string;
  pid?: number;
  status: ProcStatus;
  restarts: number;
  lastExit?: string;
  log: string;
  command: string[];
}

export interface WorkloadState {
  name: string;
  workload: string;
  namespace: string;
  service?: string;
  ip: string;
  ports: { name: string; protocol: string; port: number; appPort: number }[];
  labels: Record<string, string>;
  serviceAccount: string;
  sidecar: boolean;
  proxyId?: string;
  healthPath?: string;
}

export interface GatewayState {
  name: string;
  namespace: string;
  ip: string;
  ports: { port: number; hostPort?: number }[];
  labels: Record<string, string>;
  proxyId: string;
}

export interface RunState {
  version: 1;
  mesh: string;
  meshFile: string;
  runDir: string;
  runnerPid: number;
  startedAt: string;
  phase: 'starting' | 'ready' | 'stopping' | 'stopped';
  discovery?: { grpc: string; http: string; monitoring: string };
  workloads: WorkloadState[];
  gateways: GatewayState[];
  processes: ProcState[];
  /** What `up` printed to open. */
  urls: string[];
}

/** Paths inside a run directory. */
export function runPaths(runDir: string) {
  const dir = resolve(runDir);
  return {
    dir,
    state: join(dir, 'state.json'),
    logs: join(dir, 'logs'),
    /** Watched by discovery (--config-dir). */
    config: join(dir, 'config'),
    /** The resources generated from the mesh file (one file). */
    registration: join(dir, 'config', 'mesh', 'registration.yaml'),
    /** One file per applied resource: `<kind>.<namespace>.<name>.yaml`. */
    applied: join(dir, 'config', 'applied'),
    /** Process group ids the watchdog kills if the runner dies. */
    pgids: join(dir, 'pgids'),
  };
}

/** Writes a file atomically (temp file + rename), so readers and the config watcher never see half of it. */
export function writeAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${Date.now().toString(36)}-${process.pid}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

export function writeState(s: RunState): void {
  writeAtomic(runPaths(s.runDir).state, JSON.stringify(s, null, 2) + '\n');
}

export function readState(runDir: string): RunState {
  const p = runPaths(runDir).state;
  let text: string;
  try {
    text = readFileSync(p, 'utf8');
  } catch {
    throw new MeshError(ErrorCode.NotFound, `no mesh state in ${runDir} (${p} is missing): is this the run directory isthmus up printed?`);
  }
  const s = JSON.parse(text) as RunState;
  if (s.version !== 1) throw new MeshError(ErrorCode.Invalid, `${p}: unknown state version ${String(s.version)}`);
  return s;
}

/** Where `up` records the run directory of the latest mesh: $XDG_RUNTIME_DIR/isthmus/current, else ~/.isthmus/current. */
export function pointerPath(env: NodeJS.ProcessEnv): string {
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'isthmus', 'current');
  return join(env.HOME || homedir(), '.isthmus', 'current');
}

export function writePointer(env: NodeJS.ProcessEnv, runDir: string): void {
  writeAtomic(pointerPath(env), resolve(runDir) + '\n');
}

/** Removes the pointer if it still names `runDir` (another `up` may have replaced it). */
export function clearPointer(env: NodeJS.ProcessEnv, runDir: string): void {
  const p = pointerPath(env);
  try {
    if (readFileSync(p, 'utf8').trim() === resolve(runDir)) rmSync(p, { force: true });
  } catch {
    // no pointer
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The run directory of the mesh a command should talk to: --run-dir, $ISTHMUS_RUN_DIR, or the pointer file. */
export function findRunDir(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag) return resolve(flag);
  if (env.ISTHMUS_RUN_DIR) return resolve(env.ISTHMUS_RUN_DIR);
  const p = pointerPath(env);
  let dir: string;
  try {
    dir = readFileSync(p, 'utf8').trim();
  } catch {
    throw new MeshError(ErrorCode.NotFound, `no running mesh found: start one with isthmus up -f mesh.yaml (or isthmus demo), or pass --run-dir / set ISTHMUS_RUN_DIR`);
  }
  return dir;
}

/** The state of a running mesh; an error naming the run directory when its runner is gone. */
export function readRunningState(runDir: string): RunState {
  const s = readState(runDir);
  if (!isAlive(s.runnerPid) || s.phase === 'stopped') {
    throw new MeshError(ErrorCode.NotFound, `the mesh in ${runDir} is not running (isthmus up, PID ${s.runnerPid}, has stopped)`);
  }
  return s;
}

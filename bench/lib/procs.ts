// Benchmark process handling: start programs (optionally pinned with taskset), stop every one by PID, and read
// CPU time and RSS of a process tree from /proc.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import type { WriteStream } from 'node:fs';

export interface Started {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Last ~100 lines of the program's stdout+stderr (also written to its log file). */
  tail(): string;
  exited(): boolean;
}

export interface StartOptions {
  /** taskset CPU list ("0", "1", "0,1"); undefined = not pinned. */
  cpus?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  logFile: string;
  /** Called with each complete stdout line. */
  onLine?: (line: string) => void;
}

let niceness = 0;

/** Scheduling priority (nice -n) for every program started from now on; 0 leaves it alone. */
export function setNice(n: number): void {
  niceness = n;
}

/** argv with the nice and taskset prefixes (both exec the program, so the PID stays the program's). */
function wrap(cmd: string, args: readonly string[], cpus: string | undefined): string[] {
  const pin = cpus !== undefined ? ['taskset', '-c', cpus] : [];
  const nice = niceness !== 0 ? ['nice', '-n', String(niceness)] : [];
  return [...nice, ...pin, cmd, ...args];
}

/**
 * With autogroup scheduling (kernel.sched_autogroup_enabled), CPU is shared fairly between sessions first and nice
 * only counts inside a session; every program here runs in a session of its own (detached), so the priority goes
 * to its autogroup as well (root only; ignored where not allowed).
 */
function prioritize(pid: number): void {
  if (niceness === 0) return;
  try {
    writeFileSync(`/proc/${pid}/autogroup`, String(niceness));
  } catch {
    /* no autogroup or not permitted: nice alone */
  }
}

const running = new Set<Started>();
/** Short-lived commands from run() (load generators), killed too when the run is stopped. */
const commands = new Set<ChildProcess>();

/** Starts `cmd args...` in its own process group; taskset execs the program, so the PID is the program's. */
export function start(name: string, cmd: string, args: readonly string[], o: StartOptions): Started {
  const argv = wrap(cmd, args, o.cpus);
  const child = spawn(argv[0], argv.slice(1), {
    cwd: o.cwd,
    env: o.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${cmd}`);
  prioritize(child.pid);
  const log: WriteStream = createWriteStream(o.logFile, { flags: 'a' });
  const lines: string[] = [];
  let buf = '';
  const keep = (chunk: string, isStdout: boolean): void => {
    log.write(chunk);
    const text = isStdout ? buf + chunk : chunk;
    const parts = text.split('\n');
    if (isStdout) buf = parts.pop() ?? '';
    for (const l of parts) {
      if (l.length === 0) continue;
      lines.push(l);
      if (lines.length > 100) lines.shift();
      if (isStdout) o.onLine?.(l);
    }
  };
  child.stdout?.setEncoding('utf8').on('data', (c: string) => keep(c, true));
  child.stderr?.setEncoding('utf8').on('data', (c: string) => keep(c, false));
  let done = false;
  child.on('exit', () => {
    done = true;
    log.end();
  });
  child.on('error', () => {
    done = true;
  });
  const s: Started = { name, pid: child.pid, child, tail: () => lines.join('\n'), exited: () => done };
  running.add(s);
  return s;
}

/** Processes whose process group is `pgid` right now (from /proc/PID/stat field 5). */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[2]) === pgid) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * SIGTERM to the process group of `s` (the program and anything it forked), then after `graceMs` SIGKILL to
 * whatever is still in that group (looked up in /proc, so nothing else is signalled once the group is empty).
 */
export async function stop(s: Started, graceMs = 3000): Promise<void> {
  if (!s.exited()) {
    try {
      process.kill(-s.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  const deadline = Date.now() + graceMs;
  while (!s.exited() && Date.now() < deadline) await sleep(50);
  for (let i = 0; i < 3; i++) {
    const left = groupMembers(s.pid);
    if (left.length === 0) break;
    for (const p of left) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await sleep(100);
  }
  running.delete(s);
}

/** Stops everything still running (used on exit and on failure). */
export async function stopAll(): Promise<void> {
  for (const c of commands) c.kill('SIGKILL');
  await Promise.all([...running].map((s) => stop(s)));
}

/** Synchronous last resort for process 'exit': SIGKILL every group still registered. */
export function killAllSync(): void {
  for (const c of commands) c.kill('SIGKILL');
  for (const s of running) {
    try {
      process.kill(-s.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  running.clear();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** `pid` and all its descendants (via /proc/<pid>/task/<tid>/children). */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const visit = (p: number): void => {
    out.push(p);
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let kids = '';
      try {
        kids = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const k of kids.split(' ')) if (k.trim()) visit(Number(k));
    }
  };
  visit(pid);
  return out;
}

/** Clock ticks per second for /proc/<pid>/stat times (USER_HZ; 100 on Linux). */
export const CLK_TCK = 100;

/** utime+stime in seconds of the given processes (all threads; children already reaped are not counted). */
export function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the "(comm)" which may contain spaces: state is field 3; utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(rest[11]) + Number(rest[12]);
  }
  return ticks / CLK_TCK;
}

/**
 * CPU seconds the machine spent running tasks since boot (/proc/stat user+nice+system, plus steal: time the
 * hypervisor gave to others). irq/softirq time is left out: with IRQ time accounting it is charged to no task, and
 * most of it here is the benchmark's own loopback traffic.
 */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user)
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[7] ?? 0);
  return busy / CLK_TCK;
}

/**
 * CPU seconds of this benchmark: the driver itself and its reaped children (the load generators, once finished:
 * cutime+cstime) plus every process tree it started and is still running.
 */
export function benchCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const self = (Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14])) / CLK_TCK;
  let trees = 0;
  for (const s of running) trees += cpuSeconds(processTree(s.pid));
  return self + trees;
}

/** Sum of VmRSS (MB) of the given processes. */
export function rssMb(pids: readonly number[]): number {
  let kb = 0;
  for (const pid of pids) {
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      continue;
    }
    const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
    if (m) kb += Number(m[1]);
  }
  return kb / 1024;
}

/**
 * Sum of proportional set size (MB, /proc/PID/smaps_rollup): pages shared between the processes (the node binary
 * of several workers) are split among them instead of counted once per process as RSS does. NaN when unreadable.
 */
export function pssMb(pids: readonly number[]): number {
  let kb = 0;
  for (const pid of pids) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    } catch {
      return NaN;
    }
    const m = /^Pss:\s+(\d+) kB/m.exec(text);
    if (!m) return NaN;
    kb += Number(m[1]);
  }
  return kb / 1024;
}

/** Samples the peak RSS of a process tree every `everyMs` until stopped. */
export class RssSampler {
  private peak = 0;
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly rootPid: number, everyMs = 100) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }
  private sample(): void {
    const v = rssMb(processTree(this.rootPid));
    if (v > this.peak) this.peak = v;
  }
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

/** Re-pins every thread of a process tree (taskset -a -p). */
export async function repin(rootPid: number, cpus: string): Promise<void> {
  for (const pid of processTree(rootPid)) {
    await run('taskset', ['-a', '-p', '-c', cpus, String(pid)], 5000);
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs a short command to completion (killed after `timeoutMs`), collecting its output. */
export function run(cmd: string, args: readonly string[], timeoutMs: number, cpus?: string): Promise<RunResult> {
  const argv = wrap(cmd, args, cpus);
  return new Promise((resolve) => {
    // Own session (see prioritize); stopAll() kills it with the rest on a signal or the time bound.
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    if (child.pid !== undefined) prioritize(child.pid);
    commands.add(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const t = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      commands.delete(child);
      clearTimeout(t);
      resolve({ code: null, stdout, stderr: stderr + String(e), timedOut });
    });
    child.on('close', (code) => {
      commands.delete(child);
      clearTimeout(t);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

// Runs the mesh's processes: each in its own process group with its output in one log file, restarted with backoff
// when it crashes, stopped group by group (SIGTERM, then SIGKILL after a deadline). The group ids are kept in a file
// that a tiny `sh` watchdog reads to kill everything if the runner itself dies (no orphans, ports freed).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ProcState, ProcStatus, Role } from './state.js';

export interface ProcSpec {
  name: string;
  role: Role;
  owner: string;
  file: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  log: string;
  /** Called with each stdout line (stdout is then also copied to the log); without it stdout goes to the log directly. */
  onLine?: (line: string) => void;
  restart: boolean;
}

export interface ExitInfo {
  proc: Proc;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** ms the process ran. */
  ranMs: number;
  /** Delay before the restart, when there is one. */
  restartInMs?: number;
}

export interface SupervisorOptions {
  /** File the watchdog reads (one process group id per line). */
  pgidFile: string;
  onExit?: (e: ExitInfo) => void;
  onChange?: () => void;
  /** First restart delay (doubles per crash up to maxBackoffMs; reset after a run of resetAfterMs). */
  backoffMs?: number;
  maxBackoffMs?: number;
  resetAfterMs?: number;
}

export class Proc {
  child?: ChildProcess;
  status: ProcStatus = 'starting';
  restarts = 0;
  lastExit?: string;
  startedAt = 0;
  crashes = 0;
  timer?: NodeJS.Timeout;
  private exitWaiters: (() => void)[] = [];

  constructor(readonly spec: ProcSpec) {}

  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  /** Resolves when the current child has exited (immediately when none runs). */
  exited(): Promise<void> {
    if (this.pid === undefined) return Promise.resolve();
    return new Promise((r) => this.exitWaiters.push(r));
  }

  notifyExit(): void {
    const w = this.exitWaiters;
    this.exitWaiters = [];
    for (const f of w) f();
  }

  state(): ProcState {
    const s: ProcState = { name: this.spec.name, role: this.spec.role, owner: this.spec.owner, status: this.status, restarts: this.restarts, log: this.spec.log, command: [this.spec.file, ...this.spec.args] };
    const pid = this.pid;
    if (pid !== undefined) s.pid = pid;
    if (this.lastExit) s.lastExit = this.lastExit;
    return s;
  }
}

const WATCHDOG = `trap '' INT TERM HUP
cat >/dev/null
pids=$(cat "$1" 2>/dev/null)
[ -z "$pids" ] && exit 0
for p in $pids; do kill -s TERM -- -"$p" 2>/dev/null; done
i=0
while [ $i -lt 10 ]; do
  alive=
  for p in $pids; do kill -0 -- -"$p" 2>/dev/null && alive=1; done
  [ -z "$alive" ] && exit 0
  sleep 1
  i=$((i+1))
done
for p in $pids; do kill -s KILL -- -"$p" 2>/dev/null; done
`;

export class Supervisor {
  private readonly procs: Proc[] = [];
  private stopping = false;
  private watchdog?: ChildProcess;

  constructor(private readonly o: SupervisorOptions) {
    this.writePgids();
  }

  /** Starts the watchdog: when the runner dies its stdin closes and it kills every group listed in the pgid file. */
  startWatchdog(): void {
    const w = spawn('sh', ['-c', WATCHDOG, 'isthmus-watchdog', this.o.pgidFile], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    w.on('error', () => undefined);
    w.stdin?.on('error', () => undefined);
    w.unref();
    (w.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    this.watchdog = w;
  }

  list(): readonly Proc[] {
    return this.procs;
  }

  get(name: string): Proc | undefined {
    return this.procs.find((p) => p.spec.name === name);
  }

  add(spec: ProcSpec): Proc {
    const p = new Proc(spec);
    this.procs.push(p);
    this.spawn(p);
    return p;
  }

  private spawn(p: Proc): void {
    if (this.stopping) return;
    const s = p.spec;
    mkdirSync(dirname(s.log), { recursive: true });
    appendFileSync(s.log, `--- ${new Date().toISOString()} starting: ${[s.file, ...s.args].join(' ')}\n`);
    const fd = openSync(s.log, 'a');
    let child: ChildProcess;
    try {
      child = spawn(s.file, s.args, { cwd: s.cwd, env: s.env, detached: true, stdio: ['ignore', s.onLine ? 'pipe' : fd, fd] });
    } finally {
      closeSync(fd);
    }
    p.child = child;
    p.status = 'starting';
    p.startedAt = Date.now();
    if (child.pid !== undefined) this.writePgids();
    if (s.onLine && child.stdout) {
      let buf = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        appendFileSync(s.log, chunk);
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          s.onLine?.(line);
        }
      });
    }
    child.on('spawn', () => {
      if (p.status === 'starting') p.status = 'running';
      this.writePgids();
      this.o.onChange?.();
    });
    child.on('error', (e) => {
      // spawn failures (ENOENT, EACCES) arrive here and, unlike crashes, never emit 'exit'.
      if (child.pid === undefined) this.onExit(p, child, null, null, e.message);
    });
    child.on('exit', (code, signal) => this.onExit(p, child, code, signal));
  }

  private onExit(p: Proc, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, error?: string): void {
    if (p.child !== child) return;
    const ranMs = Date.now() - p.startedAt;
    p.lastExit = error ? `failed to start: ${error}` : signal ? `killed by ${signal}` : `exit code ${code}`;
    if (error) appendFileSync(p.spec.log, `--- ${p.spec.name} ${p.lastExit}\n`);
    // Anything left in the group (children of a shell command) goes with its leader.
    if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
    const info: ExitInfo = { proc: p, code, signal, ranMs };
    if (this.stopping || !p.spec.restart) {
      p.status = this.stopping ? 'stopped' : 'exited';
    } else {
      const base = this.o.backoffMs ?? 1000;
      if (ranMs >= (this.o.resetAfterMs ?? 30_000)) p.crashes = 0;
      const delay = Math.min(this.o.maxBackoffMs ?? 30_000, base * 2 ** p.crashes);
      p.crashes++;
      p.status = 'restarting';
      info.restartInMs = delay;
      p.timer = setTimeout(() => {
        p.timer = undefined;
        p.restarts++;
        this.spawn(p);
      }, delay);
    }
    p.notifyExit();
    this.writePgids();
    this.o.onExit?.(info);
    this.o.onChange?.();
  }

  /** Stops the processes of each role group in turn: SIGTERM to the group, SIGKILL after `deadlineMs`. */
  async stop(order: readonly (readonly Role[])[], deadlineMs: number): Promise<void> {
    this.stopping = true;
    for (const p of this.procs) {
      if (p.timer) clearTimeout(p.timer);
      p.timer = undefined;
      if (p.pid === undefined && p.status !== 'exited') p.status = 'stopped';
    }
    const covered = new Set(order.flat());
    const phases = [...order, this.procs.some((p) => !covered.has(p.spec.role)) ? (['discovery', 'gateway', 'sidecar', 'app'] as Role[]) : []];
    for (const roles of phases) {
      const group = this.procs.filter((p) => roles.includes(p.spec.role) && p.pid !== undefined);
      if (group.length === 0) continue;
      await Promise.all(group.map((p) => stopOne(p, deadlineMs)));
    }
    this.writePgids();
    this.o.onChange?.();
  }

  /** SIGKILL to every running group at once (no drain). */
  kill(): void {
    this.stopping = true;
    for (const p of this.procs) {
      if (p.timer) clearTimeout(p.timer);
      const pid = p.pid;
      if (pid !== undefined) killGroup(pid, 'SIGKILL');
    }
  }

  /** Ends the watchdog quietly (everything is already stopped). */
  closeWatchdog(): void {
    this.writePgids();
    this.watchdog?.stdin?.end();
  }

  private writePgids(): void {
    const ids = this.procs.map((p) => p.pid).filter((x): x is number => x !== undefined);
    try {
      writeFileSync(this.o.pgidFile, ids.map((i) => `${i}\n`).join(''));
    } catch {
      // the run directory is gone
    }
  }
}

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // already gone
  }
}

async function stopOne(p: Proc, deadlineMs: number): Promise<void> {
  const pid = p.pid;
  if (pid === undefined) return;
  const done = p.exited();
  killGroup(pid, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([done.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), deadlineMs)))]);
  if (timer) clearTimeout(timer);
  if (timedOut) {
    appendFileSync(p.spec.log, `--- ${p.spec.name} did not stop within ${deadlineMs} ms: SIGKILL\n`);
    killGroup(pid, 'SIGKILL');
    await done;
  }
}

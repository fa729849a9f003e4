// Helpers for local-mode end-to-end tests: run `isthmus up|demo` as a child process (as a user would), wait for its
// banner, call the operator commands in-process with captured output, and check that processes and ports are gone.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { isAlive, readState } from '../../src/local/state.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Captured {
  code: number;
  out: string;
  err: string;
}

/** Runs an in-process CLI function with captured stdout/stderr. */
export async function capture(run: (out: { write(s: string): boolean }, err: { write(s: string): boolean }) => Promise<number>): Promise<Captured> {
  let out = '';
  let err = '';
  const code = await run({ write: (s) => ((out += s), true) }, { write: (s) => ((err += s), true) });
  return { code, out, err };
}

export interface UpProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the output once `text` appeared; rejects on exit or timeout with the output so far. */
  waitFor(text: string, timeoutMs: number): Promise<string>;
  /** Resolves with the exit code (null when killed by a signal). */
  exited(): Promise<number | null>;
}

/** Starts `isthmus <args>` from the repository: TypeScript through tsx, or `launcher` (e.g. the compiled dist/cli/main.js). */
export function startIsthmus(args: string[], env: NodeJS.ProcessEnv, launcher: readonly string[] = ['--import', 'tsx', 'src/cli/main.ts']): UpProcess {
  const child = spawn(process.execPath, [...launcher, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const listeners = new Set<() => void>();
  const onData = (c: Buffer): void => {
    text += c.toString('utf8');
    for (const l of listeners) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    output: () => text,
    exited: () => exit,
    waitFor(needle, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (text.includes(needle)) done(() => resolve(text));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`no ${JSON.stringify(needle)} within ${timeoutMs} ms; output:\n${text}`))), timeoutMs);
        const onExit = (): void => done(() => reject(new Error(`isthmus exited (code ${child.exitCode}) before ${JSON.stringify(needle)}; output:\n${text}`)));
        const done = (f: () => void): void => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
          f();
        };
        listeners.add(check);
        child.once('exit', onExit);
        check();
      });
    },
  };
}

/** Every PID the state file lists (processes of the mesh). */
export function meshPids(runDir: string): number[] {
  return readState(runDir).processes.map((p) => p.pid).filter((p): p is number => p !== undefined);
}

export async function waitGone(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const alive = pids.filter(isAlive);
    if (alive.length === 0 || Date.now() > end) return alive;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** True when host:port can be bound now. */
export function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** A port free on every address right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host: '0.0.0.0', port: 0 }, () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** A random second octet for a test mesh's addresses (127.N.x.y), away from the demo's 127.0. */
export function testOctet(): number {
  return 100 + Math.floor(Math.random() * 150);
}

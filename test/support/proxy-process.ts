// Runs `isthmus proxy sidecar|router` as a child process for end-to-end tests: admin/status/readiness on port 0,
// waits for its JSON event lines (started, ready, stopped), keeps its logs for failure messages, stops it by PID.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { REPO_ROOT } from './discovery-process.js';

export interface ProxyEvent {
  event: string;
  [k: string]: unknown;
}

export interface ProxyProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  readonly started: ProxyEvent & { admin: string; status: string; readiness: string };
  /** Resolves with the first event line of that name (past or future). */
  event(name: string, timeoutMs?: number): Promise<ProxyEvent>;
  /** Last ~300 lines of stdout+stderr. */
  logs(): string;
  /** Resolves with the exit code once the process has exited. */
  exited(): Promise<number | null>;
  /** SIGTERM (drain), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
}

export interface ProxyStartOptions {
  discovery: string;
  type?: 'sidecar' | 'router';
  args?: string[];
  env?: NodeJS.ProcessEnv;
  startTimeoutMs?: number;
}

export async function startProxy(o: ProxyStartOptions): Promise<ProxyProcess> {
  const args = [
    '--import', 'tsx', 'src/cli/main.ts', 'proxy', o.type ?? 'sidecar',
    '--discovery-address', o.discovery,
    '--admin-addr', '127.0.0.1:0', '--status-addr', '127.0.0.1:0', '--readiness-addr', '127.0.0.1:0',
    ...(o.args ?? []),
  ];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } });
  const lines: string[] = [];
  const events: ProxyEvent[] = [];
  const waiters: { name: string; resolve: (e: ProxyEvent) => void }[] = [];
  const keep = (prefix: string, l: string): void => {
    lines.push(prefix + l);
    if (lines.length > 300) lines.shift();
  };
  child.stderr?.setEncoding('utf8').on('data', (c: string) => c.split('\n').filter((l) => l !== '').forEach((l) => keep('[stderr] ', l)));
  let buf = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    buf += c;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      keep('[stdout] ', line);
      if (!line.startsWith('{')) continue;
      let ev: ProxyEvent;
      try {
        ev = JSON.parse(line) as ProxyEvent;
      } catch {
        continue;
      }
      if (typeof ev.event !== 'string') continue;
      events.push(ev);
      for (const w of waiters.filter((x) => x.name === ev.event)) w.resolve(ev);
    }
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const event = (name: string, timeoutMs = 30_000): Promise<ProxyEvent> => {
    const have = events.find((e) => e.event === name);
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${name} event within ${timeoutMs} ms\n--- proxy output ---\n${lines.join('\n')}`)), timeoutMs);
      const done = (e: ProxyEvent): void => {
        clearTimeout(timer);
        resolve(e);
      };
      waiters.push({ name, resolve: done });
      void exit.then((code) => {
        clearTimeout(timer);
        reject(new Error(`proxy exited (code ${code}) before ${name}\n--- proxy output ---\n${lines.join('\n')}`));
      });
    });
  };

  let started: ProxyEvent;
  try {
    started = await event('started', o.startTimeoutMs ?? 30_000);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    pid: child.pid ?? -1,
    child,
    started: started as ProxyProcess['started'],
    event,
    logs: () => lines.join('\n'),
    exited: () => exit,
    async stop(graceMs = 10_000): Promise<number | null> {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exit;
      clearTimeout(t);
      return code;
    },
  };
}

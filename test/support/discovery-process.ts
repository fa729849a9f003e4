// Runs `isthmus discovery` as a child process for end-to-end tests: waits for its ready line, keeps its logs for
// failure messages, reads its debug endpoints, and stops it (SIGTERM, then SIGKILL) by PID.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface DiscoveryAddresses {
  grpc: string;
  http: string;
  monitoring: string;
}

export interface DiscoveryProcess extends DiscoveryAddresses {
  readonly pid: number;
  /** Last ~200 lines of stdout+stderr (for assertion messages). */
  logs(): string;
  /** GET a debug path on the http address and parse it as JSON. */
  debug(path: string): Promise<unknown>;
  stop(): Promise<void>;
}

export interface StartOptions {
  configDir: string;
  extraArgs?: string[];
  readyTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

function isAddresses(v: unknown): v is DiscoveryAddresses & { event: string } {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return o['event'] === 'ready' && typeof o['grpc'] === 'string' && typeof o['http'] === 'string' && typeof o['monitoring'] === 'string';
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/** Starts `node --import tsx src/cli/main.ts discovery --config-dir DIR` on 127.0.0.1 port 0 and waits for ready. */
export async function startDiscovery(o: StartOptions): Promise<DiscoveryProcess> {
  const args = [
    '--import',
    'tsx',
    'src/cli/main.ts',
    'discovery',
    '--config-dir',
    o.configDir,
    '--grpc-addr',
    '127.0.0.1:0',
    '--http-addr',
    '127.0.0.1:0',
    '--monitoring-addr',
    '127.0.0.1:0',
    ...(o.extraArgs ?? []),
  ];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } });
  const lines: string[] = [];
  const keep = (prefix: string, chunk: string): void => {
    for (const l of chunk.split('\n')) {
      if (l.length === 0) continue;
      lines.push(prefix + l);
      if (lines.length > 200) lines.shift();
    }
  };
  child.stderr?.setEncoding('utf8').on('data', (c: string) => keep('[stderr] ', c));

  let onLine: ((line: string) => void) | undefined;
  let buf = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    buf += c;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      keep('[stdout] ', line);
      onLine?.(line);
    }
  });

  const readyTimeoutMs = o.readyTimeoutMs ?? 30000;
  const ready = await new Promise<DiscoveryAddresses>((resolve, reject) => {
    const onExit = (code: number | null, sig: string | null): void => fail(new Error(`discovery exited early (code ${code}, signal ${sig})`));
    const cleanup = (): void => {
      clearTimeout(timer);
      onLine = undefined;
      child.off('exit', onExit);
      child.off('error', fail);
    };
    const fail = (e: Error): void => {
      cleanup();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      reject(new Error(`${e.message}\n--- discovery output ---\n${lines.join('\n')}`));
    };
    const timer = setTimeout(() => fail(new Error(`discovery not ready within ${readyTimeoutMs} ms`)), readyTimeoutMs);
    child.once('error', fail);
    child.once('exit', onExit);
    onLine = (line) => {
      if (!line.startsWith('{')) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        return;
      }
      if (isAddresses(parsed)) {
        cleanup();
        resolve({ grpc: parsed.grpc, http: parsed.http, monitoring: parsed.monitoring });
      }
    };
  });
  const pid = child.pid ?? -1;

  return {
    ...ready,
    pid,
    logs: () => lines.join('\n'),
    async debug(path: string): Promise<unknown> {
      const res = await fetch(`http://${ready.http}${path}`);
      if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
      const body: unknown = await res.json();
      return body;
    },
    async stop(): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      if (await waitExit(child, 3000)) return;
      child.kill('SIGKILL');
      await waitExit(child, 3000);
    },
  };
}

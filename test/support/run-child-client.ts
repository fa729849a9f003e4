// Runs test/support/xds-client-child.ts in a child process with GRPC_XDS_BOOTSTRAP set, and returns its report.
import { spawn } from 'node:child_process';
import { REPO_ROOT } from './discovery-process.js';
import type { ChildReport } from './xds-client-child.js';

export async function runChildClient(o: { bootstrapPath: string; target: string; count: number; timeoutMs?: number }): Promise<ChildReport> {
  const timeoutMs = o.timeoutMs ?? 15000;
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/xds-client-child.ts', o.target, String(o.count), String(timeoutMs)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GRPC_XDS_BOOTSTRAP: o.bootstrapPath, GRPC_XDS_BOOTSTRAP_CONFIG: '' },
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  const code = await new Promise<number | null>((resolve) => {
    // The child bounds its own wait by timeoutMs; this guard only catches a hung child.
    const guard = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 15000);
    child.once('exit', (c) => {
      clearTimeout(guard);
      resolve(c);
    });
  });
  const line = out.trim().split('\n').pop() ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new Error(`child client exited ${code}\nstdout: ${out}\nstderr: ${err}`);
  return JSON.parse(line) as ChildReport;
}

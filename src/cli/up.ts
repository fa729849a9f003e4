// `isthmus up -f mesh.yaml`: runs a whole mesh as local processes (control plane, gateways, sidecars, apps) until
// Ctrl-C / SIGTERM, then stops everything. Shared by `isthmus demo`.
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { ErrorCode, MeshError } from '../shared/errors.js';
import type { LocalMesh, UpOptions } from '../local/runner.js';
import { up } from '../local/runner.js';
import { pointerPath } from '../local/state.js';

export interface Output {
  write(s: string): unknown;
}

export const UP_USAGE = `Usage: isthmus up -f <mesh.yaml> [--run-dir <dir>] [--config <file|dir> ...] [--timeout <duration>]

Runs the mesh described by a mesh file on this machine: the control plane, gateways, and for every workload
replica its app and its sidecar, each on its own loopback address (127.x.y.z). Waits until every proxy is SYNCED
and every health check answers, prints what to open, and runs until Ctrl-C or SIGTERM, which stop everything.
The mesh file format is described in docs/local-mode.md.

Flags:
  -f, --filename <mesh.yaml>  the mesh file (required)
  --run-dir <dir>             run directory: logs, state, config (default: a new directory under the temp dir)
  --config <file|dir>         Istio YAML applied at start, after the mesh file's own config (repeatable)
  --timeout <duration>        how long to wait for the mesh to be ready (default 60s)
  -h, --help                  show this help

Other commands find the running mesh through --run-dir, $ISTHMUS_RUN_DIR, or the file up writes
($XDG_RUNTIME_DIR/isthmus/current, else ~/.isthmus/current): isthmus status, proxy-status, apply, delete.
Exit status: 0 after Ctrl-C/SIGTERM, 1 when the mesh cannot start (invalid file, busy port, not ready in time), 2 on usage errors.
`;

/** `90s`, `2m`, `500ms` or a number of seconds → ms; undefined when invalid. */
export function parseDuration(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(s.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}

export interface RunUpOptions extends Omit<UpOptions, 'out' | 'err' | 'signal'> {
  /** Extra lines printed once the mesh is ready (isthmus demo's task commands). */
  epilogue?: (mesh: LocalMesh) => string;
}

/** A path as the user would type it from the current directory. */
export function shownPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') ? rel : p;
}

function readyBanner(mesh: LocalMesh, explicitRunDir: boolean, env: NodeJS.ProcessEnv): string {
  const s = mesh.state();
  const lines: string[] = [''];
  for (const u of s.urls) lines.push(`  Open ${u}`);
  if (s.urls.length > 0) lines.push('');
  const flag = explicitRunDir ? ` --run-dir ${mesh.runDir}` : '';
  lines.push(`  isthmus status${flag}          workloads, addresses, ports, health`);
  lines.push(`  isthmus proxy-status${flag}    xDS sync state of every proxy`);
  lines.push(`  isthmus apply${flag} -f FILE   change the mesh's Istio config (isthmus delete -f FILE undoes it)`);
  lines.push(`  logs: ${mesh.runDir}/logs/`);
  if (!explicitRunDir) lines.push(`  (other commands find this mesh through ${pointerPath(env)})`);
  lines.push('');
  return lines.join('\n') + '\n';
}

/** Starts the mesh, prints the banner, and waits for SIGINT/SIGTERM; returns the exit status. */
export async function runMesh(o: RunUpOptions, out: Output, err: Output): Promise<number> {
  const ac = new AbortController();
  let mesh: LocalMesh | undefined;
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals > 1 && mesh) {
      err.write(`${sig} again: killing every process now\n`);
      mesh.kill();
      return;
    }
    err.write(`${sig}: stopping the mesh...\n`);
    ac.abort();
    void mesh?.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    try {
      mesh = await up({ ...o, out, err, signal: ac.signal });
    } catch (e) {
      err.write(`isthmus: ${e instanceof Error ? e.message : String(e)}\n`);
      return e instanceof MeshError && e.code === ErrorCode.Usage ? 2 : 1;
    }
    out.write(readyBanner(mesh, o.runDir !== undefined, o.env));
    if (o.epilogue) out.write(o.epilogue(mesh));
    out.write('Press Ctrl-C to stop.\n');
    if (ac.signal.aborted) void mesh.stop();
    await mesh.done;
    out.write(`mesh stopped; logs kept in ${mesh.runDir}/logs/\n`);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export async function runUp(argv: string[], out: Output = process.stdout, err: Output = process.stderr, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values: { filename?: string; 'run-dir'?: string; config?: string[]; timeout?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: {
        filename: { type: 'string', short: 'f' },
        'run-dir': { type: 'string' },
        config: { type: 'string', multiple: true },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    }));
  } catch (e) {
    err.write(`${e instanceof Error ? e.message : String(e)}\n\n${UP_USAGE}`);
    return 2;
  }
  if (values.help) {
    out.write(UP_USAGE);
    return 0;
  }
  if (positionals.length > 0) {
    err.write(`unexpected argument ${JSON.stringify(positionals[0])}\n\n${UP_USAGE}`);
    return 2;
  }
  if (!values.filename) {
    err.write(`-f <mesh.yaml> is required\n\n${UP_USAGE}`);
    return 2;
  }
  const timeout = values.timeout === undefined ? 60_000 : parseDuration(values.timeout);
  if (timeout === undefined) {
    err.write(`invalid --timeout ${JSON.stringify(values.timeout)}: want a duration like 60s or 2m\n`);
    return 2;
  }
  return runMesh(
    {
      meshFile: values.filename,
      ...(values['run-dir'] !== undefined ? { runDir: values['run-dir'] } : {}),
      config: values.config ?? [],
      env,
      readyTimeoutMs: timeout,
    },
    out,
    err,
  );
}

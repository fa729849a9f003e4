// Drives `isthmus discovery` + `isthmus proxy sidecar` for the benchmark: writes the mesh config, starts both,
// and finds out (from `proxy sidecar --help`) whether the proxy can run yet.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isthmusMeshYaml } from './configs.js';
import { run, start, stop } from './procs.js';
import type { Started } from './procs.js';

export interface IsthmusCommand {
  /** argv prefix that runs the CLI: [node, bin/isthmus.js] or [node, --import, tsx, src/cli/main.ts]. */
  argv: string[];
  how: string;
  /** `proxy sidecar --help` text. */
  help: string;
}

/** Finds a way to run `isthmus proxy sidecar`: the compiled CLI first (no tsx loader in the measured process). */
export async function probeProxy(repo: string, cliOverride?: string): Promise<IsthmusCommand | { reason: string }> {
  const candidates: { argv: string[]; how: string }[] = [];
  if (cliOverride) {
    // A .ts entry runs through tsx; a .js/.mjs one (e.g. compiled) with plain node.
    const argv = /\.[cm]?ts$/.test(cliOverride) ? [process.execPath, '--import', 'tsx', cliOverride] : [process.execPath, cliOverride];
    candidates.push({ argv, how: `node ${argv.slice(1).join(' ')}` });
  } else if (existsSync(join(repo, 'dist/cli/main.js'))) candidates.push({ argv: [process.execPath, join(repo, 'bin/isthmus.js')], how: 'node bin/isthmus.js (compiled dist/)' });
  if (!cliOverride) candidates.push({ argv: [process.execPath, '--import', 'tsx', join(repo, 'src/cli/main.ts')], how: 'node --import tsx src/cli/main.ts' });
  const reasons: string[] = [];
  for (const c of candidates) {
    const r = await run(c.argv[0], [...c.argv.slice(1), 'proxy', 'sidecar', '--help'], 60_000);
    const text = `${r.stdout}\n${r.stderr}`;
    if (r.code === 0 && /sidecar/i.test(text)) return { ...c, help: text };
    reasons.push(`${c.how}: exit ${r.code}${r.timedOut ? ' (timed out)' : ''}: ${text.trim().split('\n')[0]?.slice(0, 160) ?? ''}`);
  }
  return { reason: `\`isthmus proxy sidecar --help\` does not work yet — ${reasons.join('; ')}` };
}

export interface DiscoveryOptions {
  repo: string;
  cmd: IsthmusCommand;
  dir: string;
  /** One namespace (and Sidecar listener port) per proxy to benchmark. */
  meshes: { namespace: string; listenPort: number }[];
  upstreamPort: number;
  cpus?: string;
}

export interface Discovery {
  s: Started;
  grpc: string;
}

/** Starts discovery on 127.0.0.1 port 0 with the bench mesh config; resolves its gRPC address from the ready line. */
export async function startDiscovery(o: DiscoveryOptions): Promise<Discovery> {
  const cfg = join(o.dir, 'mesh');
  mkdirSync(cfg, { recursive: true });
  for (const m of o.meshes) writeFileSync(join(cfg, `${m.namespace}.yaml`), isthmusMeshYaml(m.namespace, m.listenPort, o.upstreamPort));
  let resolveReady: (grpc: string) => void = () => undefined;
  const ready = new Promise<string>((r) => (resolveReady = r));
  const s = start('isthmus-discovery', o.cmd.argv[0], [
    ...o.cmd.argv.slice(1), 'discovery', '--config-dir', cfg,
    '--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0', '--monitoring-addr', '127.0.0.1:0', '--log-level', 'warn',
  ], {
    cwd: o.repo,
    cpus: o.cpus,
    logFile: join(o.dir, 'discovery.log'),
    onLine: (l) => {
      try {
        const j = JSON.parse(l) as { event?: string; grpc?: string };
        if (j.event === 'ready' && typeof j.grpc === 'string') resolveReady(j.grpc);
      } catch {
        /* not the ready line */
      }
    },
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`discovery not ready in 60 s:\n${s.tail()}`)), 60_000);
  });
  try {
    return { s, grpc: await Promise.race([ready, timeout]) };
  } catch (e) {
    await stop(s);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

export interface ProxyOptions {
  repo: string;
  cmd: IsthmusCommand;
  dir: string;
  grpc: string;
  namespace: string;
  concurrency: number;
  cpus?: string;
  /** Extra proxy arguments from the environment (BENCH_PROXY_ARGS). */
  extraArgs: string[];
}

/**
 * Starts `isthmus proxy sidecar` as a workload of `namespace` without traffic capture (interception mode NONE: the
 * Sidecar's egress listener is bound to 127.0.0.1:<port>); admin, status and readiness on free ports.
 */
export function startProxy(o: ProxyOptions): { s: Started; command: string } {
  const pod = `bench-client-c${o.concurrency}`;
  const args: string[] = [
    'proxy', 'sidecar',
    '--discovery-address', o.grpc,
    '--concurrency', String(o.concurrency),
    '--pod-name', pod,
    '--namespace', o.namespace,
    '--ip', `127.0.0.${10 + o.concurrency}`,
    '--interception-mode', 'NONE',
    '--admin-addr', '127.0.0.1:0',
    '--status-addr', '127.0.0.1:0',
    '--readiness-addr', '127.0.0.1:0',
    '--drain-duration', '1s',
    '--log-level', 'warn',
    ...o.extraArgs,
  ];
  const s = start(`isthmus-proxy-c${o.concurrency}`, o.cmd.argv[0], [...o.cmd.argv.slice(1), ...args], {
    cwd: o.repo,
    cpus: o.cpus,
    logFile: join(o.dir, `proxy-c${o.concurrency}.log`),
  });
  return { s, command: `isthmus ${args.join(' ')}` };
}

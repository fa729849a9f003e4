// `isthmus demo`: `isthmus up` on the bundled Bookinfo mesh (samples/bookinfo/mesh.yaml), then the commands of
// Istio's traffic-management tasks.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { LocalMesh } from '../local/runner.js';
import type { MeshSpec } from '../local/mesh-file.js';
import { parseDuration, runMesh, shownPath } from './up.js';

export interface Output {
  write(s: string): unknown;
}

export const DEMO_MESH = fileURLToPath(new URL('../../samples/bookinfo/mesh.yaml', import.meta.url));
const NETWORKING = fileURLToPath(new URL('../../samples/bookinfo/networking/', import.meta.url));
const GATEWAY = 'istio-ingressgateway';
const GATEWAY_PORT = 8080;

export const DEMO_USAGE = `Usage: isthmus demo [--port <port>] [--run-dir <dir>] [--timeout <duration>]

Runs Istio's Bookinfo on this machine: control plane, ingress gateway (Gateway bookinfo-gateway, VirtualService
bookinfo), productpage, details, reviews v1/v2/v3, ratings, httpbin v1/v2 and sleep, each workload with its own
sidecar. Waits until everything is SYNCED and the page answers, then prints what to open and the isthmus apply
commands of Istio's tasks. Ctrl-C stops everything. The same as: isthmus up -f samples/bookinfo/mesh.yaml

Flags:
  --port <port>          port on 127.0.0.1 for the ingress gateway (default ${GATEWAY_PORT}; another port is forwarded to it)
  --run-dir <dir>        run directory (default: a new directory under the temp dir)
  --timeout <duration>   how long to wait for the mesh to be ready (default 60s)
  -h, --help             show this help
`;

/** Istio's traffic-management tasks and the sample files each applies, in order. */
const TASKS: readonly { title: string; files: readonly string[] }[] = [
  { title: 'Request routing (all traffic to v1, then jason to v2)', files: ['destination-rule-all.yaml', 'virtual-service-all-v1.yaml', 'virtual-service-reviews-test-v2.yaml'] },
  { title: 'Fault injection (7 s delay, then HTTP 500, for jason)', files: ['virtual-service-ratings-test-delay.yaml', 'virtual-service-ratings-test-abort.yaml'] },
  { title: 'Traffic shifting (50% v3, then 100% v3)', files: ['virtual-service-reviews-50-v3.yaml', 'virtual-service-reviews-v3.yaml'] },
];

function taskLines(mesh: LocalMesh): string {
  const out: string[] = ['Istio tasks (see docs/local-mode.md):'];
  const mentioned = new Set<string>(['bookinfo-gateway.yaml']);
  for (const t of TASKS) {
    const files = t.files.filter((f) => existsSync(join(NETWORKING, f)));
    if (files.length === 0) continue;
    out.push(`  ${t.title}:`);
    for (const f of files) {
      mentioned.add(f);
      out.push(`    isthmus apply -f ${shownPath(join(NETWORKING, f))}`);
    }
  }
  let others: string[] = [];
  try {
    others = readdirSync(NETWORKING).filter((f) => /\.ya?ml$/.test(f) && !mentioned.has(f)).sort();
  } catch {
    // no networking samples
  }
  if (others.length > 0) {
    out.push('  More samples:');
    for (const f of others) out.push(`    isthmus apply -f ${shownPath(join(NETWORKING, f))}`);
  }
  const sleep = mesh.state().workloads.find((w) => w.name === 'sleep');
  if (sleep?.sidecar) {
    out.push('  Requests from the sleep workload, through its sidecar:');
    out.push(`    HTTP_PROXY=http://${sleep.ip}:15001 node --import tsx ${shownPath(fileURLToPath(new URL('../../samples/sleep/curl.ts', import.meta.url)))} http://httpbin:8000/headers`);
  }
  return out.join('\n') + '\n\n';
}

/** Publishes the ingress gateway on 127.0.0.1:<port> when it is not the Gateway's own port. */
export function demoPort(port: number): (mesh: MeshSpec) => void {
  return (mesh) => {
    if (port === GATEWAY_PORT) return;
    const g = mesh.gateways.find((x) => x.name === GATEWAY);
    const p = g?.ports.find((x) => x.port === GATEWAY_PORT);
    if (p) p.hostPort = port;
  };
}

export async function runDemo(argv: string[], out: Output = process.stdout, err: Output = process.stderr, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values: { port?: string; 'run-dir'?: string; timeout?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: { port: { type: 'string' }, 'run-dir': { type: 'string' }, timeout: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }));
  } catch (e) {
    err.write(`${e instanceof Error ? e.message : String(e)}\n\n${DEMO_USAGE}`);
    return 2;
  }
  if (values.help) {
    out.write(DEMO_USAGE);
    return 0;
  }
  if (positionals.length > 0) {
    err.write(`unexpected argument ${JSON.stringify(positionals[0])}\n\n${DEMO_USAGE}`);
    return 2;
  }
  const port = values.port === undefined ? GATEWAY_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    err.write(`invalid --port ${JSON.stringify(values.port)}: want 1-65535\n`);
    return 2;
  }
  const timeout = values.timeout === undefined ? 60_000 : parseDuration(values.timeout);
  if (timeout === undefined) {
    err.write(`invalid --timeout ${JSON.stringify(values.timeout)}: want a duration like 60s\n`);
    return 2;
  }
  return runMesh(
    {
      meshFile: DEMO_MESH,
      ...(values['run-dir'] !== undefined ? { runDir: values['run-dir'] } : {}),
      env,
      readyTimeoutMs: timeout,
      adjust: demoPort(port),
      epilogue: taskLines,
    },
    out,
    err,
  );
}

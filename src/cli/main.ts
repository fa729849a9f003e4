// Entry point of the `isthmus` CLI: dispatches `isthmus <command> [flags]` to one module per command.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Output {
  write(s: string): unknown;
}

interface Command {
  summary: string;
  run(argv: string[], out: Output, err: Output): Promise<number>;
}

/** Commands load lazily, so `isthmus validate` never pays for the control plane's imports. */
const COMMANDS: Record<string, Command> = {
  discovery: {
    summary: 'run the control plane (istiod): Istio YAML → Envoy xDS over gRPC ADS',
    run: async (argv, out, err) => (await import('./discovery.js')).runDiscoveryCommand(argv, out, err),
  },
  proxy: {
    summary: 'run the data-plane proxy (istio-proxy): sidecar or router (gateway), driven by xDS',
    run: async (argv, out, err) => (await import('./proxy.js')).runProxyCommand(argv, out, err),
  },
  validate: {
    summary: 'validate Istio YAML/JSON files like istioctl validate',
    run: async (argv, out, err) => (await import('./validate.js')).runValidate(argv, out, err),
  },
  up: {
    summary: 'run a mesh file locally: control plane, gateways, sidecars and apps, each on its own 127.x.y.z',
    run: async (argv, out, err) => {
      (await import('./v8-memory.js')).holdV8ForStartup();
      return (await import('./up.js')).runUp(argv, out, err);
    },
  },
  demo: {
    summary: 'run Bookinfo, httpbin and sleep behind an ingress gateway on 127.0.0.1:8080 (isthmus up on the sample)',
    run: async (argv, out, err) => {
      (await import('./v8-memory.js')).holdV8ForStartup();
      return (await import('./demo.js')).runDemo(argv, out, err);
    },
  },
  apply: {
    summary: 'validate Istio YAML and apply it to the running local mesh, then wait for the proxies to sync',
    run: async (argv, out, err) => (await import('./apply.js')).runApply(argv, out, err),
  },
  delete: {
    summary: 'delete the resources a file names from the running local mesh',
    run: async (argv, out, err) => (await import('./delete.js')).runDelete(argv, out, err),
  },
  'proxy-status': {
    summary: 'sync state (SYNCED / STALE / NOT SENT) of every proxy of the running local mesh, like istioctl',
    run: async (argv, out, err) => (await import('./proxy-status.js')).runProxyStatus(argv, out, err),
  },
  status: {
    summary: 'workloads of the running local mesh: addresses, ports, PIDs, health',
    run: async (argv, out, err) => (await import('./status.js')).runStatus(argv, out, err),
  },
};

export function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: isthmus <command> [flags]

Isthmus is an Istio-compatible service mesh.

Commands:
${lines.join('\n')}

Run 'isthmus <command> --help' for the flags of a command.
`;
}

/** Runs one command line (without the node and script arguments); resolves with the exit status. */
export async function main(argv: string[], out: Output = process.stdout, err: Output = process.stderr): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    if (name === 'help' && rest[0] && Object.hasOwn(COMMANDS, rest[0])) return main([rest[0], '--help'], out, err);
    (name === undefined ? err : out).write(usage());
    return name === undefined ? 2 : 0;
  }
  const cmd = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!cmd) {
    err.write(`isthmus: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  return cmd.run(rest, out, err);
}

/** True when this module is the process entry (node src/cli/main.ts, dist/cli/main.js, or bin/isthmus.js). */
function isEntry(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  let real: string;
  try {
    real = realpathSync(script);
  } catch {
    return false;
  }
  const self = fileURLToPath(import.meta.url);
  const bin = fileURLToPath(new URL('../../bin/isthmus.js', import.meta.url));
  return real === self || real === bin;
}

if (isEntry()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`isthmus: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}

// `isthmus status`: the running local mesh's control plane, gateways and workloads with addresses, ports, PIDs and
// health (probed now).
import { parseArgs } from 'node:util';
import { statusReport } from '../local/report.js';
import { findRunDir, readRunningState } from '../local/state.js';

export interface Output {
  write(s: string): unknown;
}

export const STATUS_USAGE = `Usage: isthmus status [--run-dir <dir>] [--json]

Shows the running local mesh: control plane addresses, gateways, and every workload instance with its address,
ports (service port → app port behind the sidecar), app and sidecar PIDs, and health: the app's health path
answered directly and through its sidecar, and the sidecar's readiness (15021 /healthz/ready).

Flags:
  --run-dir <dir>   the mesh's run directory (default: $ISTHMUS_RUN_DIR, else the mesh isthmus up started last)
  --json            print the state file (processes, PIDs, addresses) instead
  -h, --help        show this help
`;

export async function runStatus(argv: string[], out: Output = process.stdout, err: Output = process.stderr, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values: { 'run-dir'?: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { 'run-dir': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (e) {
    err.write(`${e instanceof Error ? e.message : String(e)}\n\n${STATUS_USAGE}`);
    return 2;
  }
  if (values.help) {
    out.write(STATUS_USAGE);
    return 0;
  }
  try {
    const state = readRunningState(findRunDir(values['run-dir'], env));
    out.write(values.json ? JSON.stringify(state, null, 2) + '\n' : await statusReport(state));
    return 0;
  } catch (e) {
    err.write(`isthmus status: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

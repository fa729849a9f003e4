// `isthmus proxy-status`: every proxy connected to the running mesh's control plane with its sync state per xDS type
// (SYNCED / STALE / NOT SENT), as istioctl proxy-status prints it.
import { parseArgs } from 'node:util';
import { proxyStatusReport } from '../local/report.js';
import { findRunDir, readRunningState } from '../local/state.js';
import { fetchSyncz } from '../local/sync.js';

export interface Output {
  write(s: string): unknown;
}

export const PROXY_STATUS_USAGE = `Usage: isthmus proxy-status [--run-dir <dir>]

Lists every proxy of the running local mesh with the state of each xDS type: SYNCED (the proxy acknowledged the
last version sent), STALE (sent, not acknowledged yet, or rejected: NACK), NOT SENT (nothing sent yet).

Flags:
  --run-dir <dir>   the mesh's run directory (default: $ISTHMUS_RUN_DIR, else the mesh isthmus up started last)
  -h, --help        show this help
`;

export async function runProxyStatus(argv: string[], out: Output = process.stdout, err: Output = process.stderr, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values: { 'run-dir'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { 'run-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (e) {
    err.write(`${e instanceof Error ? e.message : String(e)}\n\n${PROXY_STATUS_USAGE}`);
    return 2;
  }
  if (values.help) {
    out.write(PROXY_STATUS_USAGE);
    return 0;
  }
  try {
    const state = readRunningState(findRunDir(values['run-dir'], env));
    if (!state.discovery) throw new Error('the control plane is not up yet');
    out.write(proxyStatusReport(await fetchSyncz(state.discovery.http), state));
    return 0;
  } catch (e) {
    err.write(`isthmus proxy-status: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

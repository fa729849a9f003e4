// Child-process proxyless gRPC client: takes its bootstrap the production way (GRPC_XDS_BOOTSTRAP, read once per
// process by grpc-js-xds), makes `count` Hello calls to `target` and prints one JSON line with the outcomes.
// Usage: GRPC_XDS_BOOTSTRAP=/path/bootstrap.json node --import tsx test/support/xds-client-child.ts TARGET COUNT [TIMEOUT_MS]
import { XdsEchoClient } from './xds-client.js';
import type { CallResult } from './xds-client.js';

export interface ChildReport {
  results: { ok: boolean; server?: string; code?: number; details?: string }[];
  firstOkMs: number | null;
}

async function main(): Promise<void> {
  const [target, countArg, timeoutArg] = process.argv.slice(2);
  if (!target || !countArg) throw new Error('usage: xds-client-child.ts TARGET COUNT [TIMEOUT_MS]');
  const count = Number(countArg);
  const timeoutMs = Number(timeoutArg ?? '15000');
  const client = new XdsEchoClient(target);
  const t0 = performance.now();
  const first = await client.until((r) => r.ok, timeoutMs).catch((e: unknown) => {
    process.stderr.write(`${String(e)}\n`);
    return undefined;
  });
  const report: ChildReport = { results: [], firstOkMs: first ? performance.now() - t0 : null };
  const add = (r: CallResult): void => {
    report.results.push(r.ok ? { ok: true, server: r.reply.server } : { ok: false, code: r.code, details: r.details });
  };
  if (first) {
    add(first);
    for (let i = 1; i < count; i++) add(await client.call());
  }
  process.stdout.write(`${JSON.stringify(report)}\n`);
  const failed = report.results.filter((r) => !r.ok);
  if (failed.length > 0) process.stderr.write(`${failed.length} failed calls, first: ${JSON.stringify(failed[0])}\n`);
  client.close();
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(2);
  },
);

// Entry point: `main.ts <productpage|details|reviews|ratings> [--version v] [--bind HOST:PORT]` runs one Bookinfo service.
import { startBookinfoService } from './app.js';
import { parseConfig, USAGE } from './config.js';

const parsed = parseConfig(process.argv.slice(2), process.env);
if (!parsed.ok) {
  if (parsed.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  for (const e of parsed.errors) process.stderr.write(`bookinfo: ${e}\n`);
  process.stderr.write(USAGE);
  process.exit(2);
}
const { config } = parsed;
try {
  const app = await startBookinfoService(config);
  const via = config.proxy ? ` (calls via proxy ${config.proxy})` : '';
  process.stdout.write(`${config.service} ${config.version} (${config.workloadName}) listening on ${app.url}${via}\n`);
  const stop = (signal: string): void => {
    process.stdout.write(`${config.service}: ${signal}, shutting down\n`);
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
} catch (err) {
  process.stderr.write(`bookinfo ${config.service}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

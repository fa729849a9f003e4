// The sleep workload: a client that only stays alive, so requests can be made "from" it through its sidecar.
// With BIND (or --bind HOST:PORT) it also answers GET /health, for runners that probe every workload.
import type { RunningServer } from '../bookinfo/src/common/http.js';
import { parseBind, sendJson, startServer } from '../bookinfo/src/common/http.js';

const args = process.argv.slice(2);
const bindAt = args.indexOf('--bind');
const bindText = bindAt >= 0 ? args[bindAt + 1] : process.env.BIND;
let server: RunningServer | undefined;
try {
  if (bindText) {
    server = await startServer((_req, res) => sendJson(res, 200, { status: 'sleep is alive' }), parseBind(bindText, 80));
  }
} catch (err) {
  process.stderr.write(`sleep: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
process.stdout.write(`sleep: running${server ? ` (health on ${server.url}/health)` : ''}; use samples/sleep/curl.ts with HTTP_PROXY=${process.env.HTTP_PROXY ?? '<unset>'}\n`);
const keepAlive = setInterval(() => {}, 1 << 30);
const stop = (): void => {
  clearInterval(keepAlive);
  const done = (): never => process.exit(0);
  if (server) server.close().then(done, done);
  else done();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

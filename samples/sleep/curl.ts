// CLI: `node --import tsx samples/sleep/curl.ts URL [-H 'Name: value']...` makes one request via HTTP_PROXY and prints status + body.
import { curl, CURL_USAGE, formatReply, parseCurlArgs } from './request.js';

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(CURL_USAGE);
  process.exit(0);
}
const parsed = parseCurlArgs(argv);
if (!parsed.ok) {
  for (const e of parsed.errors) process.stderr.write(`curl: ${e}\n`);
  process.stderr.write(CURL_USAGE);
  process.exit(2);
}
const o = parsed.options;
const proxy = o.proxy ?? process.env.HTTP_PROXY ?? process.env.http_proxy;
const outcome = await curl(o, proxy || undefined);
if (!outcome.ok) {
  process.stderr.write(`curl: ${outcome.timeout ? `timed out after ${o.timeoutMs} ms` : outcome.error}\n`);
  process.exit(outcome.timeout ? 28 : 7);
}
process.stdout.write(formatReply(outcome.reply, o.include));
process.exitCode = o.fail && outcome.reply.status >= 400 ? 22 : 0;

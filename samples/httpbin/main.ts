// Entry point: `main.ts [--version v1|v2] [--bind HOST:PORT]` runs httpbin (default 127.0.0.1:8000).
import { parseBind, startServer } from '../bookinfo/src/common/http.js';
import { createHttpbinHandler } from './app.js';

const USAGE = `usage: node --import tsx samples/httpbin/main.ts [--version v1|v2] [--bind HOST:PORT]
environment: BIND (default 127.0.0.1:8000), SERVICE_VERSION (default v1), ACCESS_LOG=0 (no request log)
`;

let version = process.env.SERVICE_VERSION ?? process.env.VERSION ?? 'v1';
let bindText = process.env.BIND ?? '127.0.0.1:8000';
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i] ?? '';
  const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
  const value = inline ?? args[++i];
  if (flag === '--help' || flag === '-h') {
    process.stdout.write(USAGE);
    process.exit(0);
  } else if (value === undefined) {
    process.stderr.write(`httpbin: ${flag} needs a value\n${USAGE}`);
    process.exit(2);
  } else if (flag === '--version') version = value;
  else if (flag === '--bind') bindText = value;
  else {
    process.stderr.write(`httpbin: unknown argument ${a}\n${USAGE}`);
    process.exit(2);
  }
}

try {
  const bind = parseBind(bindText, 8000);
  const label = `httpbin-${version}`;
  const app = await startServer(createHttpbinHandler({ version }), bind, {
    label,
    ...(process.env.ACCESS_LOG === '0' ? {} : { accessLog: (line: string) => process.stdout.write(line) }),
  });
  process.stdout.write(`${label} listening on ${app.url}\n`);
  const stop = (): void => {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} catch (err) {
  process.stderr.write(`httpbin: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

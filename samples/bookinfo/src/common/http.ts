// Small node:http helpers shared by the sample apps: bind parsing, JSON/text replies, body reading, access log, start/stop.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BindAddress {
  host: string;
  port: number;
}

/** Parses `HOST:PORT`, `[V6]:PORT`, `:PORT`, `PORT` or `HOST` (default host 127.0.0.1). */
export function parseBind(value: string, defaultPort: number): BindAddress {
  const v = value.trim();
  let host = '127.0.0.1';
  let port = String(defaultPort);
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(v);
  if (v6) {
    host = v6[1] ?? host;
    port = v6[2] ?? port;
  } else if (/^\d+$/.test(v)) {
    port = v;
  } else {
    const i = v.lastIndexOf(':');
    if (i < 0) host = v;
    else {
      if (i > 0) host = v.slice(0, i);
      port = v.slice(i + 1);
    }
  }
  const n = Number(port);
  if (!/^\d+$/.test(port) || n > 65535 || host === '') throw new Error(`invalid bind address "${value}" (want HOST:PORT)`);
  return { host, port: n };
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export interface RunningServer {
  readonly server: Server;
  readonly host: string;
  readonly port: number;
  /** Base URL, e.g. http://127.0.0.1:9080 */
  readonly url: string;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Receives one access-log line per finished (or aborted) request; omit for no access log. */
  accessLog?: (line: string) => void;
  /** Label written at the start of each access-log line, e.g. `reviews-v2`. */
  label?: string;
}

/** Starts a server on `bind`; rejects with a message naming the address when it is busy or unavailable. */
export function startServer(handler: Handler, bind: BindAddress, opts: StartOptions = {}): Promise<RunningServer> {
  const server = createServer((req, res) => {
    const started = performance.now();
    const log = opts.accessLog;
    if (log) res.once('close', () => log(accessLogLine(opts.label ?? 'app', req, res, started)));
    let result: Promise<void> | void;
    try {
      result = handler(req, res);
    } catch (err) {
      fail(res, err);
      return;
    }
    if (result) result.catch((err: unknown) => fail(res, err));
  });
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const where = `${bind.host}:${bind.port}`;
      if (err.code === 'EADDRINUSE') reject(new Error(`address ${where} is already in use`, { cause: err }));
      else if (err.code === 'EADDRNOTAVAIL') reject(new Error(`address ${where} is not available on this machine`, { cause: err }));
      else reject(new Error(`cannot listen on ${where}: ${err.message}`, { cause: err }));
    });
    server.listen(bind.port, bind.host, () => {
      const addr = server.address() as AddressInfo;
      const hostForUrl = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      resolve({
        server,
        host: addr.address,
        port: addr.port,
        url: `http://${hostForUrl}:${addr.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

function fail(res: ServerResponse, err: unknown): void {
  const msg = err instanceof Error ? err.message : String(err);
  if (!res.headersSent) sendJson(res, 500, { error: msg });
  else res.destroy();
}

/** One access-log line: `<time> <label> "<METHOD> <path> HTTP/<v>" <status> <ms>ms authority=<host> from=<addr>`. */
export function accessLogLine(label: string, req: IncomingMessage, res: ServerResponse, startedMs: number): string {
  const status = res.writableFinished ? String(res.statusCode) : 'aborted';
  const ms = Math.round(performance.now() - startedMs);
  const authority = req.headers.host ?? '-';
  const from = req.socket.remoteAddress ?? '-';
  return `${new Date().toISOString()} ${label} "${req.method ?? '-'} ${req.url ?? '-'} HTTP/${req.httpVersion}" ${status} ${ms}ms authority=${authority} from=${from}\n`;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType = 'text/plain; charset=utf-8', headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function redirect(res: ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(302, { ...headers, location, 'content-length': 0 });
  res.end();
}

/** Reads the whole request body, failing beyond `limit` bytes. */
export async function readBody(req: IncomingMessage, limit = 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new Error(`request body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Path without the query string. */
export function pathOf(req: IncomingMessage): string {
  let url = req.url ?? '/';
  if (!url.startsWith('/')) {
    // absolute-form request target (a client that treats us as a proxy): keep only the path
    const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(url);
    url = m ? url.slice(m[0].length) || '/' : '/' + url;
  }
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

// Test harness: a stand-in listener that hands accepted sockets to the HTTP handler (as the listener layer does),
// echoing upstream servers, and a small HTTP/1.1 client; everything on 127.0.0.1 port 0.
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import type { ClusterManager, ConfigSource, ConnectionInfo } from '../runtime/contracts.js';
import type { HttpConnectionManagerConfig } from '../runtime/types.js';
import { Stats } from '../telemetry/stats.js';
import { createHttpHandler, type HttpHandler, type HttpHandlerDeps } from './index.js';
import { AccessLogSinks } from './log-writer.js';
import { StaticConfigSource } from './testing.js';

export interface ProxyUnderTest {
  port: number;
  handler: HttpHandler;
  stats: Stats;
  /** Access-log lines written so far (config.accessLog entries with any path are captured). */
  logs: string[];
  /** Waits until n access-log lines were written (they are flushed once per event-loop turn). */
  waitLogs(n: number): Promise<string[]>;
  close(): Promise<void>;
}

export async function startProxy(
  config: HttpConnectionManagerConfig,
  clusters: ClusterManager,
  opts: { source?: ConfigSource; info?: Partial<ConnectionInfo>; deps?: Partial<HttpHandlerDeps>; wrap?: (s: Socket) => Socket } = {},
): Promise<ProxyUnderTest> {
  const stats = new Stats();
  const logs: string[] = [];
  let waiter: (() => void) | null = null;
  const sinks = new AccessLogSinks(() => ({
    write(s: string): boolean {
      for (const l of s.split('\n')) if (l) logs.push(l);
      waiter?.();
      return true;
    },
  }));
  const handler = createHttpHandler(config, { config: opts.source ?? StaticConfigSource.routes([]), clusters, stats, logSinks: sinks, ...opts.deps });
  const server: NetServer = createNetServer({ allowHalfOpen: true }, (socket) => {
    handler.onConnection(opts.wrap ? opts.wrap(socket) : socket, {
      listenerName: 'test',
      filterChainName: 'test',
      localAddress: socket.localAddress ?? '127.0.0.1',
      localPort: socket.localPort ?? 0,
      remoteAddress: socket.remoteAddress ?? '127.0.0.1',
      remotePort: socket.remotePort ?? 0,
      transport: 'raw_buffer',
      ...opts.info,
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    handler,
    stats,
    logs,
    async waitLogs(n: number): Promise<string[]> {
      while (logs.length < n) await new Promise<void>((r) => (waiter = r));
      waiter = null;
      return logs;
    },
    async close(): Promise<void> {
      handler.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface Upstream {
  name: string;
  port: number;
  server: Server;
  /** Requests seen: method, url, lower-case header object, body. */
  seen: { method: string; url: string; headers: Record<string, string | string[] | undefined>; body: string }[];
  close(): Promise<void>;
}

export type UpstreamFn = (req: IncomingMessage, res: ServerResponse, body: string, up: Upstream) => void;

/** Default upstream behaviour: 200 with a JSON echo of what arrived. */
export const echo: UpstreamFn = (req, res, body, up) => {
  const payload = JSON.stringify({ server: up.name, method: req.method, url: req.url, headers: req.headers, body });
  res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': up.name });
  res.end(payload);
};

export async function startUpstream(name: string, fn: UpstreamFn = echo): Promise<Upstream> {
  const up: Upstream = { name, port: 0, server: undefined as unknown as Server, seen: [], close: async () => {} };
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      up.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      fn(req, res, body, up);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  up.server = server;
  up.port = (server.address() as AddressInfo).port;
  up.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return up;
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP/1.1 request on a fresh connection. */
export function get(port: number, path = '/', opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; host?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { host: opts.host ?? 'svc', ...opts.headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Writes raw bytes on a new connection; resolves with everything received until the server closes (or timeoutMs). */
export function rawExchange(port: number, data: string | Buffer, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(data));
    let out = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => (out += d));
    s.on('close', () => resolve(out));
    s.on('error', () => resolve(out));
    s.setTimeout(timeoutMs, () => s.destroy());
  });
}

// A tiny HTTP front for the admin and agent endpoints: parse the request into AdminRequest, run a handler, reply.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode, MeshError, toMeshError } from '../../shared/errors.js';
import { logger } from '../../shared/log.js';

const log = logger('admin');

export interface AdminRequest {
  method: string;
  path: string;
  query: URLSearchParams;
}

export interface AdminResponse {
  status: number;
  contentType: string;
  body: string;
  /** Runs once the response is flushed (e.g. /quitquitquit exits after answering). */
  after?: () => void;
}

export type AdminHandler = (req: AdminRequest) => Promise<AdminResponse>;

export const text = (status: number, body: string, after?: () => void): AdminResponse => ({
  status,
  contentType: 'text/plain; charset=UTF-8',
  body,
  ...(after ? { after } : {}),
});
export const json = (status: number, v: unknown): AdminResponse => ({ status, contentType: 'application/json', body: JSON.stringify(v, null, 2) + '\n' });

/** `host:port` → parts; `:15000` and bare `15000` mean 127.0.0.1; IPv6 as `[::1]:15000`. */
export function parseHostPort(addr: string, what: string): { host: string; port: number } {
  let host = '127.0.0.1';
  let portText = addr;
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(addr) ?? /^([^:]*):(\d+)$/.exec(addr);
  if (m) {
    host = m[1] || '127.0.0.1';
    portText = m[2]!;
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new MeshError(ErrorCode.Usage, `invalid ${what} address ${JSON.stringify(addr)}: want host:port`);
  return { host, port };
}

export const formatHostPort = (a: { address: string; port: number }): string => (a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`);

async function handle(handler: AdminHandler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin');
  let r: AdminResponse;
  try {
    r = await handler({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams });
  } catch (e) {
    r = text(500, `${toMeshError(e).message}\n`);
  }
  res.writeHead(r.status, { 'content-type': r.contentType, 'cache-control': 'no-cache, max-age=0', 'x-content-type-options': 'nosniff' });
  res.end(r.body, () => r.after?.());
}

/** Binds an HTTP server for `handler` at `addr`; resolves with the server and its bound address (port 0 resolved). */
export async function serveHttp(addr: string, what: string, handler: AdminHandler): Promise<{ server: Server; address: string }> {
  const { host, port } = parseHostPort(addr, what);
  const server = createServer((req, res) => {
    req.resume();
    void handle(handler, req, res);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new MeshError(toMeshError(e).code, `cannot bind the ${what} endpoint on ${addr}: ${toMeshError(e).message}`, { cause: e })));
    server.listen({ host, port }, () => resolve());
  });
  server.on('error', (e) => log.error(`${what} server error`, { error: e.message }));
  const a = server.address() as AddressInfo;
  return { server, address: formatHostPort(a) };
}

/** Closes an HTTP server and its idle keep-alive connections. */
export function closeHttp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

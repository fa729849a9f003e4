// Upstream test apps for mini-mesh tests: an HTTP/1.1 echo server on its own loopback IP that reports which app served
// (`x-app` header, JSON body with the request it saw), records requests, and can be told to fail or stall.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the app saw (also the JSON body of its default reply). */
export interface SeenRequest {
  app: string;
  method: string;
  /** Path and query as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Remote address:port of the connection (the proxy's upstream side). */
  remote: string;
  /** Connection sequence number on this app (1 = first connection accepted). */
  connection: number;
}

/**
 * Handles one request instead of the echo; return false to fall through to the echo reply. `seen` is already recorded.
 */
export type AppHandler = (req: IncomingMessage, res: ServerResponse, seen: SeenRequest) => boolean | void;

export interface AppOptions {
  name: string;
  ip: string;
  /** 0 (default) picks a free port. */
  port?: number;
  handler?: AppHandler;
}

export interface App {
  readonly name: string;
  readonly ip: string;
  readonly port: number;
  /** `ip:port` */
  readonly address: string;
  readonly server: Server;
  /** Every request seen, oldest first. */
  readonly requests: SeenRequest[];
  /** Connections accepted so far. */
  connections(): number;
  /** Connections currently open. */
  openConnections(): number;
  /** Replace (or with undefined, clear) the custom handler. */
  setHandler(h: AppHandler | undefined): void;
  /** Forget recorded requests. */
  reset(): void;
  /** Resolves with the first recorded request (past or future, since the last reset) matching `pred`. */
  waitForRequest(pred: (r: SeenRequest) => boolean, timeoutMs?: number): Promise<SeenRequest>;
  close(): Promise<void>;
}

/**
 * Request headers the default echo obeys (they pass through the proxy untouched):
 *   x-echo-status: N       reply with status N
 *   x-echo-delay-ms: N     reply after N ms
 *   x-echo-header: k=v     add response header k: v (repeatable, comma-separated)
 */
function echo(req: IncomingMessage, res: ServerResponse, seen: SeenRequest): void {
  const status = Number(req.headers['x-echo-status'] ?? 200);
  const delay = Number(req.headers['x-echo-delay-ms'] ?? 0);
  const extra = String(req.headers['x-echo-header'] ?? '').split(',').map((s) => s.trim()).filter((s) => s.includes('='));
  const reply = (): void => {
    if (res.destroyed) return;
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.setHeader('x-app', seen.app);
    for (const kv of extra) {
      const i = kv.indexOf('=');
      res.appendHeader(kv.slice(0, i), kv.slice(i + 1));
    }
    res.end(JSON.stringify(seen));
  };
  if (delay > 0) setTimeout(reply, delay);
  else reply();
}

export async function startApp(o: AppOptions): Promise<App> {
  const requests: SeenRequest[] = [];
  const waiters: { pred: (r: SeenRequest) => boolean; resolve: (r: SeenRequest) => void }[] = [];
  let handler = o.handler;
  let accepted = 0;
  let open = 0;
  const connIds = new WeakMap<object, number>();
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const seen: SeenRequest = {
        app: o.name,
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        remote: `${req.socket.remoteAddress}:${req.socket.remotePort}`,
        connection: connIds.get(req.socket) ?? 0,
      };
      requests.push(seen);
      for (const w of [...waiters]) {
        if (w.pred(seen)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(seen);
        }
      }
      if (handler && handler(req, res, seen) !== false) return;
      echo(req, res, seen);
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s) => {
    connIds.set(s, ++accepted);
    open++;
    s.once('close', () => open--);
  });
  server.listen(o.port ?? 0, o.ip);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    name: o.name,
    ip: o.ip,
    port,
    address: `${o.ip}:${port}`,
    server,
    requests,
    connections: () => accepted,
    openConnections: () => open,
    setHandler: (h) => (handler = h),
    reset: () => void requests.splice(0),
    waitForRequest(pred, timeoutMs = 10_000) {
      const have = requests.find(pred);
      if (have) return Promise.resolve(have);
      return new Promise((resolve, reject) => {
        const w = {
          pred,
          resolve: (r: SeenRequest): void => {
            clearTimeout(t);
            resolve(r);
          },
        };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`app ${o.name}: no matching request within ${timeoutMs} ms (saw ${requests.length})`));
        }, timeoutMs);
        waiters.push(w);
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

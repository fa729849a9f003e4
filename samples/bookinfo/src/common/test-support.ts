// Test helpers for the samples: a recording fake server and a recording HTTP forward proxy (like a sidecar's HTTP proxy mode).
import { request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { readBody, startServer } from './http.js';
import type { RunningServer } from './http.js';

export interface Recorded {
  method: string;
  /** Request target exactly as on the request line (absolute URI when sent to a proxy). */
  target: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface FakeServer extends RunningServer {
  readonly requests: Recorded[];
}

/** A server on 127.0.0.1:0 that records each request, then lets `reply` answer it. */
export async function fakeServer(reply: (req: Recorded, res: ServerResponse) => void | Promise<void>): Promise<FakeServer> {
  const requests: Recorded[] = [];
  const s = await startServer(async (req: IncomingMessage, res) => {
    const rec: Recorded = { method: req.method ?? '', target: req.url ?? '', headers: req.headers, body: (await readBody(req)).toString('utf8') };
    requests.push(rec);
    await reply(rec, res);
  }, { host: '127.0.0.1', port: 0 });
  return { ...s, requests };
}

/** JSON reply helper for fake servers. */
export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * An HTTP forward proxy: records each request line and forwards `http://<name>:<port>/...` to `routes[name]`
 * (a base URL), or answers 502 for unknown names. Only absolute-form targets are accepted (400 otherwise).
 */
export async function forwardProxy(routes: Record<string, string>): Promise<FakeServer> {
  const requests: Recorded[] = [];
  const s = await startServer((req, res) => {
    const target = req.url ?? '';
    requests.push({ method: req.method ?? '', target, headers: req.headers, body: '' });
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      res.writeHead(400).end('not an absolute URI');
      return;
    }
    const base = routes[url.hostname];
    if (!base) {
      res.writeHead(502).end(`no route to ${url.hostname}`);
      return;
    }
    const up = new URL(base);
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    const out = httpRequest({ host: up.hostname, port: up.port, method: req.method, path: url.pathname + url.search, headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    out.on('error', () => {
      if (!res.headersSent) res.writeHead(503).end('upstream connect error');
      else res.destroy();
    });
    res.on('close', () => out.destroy());
    req.pipe(out);
  }, { host: '127.0.0.1', port: 0 });
  return { ...s, requests };
}

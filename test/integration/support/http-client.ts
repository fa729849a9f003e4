// A small HTTP/1.1 client for mini-mesh tests: one request to a proxy listener with a chosen Host header, returning
// status, headers, body and elapsed time; plus helpers to fire many requests and count who served them.
import { Agent, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Milliseconds from sending to the end of the response. */
  ms: number;
  /** The `x-app` response header (which test app served), if any. */
  app: string | undefined;
  /** Body parsed as JSON (throws when it is not JSON). */
  json<T = Record<string, unknown>>(): T;
}

export interface RequestOptions {
  /** Host header (the service host the route config matches on). */
  host: string;
  path?: string;
  method?: string;
  headers?: OutgoingHttpHeaders;
  body?: string;
  /** Client-side timeout (default 15 s): the request fails with an error when it passes. */
  timeoutMs?: number;
  /** node:http agent; false (default) opens a fresh connection. */
  agent?: Agent | false;
}

/** Sends one HTTP/1.1 request to `address` (`ip:port`). */
export function send(address: string, o: RequestOptions): Promise<Reply> {
  const i = address.lastIndexOf(':');
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: address.slice(0, i),
        port: Number(address.slice(i + 1)),
        method: o.method ?? 'GET',
        path: o.path ?? '/',
        agent: o.agent ?? false,
        headers: { host: o.host, ...o.headers },
        timeout: o.timeoutMs ?? 15_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('error', reject);
        res.on('end', () => {
          const app = res.headers['x-app'];
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            ms: performance.now() - started,
            app: typeof app === 'string' ? app : undefined,
            json: <T>() => JSON.parse(body) as T,
          });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request ${o.method ?? 'GET'} ${o.host}${o.path ?? '/'} timed out`)));
    req.on('error', reject);
    req.end(o.body);
  });
}

/** A keep-alive agent for bursts of requests (close it with `agent.destroy()`). */
export function keepAliveAgent(maxSockets = 8): Agent {
  return new Agent({ keepAlive: true, maxSockets });
}

/** Sends `n` requests (at most `concurrency` in flight) and returns the replies in completion order. */
export async function sendMany(address: string, n: number, o: RequestOptions | ((i: number) => RequestOptions), concurrency = 8): Promise<Reply[]> {
  const out: Reply[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      out.push(await send(address, typeof o === 'function' ? o(i) : o));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, () => worker()));
  return out;
}

/** How many replies each value of `key` (default: the serving app) got; undefined keys count as '-'. */
export function countBy(replies: readonly Reply[], key: (r: Reply) => string | number | undefined = (r) => r.app): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of replies) {
    const k = String(key(r) ?? '-');
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

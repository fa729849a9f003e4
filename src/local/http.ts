// Minimal HTTP GET for the runner's probes and the control plane's debug endpoints: no proxy, no keep-alive, a deadline.
import { request } from 'node:http';

export interface HttpResult {
  status: number;
  body: string;
}

/** GET `url` (http only); rejects on connection errors and after `timeoutMs`. */
export function httpGet(url: string, timeoutMs = 2000, maxBody = 4 << 20): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', agent: false, timeout: timeoutMs, headers: { 'user-agent': 'isthmus-local' } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= maxBody) chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** GET and parse JSON; rejects unless the status is 200. */
export async function httpGetJson(url: string, timeoutMs = 2000): Promise<unknown> {
  const r = await httpGet(url, timeoutMs);
  if (r.status !== 200) throw new Error(`GET ${url}: HTTP ${r.status}: ${r.body.slice(0, 200)}`);
  return JSON.parse(r.body) as unknown;
}

export interface Probe {
  ok: boolean;
  /** "HTTP 200", "connection refused", ... */
  detail: string;
}

function errText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET') return 'connection reset';
  return e instanceof Error ? e.message : String(e);
}

/** Healthy when the URL answers 2xx or 3xx. */
export async function probe(url: string, timeoutMs = 2000): Promise<Probe> {
  try {
    const r = await httpGet(url, timeoutMs, 64 << 10);
    return { ok: r.status >= 200 && r.status < 400, detail: `HTTP ${r.status}` };
  } catch (e) {
    return { ok: false, detail: errText(e) };
  }
}

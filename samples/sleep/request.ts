// A tiny curl for the sleep workload: parse curl-style arguments, make one request (through HTTP_PROXY), format the reply.
import { Agent, ProxyAgent, request } from 'undici';
import type { Dispatcher } from 'undici';

export interface CurlOptions {
  url: string;
  method: string;
  headers: Record<string, string>;
  data: string | undefined;
  /** Proxy URL from -x, or undefined to use the environment's HTTP_PROXY. */
  proxy: string | undefined;
  /** Whole-request deadline in ms (-m seconds). */
  timeoutMs: number;
  /** -i: print response headers. */
  include: boolean;
  /** -f: exit 22 when the status is 400 or more. */
  fail: boolean;
}

export const CURL_USAGE = `usage: curl.ts URL [-H 'Name: value']... [-X METHOD] [-d DATA] [-x PROXY] [-m SECONDS] [-i] [-f] [-s]
Prints the status line, (with -i) the response headers, a blank line, then the body.
Uses HTTP_PROXY (or -x) for http:// URLs, e.g. the sleep workload's sidecar. Exit: 0 reply, 22 with -f and status >= 400, 7 no connection, 28 timeout.
`;

export function parseCurlArgs(argv: readonly string[]): { ok: true; options: CurlOptions } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const o: CurlOptions = { url: '', method: '', headers: {}, data: undefined, proxy: undefined, timeoutMs: 30_000, include: false, fail: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) errors.push(`${a} needs a value`);
      return v ?? '';
    };
    switch (a) {
      case '-H':
      case '--header': {
        const h = next();
        const c = h.indexOf(':');
        if (c <= 0) errors.push(`bad header "${h}" (want 'Name: value')`);
        else o.headers[h.slice(0, c).trim().toLowerCase()] = h.slice(c + 1).trim();
        break;
      }
      case '-X':
      case '--request':
        o.method = next().toUpperCase();
        break;
      case '-d':
      case '--data':
        o.data = next();
        break;
      case '-x':
      case '--proxy':
        o.proxy = next();
        break;
      case '-m':
      case '--max-time': {
        const s = Number(next());
        if (!(s > 0)) errors.push('-m needs a positive number of seconds');
        else o.timeoutMs = s * 1000;
        break;
      }
      case '-i':
      case '--include':
        o.include = true;
        break;
      case '-f':
      case '--fail':
        o.fail = true;
        break;
      case '-s':
      case '--silent':
      case '-sS':
        break;
      default:
        if (a.startsWith('-')) errors.push(`unknown option ${a}`);
        else if (o.url) errors.push(`unexpected argument "${a}"`);
        else o.url = a;
    }
  }
  if (!o.url) errors.push('missing URL');
  else {
    if (!/^[a-z]+:\/\//i.test(o.url)) o.url = `http://${o.url}`;
    try {
      new URL(o.url);
    } catch {
      errors.push(`bad URL "${o.url}"`);
    }
  }
  if (!o.method) o.method = o.data === undefined ? 'GET' : 'POST';
  if (o.data !== undefined && o.headers['content-type'] === undefined) o.headers['content-type'] = 'application/x-www-form-urlencoded';
  return errors.length > 0 ? { ok: false, errors } : { ok: true, options: o };
}

export interface CurlReply {
  status: number;
  statusText: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export type CurlOutcome = { ok: true; reply: CurlReply } | { ok: false; timeout: boolean; error: string };

/** Makes the request; `proxy` (if any) is used for http:// targets with absolute-URI request lines, and CONNECT for https://. */
export async function curl(o: CurlOptions, proxy: string | undefined): Promise<CurlOutcome> {
  const dispatcher: Dispatcher = proxy ? new ProxyAgent({ uri: proxy, proxyTunnel: false }) : new Agent();
  const signal = AbortSignal.timeout(o.timeoutMs);
  try {
    const res = await request(o.url, {
      method: o.method,
      headers: { 'user-agent': 'isthmus-sleep-curl/1', accept: '*/*', ...o.headers },
      body: o.data,
      dispatcher,
      signal,
    });
    const body = await res.body.text();
    return { ok: true, reply: { status: res.statusCode, statusText: STATUS_TEXT[res.statusCode] ?? '', headers: res.headers, body } };
  } catch (err) {
    return { ok: false, timeout: signal.aborted, error: err instanceof Error ? err.message : String(err) };
  } finally {
    await dispatcher.close();
  }
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 201: 'Created', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found', 304: 'Not Modified',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 418: "I'm a teapot", 429: 'Too Many Requests',
  500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

export function formatReply(r: CurlReply, include: boolean): string {
  let out = `HTTP/1.1 ${r.status}${r.statusText ? ` ${r.statusText}` : ''}\n`;
  if (include) {
    for (const [k, v] of Object.entries(r.headers)) {
      if (v === undefined) continue;
      for (const one of Array.isArray(v) ? v : [v]) out += `${k}: ${one}\n`;
    }
  }
  out += '\n' + r.body;
  return out.endsWith('\n') || r.body === '' ? out : out + '\n';
}

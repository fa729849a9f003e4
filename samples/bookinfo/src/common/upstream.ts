// HTTP client for calls between samples: by service name, through HTTP_PROXY (the sidecar) or to a direct base URL.
import { Agent, ProxyAgent, request } from 'undici';
import type { Dispatcher } from 'undici';
import type { UpstreamTarget } from './targets.js';

export type { UpstreamTarget } from './targets.js';

export interface UpstreamOptions {
  /** HTTP proxy URL (the app's sidecar in local mode), e.g. `http://127.0.12.2:15001`. */
  proxy?: string | undefined;
  targets: Record<string, UpstreamTarget>;
}

export interface CallOptions {
  headers?: Record<string, string>;
  /** Whole-call deadline (connect, headers and body). */
  timeoutMs: number;
  method?: string;
  body?: string;
}

export type CallResult =
  | { ok: true; status: number; body: unknown }
  | { ok: false; status?: number; error: string };

/** Calls other services and returns parsed JSON; never throws for network or HTTP failures. */
export class UpstreamClient {
  readonly #targets: Record<string, UpstreamTarget>;
  readonly #direct: Agent;
  readonly #proxied: Dispatcher | undefined;

  constructor(opts: UpstreamOptions) {
    this.#targets = opts.targets;
    this.#direct = new Agent({ keepAliveTimeout: 4_000 });
    // proxyTunnel: false → plain HTTP proxying: the request line carries the absolute URI (`GET http://reviews:9080/... HTTP/1.1`)
    this.#proxied = opts.proxy ? new ProxyAgent({ uri: opts.proxy, proxyTunnel: false, keepAliveTimeout: 4_000 }) : undefined;
  }

  url(service: string, path: string): string {
    const t = this.#targets[service];
    if (!t) throw new Error(`unknown service "${service}"`);
    return t.baseUrl + path;
  }

  async getJson(service: string, path: string, opts: CallOptions): Promise<CallResult> {
    const t = this.#targets[service];
    if (!t) return { ok: false, error: `unknown service "${service}"` };
    const dispatcher = t.viaProxy && this.#proxied ? this.#proxied : this.#direct;
    const signal = AbortSignal.timeout(opts.timeoutMs);
    try {
      const res = await request(t.baseUrl + path, {
        method: opts.method ?? 'GET',
        headers: opts.headers ?? {},
        body: opts.body,
        dispatcher,
        signal,
      });
      const text = await res.body.text();
      if (res.statusCode < 200 || res.statusCode >= 300) {
        return { ok: false, status: res.statusCode, error: `${service} answered ${res.statusCode}` };
      }
      try {
        return { ok: true, status: res.statusCode, body: JSON.parse(text) as unknown };
      } catch {
        return { ok: false, status: res.statusCode, error: `${service} answered with invalid JSON` };
      }
    } catch (err) {
      if (signal.aborted) return { ok: false, error: `${service} did not answer within ${opts.timeoutMs} ms` };
      return { ok: false, error: `${service} unreachable: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.#direct.close(), this.#proxied?.close()]);
  }
}

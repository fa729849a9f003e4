// Request and response header shaping at the router: hop-by-hop removal, host/path rewrites, route header
// mutations, x-envoy-* headers (https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/headers).
import type { RouteAction } from '../runtime/types.js';
import type { Exchange } from './exchange.js';
import { applyMutationLevels, getHeader } from './headers.js';

/** Request path after prefix/regex rewrite (query kept), or undefined when unchanged. */
export function rewritePath(ex: Exchange, a: RouteAction): string | undefined {
  const m = ex.route?.match.path;
  if (a.prefixRewrite !== undefined && m) {
    if (m.kind === 'prefix' || m.kind === 'path_separated_prefix') return a.prefixRewrite + ex.path.slice(m.value.length);
    if (m.kind === 'exact') {
      const q = ex.path.indexOf('?');
      return a.prefixRewrite + (q >= 0 ? ex.path.slice(q) : '');
    }
    return undefined;
  }
  if (a.regexRewrite) {
    const q = ex.path.indexOf('?');
    const p = q >= 0 ? ex.path.slice(0, q) : ex.path;
    return a.regexRewrite.replace(p) + (q >= 0 ? ex.path.slice(q) : '');
  }
  return undefined;
}

/**
 * The upstream request headers: downstream headers minus hop-by-hop ones, `host` (rewritten if asked), route-level
 * request mutations, x-envoy-original-path and x-envoy-expected-rq-timeout-ms.
 *
 * The router's x-envoy-* request headers replace what came in only when this hop sets them, as Envoy's router does:
 * x-envoy-attempt-count when the virtual host has include_request_attempt_count (the router appends it after this),
 * x-envoy-original-path on a path rewrite, x-envoy-expected-rq-timeout-ms when a timeout applies. Otherwise the
 * client's value travels on (the connection manager already dropped the untrusted ones, see request-prep.ts).
 */
export function upstreamRequestHeaders(ex: Exchange, authority: string, originalPath: string | undefined, expectedTimeoutMs: number): string[] {
  const src = ex.headers;
  const out: string[] = [];
  const setsAttemptCount = ex.vhost?.includeAttemptCount === true;
  for (let i = 0; i < src.length; i += 2) {
    const n = src[i];
    switch (n) {
      case 'host':
      case 'connection':
      case 'keep-alive':
      case 'proxy-connection':
      case 'transfer-encoding':
      case 'upgrade':
      case 'http2-settings':
      case 'expect':
        continue;
      case 'x-envoy-original-path':
        if (originalPath !== undefined) continue;
        out.push(n, src[i + 1]);
        continue;
      case 'x-envoy-expected-rq-timeout-ms':
        if (expectedTimeoutMs > 0) continue;
        out.push(n, src[i + 1]);
        continue;
      case 'x-envoy-attempt-count':
        if (setsAttemptCount) continue;
        out.push(n, src[i + 1]);
        continue;
      case 'te':
        if (src[i + 1].toLowerCase().includes('trailers')) out.push('te', 'trailers');
        continue;
      default:
        out.push(n, src[i + 1]);
    }
  }
  out.push('host', authority);
  if (originalPath !== undefined) out.push('x-envoy-original-path', originalPath);
  if (expectedTimeoutMs > 0) out.push('x-envoy-expected-rq-timeout-ms', String(expectedTimeoutMs));
  const route = ex.route!;
  applyMutationLevels(out, [ex.weighted?.headers, route.headers, ex.vhost?.headers, ex.routeTable?.headers], false, ex);
  return out;
}

/** Strips hop-by-hop headers from an upstream response, in place (names arrive lower-cased: UpstreamHandler.onHeaders). */
export function downstreamResponseHeaders(h: string[], upgrade: boolean): string[] {
  let w = 0;
  for (let r = 0; r < h.length; r += 2) {
    const n = h[r];
    switch (n) {
      case 'connection':
      case 'upgrade':
        if (!upgrade) continue;
        break;
      case 'keep-alive':
      case 'proxy-connection':
      case 'transfer-encoding':
      case 'http2-settings':
      case 'x-envoy-upstream-service-time': // each hop sets its own (the router adds it after this), as Envoy does
        continue;
      default:
        break;
    }
    h[w] = n;
    h[w + 1] = h[r + 1];
    w += 2;
  }
  if (w !== h.length) h.length = w;
  return h;
}

/** grpc-timeout header ("100m", "5S", ...) in ms, or undefined. */
export function grpcTimeoutMs(headers: readonly string[]): number | undefined {
  const v = getHeader(headers, 'grpc-timeout');
  if (!v || v.length < 2 || v.length > 9) return undefined;
  const n = Number(v.slice(0, -1));
  if (!Number.isInteger(n) || n < 0) return undefined;
  switch (v[v.length - 1]) {
    case 'H':
      return n * 3_600_000;
    case 'M':
      return n * 60_000;
    case 'S':
      return n * 1000;
    case 'm':
      return n;
    case 'u':
      return Math.ceil(n / 1000);
    case 'n':
      return Math.ceil(n / 1_000_000);
    default:
      return undefined;
  }
}

// What the connection manager does to every request before routing (Envoy's ConnectionManagerUtility):
// path normalization, x-request-id, x-forwarded-for / -proto, x-forwarded-client-cert sanitizing.
import { randomUUID } from 'node:crypto';
import type { HttpConnectionManagerConfig } from '../runtime/types.js';
import type { NodeInfo } from './context.js';
import { getHeader, removeHeader, setHeader } from './headers.js';

/** RFC 3986 dot-segment removal and optional slash merging on the path part; the query is kept as is. */
export function normalizePath(path: string, normalize: boolean, mergeSlashes: boolean): string {
  const q = path.indexOf('?');
  let p = q >= 0 ? path.slice(0, q) : path;
  const tail = q >= 0 ? path.slice(q) : '';
  if (mergeSlashes && p.includes('//')) p = p.replace(/\/{2,}/g, '/');
  if (normalize && (p.includes('/.') || p.includes('\\'))) {
    p = p.replaceAll('\\', '/');
    const out: string[] = [];
    for (const seg of p.split('/')) {
      if (seg === '.') continue;
      if (seg === '..') {
        if (out.length > 1) out.pop();
        continue;
      }
      out.push(seg);
    }
    const last = p.endsWith('/.') || p.endsWith('/..');
    p = out.join('/') || '/';
    if (!p.startsWith('/')) p = '/' + p;
    if (last && !p.endsWith('/')) p += '/';
  }
  return p + tail;
}

export interface PrepInput {
  headers: string[];
  remoteAddress: string;
  tls: boolean;
  peerPrincipal: string | undefined;
}

/** Mutates the downstream request headers as Envoy's HCM does before routing. */
export function prepareRequestHeaders(cfg: HttpConnectionManagerConfig, node: NodeInfo, r: PrepInput): void {
  const h = r.headers;
  if (cfg.useRemoteAddress && !cfg.skipXffAppend) {
    const xff = getHeader(h, 'x-forwarded-for');
    setHeader(h, 'x-forwarded-for', xff ? `${xff},${r.remoteAddress}` : r.remoteAddress);
  }
  // Edge proxies set the scheme they saw; internal hops keep the client's (Envoy's x-forwarded-proto rules).
  if (cfg.useRemoteAddress || getHeader(h, 'x-forwarded-proto') === undefined) setHeader(h, 'x-forwarded-proto', r.tls ? 'https' : 'http');
  if (cfg.generateRequestId && getHeader(h, 'x-request-id') === undefined) h.push('x-request-id', randomUUID());
  switch (cfg.forwardClientCertDetails) {
    case undefined:
    case 'sanitize':
    case 'SANITIZE':
      removeHeader(h, 'x-forwarded-client-cert');
      break;
    case 'append_forward':
    case 'APPEND_FORWARD':
    case 'sanitize_set':
    case 'SANITIZE_SET': {
      const set = cfg.forwardClientCertDetails.toLowerCase() === 'sanitize_set';
      if (set) removeHeader(h, 'x-forwarded-client-cert');
      if (r.tls && r.peerPrincipal) {
        const mine = (node.spiffeId ? `By=${node.spiffeId};` : '') + `URI=${r.peerPrincipal}`;
        const prev = set ? undefined : getHeader(h, 'x-forwarded-client-cert');
        setHeader(h, 'x-forwarded-client-cert', prev ? `${prev},${mine}` : mine);
      }
      break;
    }
    default:
      break; // forward_only, always_forward_only: untouched
  }
}

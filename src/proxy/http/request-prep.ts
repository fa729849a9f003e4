// What the connection manager does to every request before routing (Envoy's ConnectionManagerUtility): path
// normalization, x-forwarded-for / -proto, internal or external origin (x-envoy-internal, x-envoy-external-address,
// untrusted x-envoy-* headers dropped), x-request-id, x-forwarded-client-cert sanitizing.
// https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/headers
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { compileRanges, parseIp, type CidrRange } from '../listener/cidr.js';
import type { HttpConnectionManagerConfig } from '../runtime/types.js';
import type { NodeInfo } from './context.js';
import { getHeader, getHeaderJoined, removeHeader, setHeader } from './headers.js';

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

/** x-envoy-* request headers only internal callers may set: dropped from every other request (cleanInternalHeaders). */
const INTERNAL_ONLY = new Set([
  'x-envoy-retriable-status-codes',
  'x-envoy-retriable-header-names',
  'x-envoy-retry-on',
  'x-envoy-retry-grpc-on',
  'x-envoy-max-retries',
  'x-envoy-upstream-alt-stat-name',
  'x-envoy-upstream-rq-timeout-ms',
  'x-envoy-upstream-rq-per-try-timeout-ms',
  'x-envoy-upstream-rq-timeout-alt-response',
  'x-envoy-expected-rq-timeout-ms',
  'x-envoy-force-trace',
  'x-envoy-ip-tags',
  'x-envoy-original-url',
  'x-envoy-hedge-on-per-try-timeout',
]);
/** Dropped as well when the request enters the mesh here (an edge request). */
const EDGE_ONLY = new Set(['x-envoy-decorator-operation', 'x-envoy-downstream-service-cluster', 'x-envoy-downstream-service-node']);

/** internal_address_config without ranges: Envoy's Network::Utility::isInternalAddress (RFC1918, RFC4193, loopback). */
const DEFAULT_INTERNAL = compileRanges([
  { address: '10.0.0.0', prefixLen: 8 },
  { address: '172.16.0.0', prefixLen: 12 },
  { address: '192.168.0.0', prefixLen: 16 },
  { address: '127.0.0.1', prefixLen: 32 },
  { address: 'fc00::', prefixLen: 7 },
  { address: '::1', prefixLen: 128 },
]);
const compiledRanges = new WeakMap<object, CidrRange[]>();

/** Whether the HCM's internal_address_config counts `address` as internal; without that config no address is. */
export function isInternalAddress(cfg: HttpConnectionManagerConfig, address: string): boolean {
  const iac = cfg.internalAddressConfig;
  if (!iac) return false;
  const ip = parseIp(address);
  if (!ip) return iac.unixSockets && (address === '' || address.startsWith('/') || address.startsWith('@'));
  let ranges = DEFAULT_INTERNAL;
  if (iac.cidrRanges.length > 0) {
    const c = compiledRanges.get(iac);
    if (c) ranges = c;
    else compiledRanges.set(iac, (ranges = compileRanges(iac.cidrRanges)));
  }
  for (const r of ranges) if (r.contains(ip)) return true;
  return false;
}

/**
 * The address `skip` entries from the right of an x-forwarded-for value (Envoy's getLastAddressFromXFF), and whether it
 * was the only one; undefined when there are not enough entries or it is not an IP address.
 */
export function xffAddress(xff: string, skip: number): { address: string; single: boolean } | undefined {
  let end = xff.length;
  for (let i = 0; i < skip; i++) {
    const c = end > 0 ? xff.lastIndexOf(',', end - 1) : -1;
    if (c < 0) return undefined;
    end = c;
  }
  const c = end > 0 ? xff.lastIndexOf(',', end - 1) : -1;
  const address = xff.slice(c + 1, end).trim();
  return isIP(address) === 0 ? undefined : { address, single: c < 0 && skip === 0 };
}

/** Mutates the downstream request headers as Envoy's HCM does before routing. */
export function prepareRequestHeaders(cfg: HttpConnectionManagerConfig, node: NodeInfo, r: PrepInput): void {
  const h = r.headers;
  const xff = getHeaderJoined(h, 'x-forwarded-for');
  const hops = cfg.xffNumTrustedHops;
  // The trusted client address, and whether it may be judged internal: with use_remote_address the peer (or the
  // address trusted hops put in XFF), only when no XFF came in; otherwise XFF's client entry, only when it is alone.
  let client: string | undefined;
  let judge: boolean;
  if (cfg.useRemoteAddress) {
    judge = xff === undefined;
    if (hops > 0 && xff !== undefined) client = xffAddress(xff, hops - 1)?.address;
    client ??= r.remoteAddress;
    if (!cfg.skipXffAppend) setHeader(h, 'x-forwarded-for', xff ? `${xff},${r.remoteAddress}` : r.remoteAddress);
  } else {
    const x = xff === undefined ? undefined : xffAddress(xff, hops);
    client = x?.address;
    judge = x?.single === true;
  }
  // Edge proxies overwrite the scheme an untrusted peer claimed; otherwise the client's stands (if any).
  if ((cfg.useRemoteAddress && hops === 0) || getHeader(h, 'x-forwarded-proto') === undefined) setHeader(h, 'x-forwarded-proto', r.tls ? 'https' : 'http');
  const internal = judge && client !== undefined && isInternalAddress(cfg, client);
  const edge = !internal && cfg.useRemoteAddress;
  dropEnvoyHeaders(h, internal, edge);
  if (internal) h.push('x-envoy-internal', 'true');
  else if (edge && client !== undefined && isIP(client) !== 0) setHeader(h, 'x-envoy-external-address', client);
  // An edge proxy does not trust the caller's request id (preserve_external_request_id is not supported).
  if (cfg.generateRequestId && (edge || getHeader(h, 'x-request-id') === undefined)) setHeader(h, 'x-request-id', randomUUID());
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

/** One pass over the headers: x-envoy-internal always goes (it is re-set by this hop), untrusted x-envoy-* ones too. */
function dropEnvoyHeaders(h: string[], internal: boolean, edge: boolean): void {
  let w = 0;
  for (let r = 0; r < h.length; r += 2) {
    const n = h[r];
    if (n.length > 8 && n.charCodeAt(0) === 120 && n.startsWith('x-envoy-')) {
      if (n === 'x-envoy-internal' || (!internal && INTERNAL_ONLY.has(n)) || (edge && EDGE_ONLY.has(n))) continue;
    }
    if (w !== r) {
      h[w] = n;
      h[w + 1] = h[r + 1];
    }
    w += 2;
  }
  // Setting length is a runtime call even when it does not change (≈ 60 ns): most requests carry no x-envoy-* header.
  if (w !== h.length) h.length = w;
}

// Request hash for RING_HASH / MAGLEV from a route's hash policies (header, cookie, source IP, query parameter),
// combined as Envoy does (rotate-left then xor; a terminal policy that produced a hash stops the walk).
import { randomBytes } from 'node:crypto';
import type { HashPolicy } from '../runtime/types.js';
import { getHeaderJoined } from './headers.js';

export interface HashInput {
  readonly headers: readonly string[];
  /** Downstream remote address without port. */
  readonly remoteIp: string;
  queryParam(name: string): string | undefined;
}

export interface HashResult {
  hash: number | undefined;
  /** Set-Cookie value to add downstream when a cookie policy generated the cookie. */
  setCookie: string | undefined;
}

/** FNV-1a over UTF-16 code units, 32-bit, with a final avalanche. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/** Value of one cookie from the Cookie header(s), unquoted. */
export function cookieValue(headers: readonly string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== 'cookie') continue;
    const c = headers[i + 1];
    let start = 0;
    while (start < c.length) {
      let end = c.indexOf(';', start);
      if (end < 0) end = c.length;
      const eq = c.indexOf('=', start);
      if (eq > 0 && eq < end && c.slice(start, eq).trim() === name) {
        let v = c.slice(eq + 1, end).trim();
        if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
        return v;
      }
      start = end + 1;
    }
  }
  return undefined;
}

function generatedCookie(p: HashPolicy, value: string): string {
  let s = `${p.name}="${value}"`;
  const ttl = p.cookieTtlMs ?? 0;
  if (ttl > 0) s += `; Max-Age=${Math.floor(ttl / 1000)}`;
  if (p.cookiePath) s += `; Path=${p.cookiePath}`;
  return s + '; HttpOnly';
}

export function computeHash(policies: readonly HashPolicy[], input: HashInput): HashResult {
  let hash: number | undefined;
  let setCookie: string | undefined;
  for (const p of policies) {
    let v: string | undefined;
    switch (p.kind) {
      case 'header':
        v = getHeaderJoined(input.headers, p.name);
        break;
      case 'cookie':
        v = cookieValue(input.headers, p.name);
        if (v === undefined && p.cookieTtlMs !== undefined) {
          v = randomBytes(8).toString('hex');
          setCookie = generatedCookie(p, v);
        }
        break;
      case 'source_ip':
        v = input.remoteIp || undefined;
        break;
      case 'query_parameter':
        v = input.queryParam(p.name);
        break;
      default:
        v = undefined;
    }
    if (v === undefined) continue;
    const h = hashString(v);
    hash = hash === undefined ? h : (((hash << 1) | (hash >>> 31)) ^ h) >>> 0;
    if (p.terminal) break;
  }
  return { hash, setCookie };
}

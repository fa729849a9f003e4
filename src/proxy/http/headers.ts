// Flat header arrays ([name, value, name, value, ...], lower-case names): lookup, set/remove in place, Envoy header
// mutations (remove first, then add, per level), and conversion to the object form node:http2 wants.
import type { OutgoingHttpHeaders } from 'node:http2';
import type { HeaderMutations, HeaderValueOption } from '../runtime/types.js';
import { compileFormat, type AccessLogContext, type CompiledFormat } from './access-log.js';

export function getHeader(h: readonly string[], name: string): string | undefined {
  for (let i = 0; i < h.length; i += 2) if (h[i] === name) return h[i + 1];
  return undefined;
}

/** All values of a header joined with ',' (Envoy's view of a repeated header for matching). */
export function getHeaderJoined(h: readonly string[], name: string): string | undefined {
  let v: string | undefined;
  for (let i = 0; i < h.length; i += 2) if (h[i] === name) v = v === undefined ? h[i + 1] : v + ',' + h[i + 1];
  return v;
}

export function hasHeader(h: readonly string[], name: string): boolean {
  for (let i = 0; i < h.length; i += 2) if (h[i] === name) return true;
  return false;
}

/** Removes every occurrence of name (in place); returns whether any was present. */
export function removeHeader(h: string[], name: string): boolean {
  let w = 0;
  for (let r = 0; r < h.length; r += 2) {
    if (h[r] === name) continue;
    if (w !== r) {
      h[w] = h[r];
      h[w + 1] = h[r + 1];
    }
    w += 2;
  }
  const removed = w !== h.length;
  h.length = w;
  return removed;
}

/** Sets name to value: replaces the first occurrence, drops later ones, or appends. */
export function setHeader(h: string[], name: string, value: string): void {
  for (let i = 0; i < h.length; i += 2) {
    if (h[i] !== name) continue;
    h[i + 1] = value;
    for (let j = i + 2; j < h.length; j += 2) {
      if (h[j] === name) {
        const rest = h.slice(i + 2);
        removeHeader(rest, name);
        h.length = i + 2;
        for (const x of rest) h.push(x);
        break;
      }
    }
    return;
  }
  h.push(name, value);
}

/** Lower-cases header names of a raw array in place (node:http keeps the client's case). */
export function lowerNames(raw: string[]): string[] {
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i];
    // Most clients already send lower-case names; skip the allocation then.
    for (let j = 0; j < n.length; j++) {
      const c = n.charCodeAt(j);
      if (c >= 65 && c <= 90) {
        raw[i] = n.toLowerCase();
        break;
      }
    }
  }
  return raw;
}

const compiled = new WeakMap<HeaderValueOption, CompiledFormat | null>();

function valueOf(o: HeaderValueOption, ctx: AccessLogContext | null): string {
  if (!o.dynamic || !ctx) return o.value;
  let f = compiled.get(o);
  if (f === undefined) {
    try {
      f = compileFormat(o.value);
    } catch {
      f = null; // unknown command: Envoy would have rejected the config; keep the literal
    }
    compiled.set(o, f);
  }
  if (!f) return o.value;
  const v = f.value(ctx);
  return v === null ? '' : String(v);
}

/** Applies one level of mutations: removals first, then additions with their append action. */
export function applyHeaderOptions(h: string[], add: readonly HeaderValueOption[], remove: readonly string[], ctx: AccessLogContext | null): void {
  for (let i = 0; i < remove.length; i++) removeHeader(h, remove[i]);
  for (let i = 0; i < add.length; i++) {
    const o = add[i];
    const v = valueOf(o, ctx);
    if (v === '') continue; // keep_empty_value defaults to false
    switch (o.action) {
      case 'append':
        h.push(o.name, v);
        break;
      case 'add_if_absent':
        if (!hasHeader(h, o.name)) h.push(o.name, v);
        break;
      case 'overwrite_or_add':
        removeHeader(h, o.name);
        h.push(o.name, v);
        break;
      case 'overwrite_if_exists':
        if (removeHeader(h, o.name)) h.push(o.name, v);
        break;
    }
  }
}

export function hasMutations(m: HeaderMutations | undefined, response: boolean): boolean {
  if (!m) return false;
  return response ? m.responseAdd.length > 0 || m.responseRemove.length > 0 : m.requestAdd.length > 0 || m.requestRemove.length > 0;
}

/**
 * Applies request (or response) mutations of each level from most to least specific, Envoy's default order
 * (most_specific_header_mutations_wins = false: weighted cluster, route, virtual host, route configuration).
 */
export function applyMutationLevels(h: string[], levels: readonly (HeaderMutations | undefined)[], response: boolean, ctx: AccessLogContext | null): void {
  for (const m of levels) {
    if (!hasMutations(m, response)) continue;
    if (response) applyHeaderOptions(h, m!.responseAdd, m!.responseRemove, ctx);
    else applyHeaderOptions(h, m!.requestAdd, m!.requestRemove, ctx);
  }
}

/** The object form of a flat array for node:http2 (repeated names become arrays). */
export function toH2Headers(h: readonly string[], status: number): OutgoingHttpHeaders {
  const o: OutgoingHttpHeaders = { ':status': status };
  for (let i = 0; i < h.length; i += 2) {
    const n = h[i];
    const prev = o[n];
    if (prev === undefined) o[n] = h[i + 1];
    else if (Array.isArray(prev)) prev.push(h[i + 1]);
    else o[n] = [String(prev), h[i + 1]];
  }
  return o;
}

/** Trailers object for node:http2 from a flat array. */
export function toH2Trailers(h: readonly string[]): OutgoingHttpHeaders {
  const o: OutgoingHttpHeaders = {};
  for (let i = 0; i < h.length; i += 2) {
    const n = h[i].toLowerCase();
    const prev = o[n];
    if (prev === undefined) o[n] = h[i + 1];
    else if (Array.isArray(prev)) prev.push(h[i + 1]);
    else o[n] = [String(prev), h[i + 1]];
  }
  return o;
}

// Envoy's matching semantics for the traffic simulator: string/header/query matchers, route matches, virtual host
// domain selection and filter chain selection, written from Envoy's documentation (not from our own generators).
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto
import { RE2 } from 're2-wasm';

export type Obj = Record<string, unknown>;

const regexCache = new Map<string, RE2>();

/** RE2 full match (Envoy's safe_regex matches the whole value). */
export function fullMatch(regex: string, value: string): boolean {
  let re = regexCache.get(regex);
  if (!re) {
    re = new RE2(`^(?:${regex})$`, 'u');
    regexCache.set(regex, re);
  }
  return re.test(value);
}

/** RE2 global replace with Envoy's `\\N` group references (regex_rewrite substitution). */
export function regexReplaceAll(regex: string, input: string, substitution: string): string {
  const sub = substitution.replace(/\\(\d)/g, '$$$1');
  return input.replace(new RE2(regex, 'gu'), sub);
}

/** envoy.type.matcher.v3.StringMatcher. */
export function stringMatches(m: Obj, value: string): boolean {
  const ic = m.ignore_case === true;
  const v = ic ? value.toLowerCase() : value;
  const norm = (s: unknown): string => (ic ? String(s).toLowerCase() : String(s));
  if (typeof m.exact === 'string') return v === norm(m.exact);
  if (typeof m.prefix === 'string') return v.startsWith(norm(m.prefix));
  if (typeof m.suffix === 'string') return v.endsWith(norm(m.suffix));
  if (typeof m.contains === 'string') return v.includes(norm(m.contains));
  if (m.safe_regex) return fullMatch(String((m.safe_regex as Obj).regex), value);
  return false;
}

/** envoy.config.route.v3.HeaderMatcher against lower-cased request headers (pseudo-headers included). */
export function headerMatches(h: Obj, headers: Readonly<Record<string, string>>): boolean {
  const name = String(h.name).toLowerCase();
  let value = headers[name];
  const invert = h.invert_match === true;
  if (value === undefined) {
    if (h.present_match === false) return !invert;
    if (h.treat_missing_header_as_empty !== true) return invert;
    value = '';
  }
  let ok: boolean;
  if (h.present_match !== undefined) ok = h.present_match === true;
  else if (h.string_match) ok = stringMatches(h.string_match as Obj, value);
  else if (typeof h.exact_match === 'string') ok = value === h.exact_match;
  else if (typeof h.prefix_match === 'string') ok = value.startsWith(h.prefix_match);
  else if (typeof h.suffix_match === 'string') ok = value.endsWith(h.suffix_match);
  else if (typeof h.contains_match === 'string') ok = value.includes(h.contains_match);
  else if (h.safe_regex_match) ok = fullMatch(String((h.safe_regex_match as Obj).regex), value);
  else ok = true; // no specifier: presence only
  return invert ? !ok : ok;
}

function queryMatches(q: Obj, query: URLSearchParams): boolean {
  const value = query.get(String(q.name));
  if (value === null) return false;
  if (q.present_match === true) return true;
  if (q.string_match) return stringMatches(q.string_match as Obj, value);
  return true;
}

/** JWT claims as the authn filter would publish them, for dynamic_metadata matchers on `istio_authn`. */
export type Claims = Readonly<Record<string, string | readonly string[]>>;

function metadataMatches(m: Obj, claims: Claims | undefined): boolean {
  const path = ((m.path as Obj[] | undefined) ?? []).map((p) => String(p.key));
  let ok = false;
  if (m.filter === 'istio_authn' && path[0] === 'request.auth.claims' && claims) {
    const claim = claims[path.slice(1).join('.')];
    const values = claim === undefined ? [] : typeof claim === 'string' ? [claim] : claim;
    const sm = ((((m.value as Obj | undefined)?.list_match as Obj | undefined)?.one_of as Obj | undefined)?.string_match as Obj | undefined) ?? {};
    ok = values.some((v) => stringMatches(sm, v));
  }
  return m.invert === true ? !ok : ok;
}

export interface HttpRequestView {
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  /** Lower-cased names; includes :method, :authority, :scheme, :path. */
  headers: Record<string, string>;
  claims?: Claims;
}

/** envoy.config.route.v3.RouteMatch. */
export function routeMatches(m: Obj, req: HttpRequestView): boolean {
  const caseSensitive = (m.case_sensitive as { value?: boolean } | undefined)?.value !== false;
  const path = caseSensitive ? req.path : req.path.toLowerCase();
  const norm = (s: unknown): string => (caseSensitive ? String(s) : String(s).toLowerCase());
  let pathOk: boolean;
  if (typeof m.prefix === 'string') pathOk = path.startsWith(norm(m.prefix));
  else if (typeof m.path === 'string') pathOk = path === norm(m.path);
  else if (m.safe_regex) pathOk = fullMatch(String((m.safe_regex as Obj).regex), req.path);
  else if (typeof m.path_separated_prefix === 'string') {
    const p = norm(m.path_separated_prefix);
    pathOk = path === p || path.startsWith(`${p}/`);
  } else pathOk = false;
  if (!pathOk) return false;
  for (const h of (m.headers as Obj[] | undefined) ?? []) if (!headerMatches(h, req.headers)) return false;
  for (const q of (m.query_parameters as Obj[] | undefined) ?? []) if (!queryMatches(q, req.query)) return false;
  for (const d of (m.dynamic_metadata as Obj[] | undefined) ?? []) if (!metadataMatches(d, req.claims)) return false;
  return true;
}

/**
 * Envoy's virtual host selection: exact domain, then the longest suffix wildcard (`*.foo.com`), then the longest
 * prefix wildcard (`foo.*`), then `*`. Case-insensitive.
 */
export function selectVirtualHost(vhosts: readonly Obj[], host: string): Obj | undefined {
  const h = host.toLowerCase();
  let best: { vh: Obj; rank: number; len: number } | undefined;
  const consider = (vh: Obj, rank: number, len: number): void => {
    if (!best || rank < best.rank || (rank === best.rank && len > best.len)) best = { vh, rank, len };
  };
  for (const vh of vhosts) {
    for (const raw of (vh.domains as string[] | undefined) ?? []) {
      const d = raw.toLowerCase();
      if (d === h) consider(vh, 0, d.length);
      else if (d === '*') consider(vh, 3, 0);
      else if (d.startsWith('*') && h.endsWith(d.slice(1)) && h.length > d.length - 1) consider(vh, 1, d.length);
      else if (d.endsWith('*') && h.startsWith(d.slice(0, -1)) && h.length > d.length - 1) consider(vh, 2, d.length);
    }
  }
  return best?.vh;
}

export interface ConnectionView {
  destinationIp: string;
  destinationPort: number;
  serverName?: string;
  transportProtocol: string;
  applicationProtocols: readonly string[];
}

function ipToInt(ip: string): number | undefined {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

/** Longest matching CIDR prefix length, or -1. IPv4 only (the simulator's addresses are IPv4). */
function prefixLen(ranges: readonly Obj[], ip: string): number {
  const addr = ipToInt(ip);
  let best = -1;
  for (const r of ranges) {
    const base = ipToInt(String(r.address_prefix));
    const len = Number((r.prefix_len as { value?: number } | undefined)?.value ?? 0);
    if (addr === undefined || base === undefined) continue;
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    if ((addr & mask) >>> 0 === (base & mask) >>> 0 && len > best) best = len;
  }
  return best;
}

function serverNameScore(names: readonly string[], sni: string | undefined): number {
  if (!sni) return -1;
  const s = sni.toLowerCase();
  let best = -1;
  for (const raw of names) {
    const n = raw.toLowerCase();
    if (n === s) return Number.MAX_SAFE_INTEGER;
    if (n.startsWith('*.') && s.endsWith(n.slice(1)) && n.length > best) best = n.length;
  }
  return best;
}

/**
 * Envoy's filter chain selection: narrow by destination port, destination IP, server name, transport protocol and
 * application protocols in that order; at each step chains that name a matching value beat chains that leave the
 * criterion unset (most specific wins); nothing left → the default filter chain (or none).
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/listener/v3/listener_components.proto#config-listener-v3-filterchainmatch
 */
export function selectFilterChain(listener: Obj, conn: ConnectionView): Obj | undefined {
  let cands = ((listener.filter_chains as Obj[] | undefined) ?? []).map((fc) => ({ fc, m: (fc.filter_chain_match ?? {}) as Obj }));
  const narrow = (score: (m: Obj) => number | undefined): void => {
    // score: undefined = criterion unset, -1 = set but not matching, >= 0 = specificity.
    const scored = cands.map((c) => ({ c, s: score(c.m) }));
    const matching = scored.filter((x) => x.s !== undefined && x.s >= 0);
    if (matching.length > 0) {
      const top = Math.max(...matching.map((x) => x.s!));
      cands = matching.filter((x) => x.s === top).map((x) => x.c);
    } else {
      cands = scored.filter((x) => x.s === undefined).map((x) => x.c);
    }
  };
  narrow((m) => {
    const p = (m.destination_port as { value?: number } | undefined)?.value;
    return p === undefined ? undefined : p === conn.destinationPort ? 0 : -1;
  });
  narrow((m) => {
    const r = m.prefix_ranges as Obj[] | undefined;
    return !r || r.length === 0 ? undefined : prefixLen(r, conn.destinationIp);
  });
  narrow((m) => {
    const n = m.server_names as string[] | undefined;
    return !n || n.length === 0 ? undefined : serverNameScore(n, conn.serverName);
  });
  narrow((m) => {
    const t = m.transport_protocol as string | undefined;
    return !t ? undefined : t === conn.transportProtocol ? 0 : -1;
  });
  narrow((m) => {
    const a = m.application_protocols as string[] | undefined;
    return !a || a.length === 0 ? undefined : a.some((x) => conn.applicationProtocols.includes(x)) ? 0 : -1;
  });
  if (cands.length > 0) return cands[0].fc;
  return listener.default_filter_chain as Obj | undefined;
}

// Compiles Envoy matchers (StringMatcher, HeaderMatcher, QueryParameterMatcher, route path matchers, RegexMatcher
// rewrites) into runtime objects whose test() does no compilation and, except for ignore-case `contains`, no allocation.
// Regexes are RE2 (re2-wasm), never JS RegExp; safe_regex is a full match as in Envoy.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/type/matcher/v3/string.proto
import { createRequire } from 'node:module';
import type { RE2 } from 're2-wasm';
import type { HeaderMatcher, QueryParamMatcher, RouteMatch, StringMatcher } from '../types.js';
import type { Problems, Rec } from './util.js';
import { at, msg, num, str, wrappedBool } from './util.js';

// re2-wasm compiles its WebAssembly module and reserves 16 MB of WASM memory when it is loaded (≈ 3.5 MB more idle RSS
// in a proxy); most configs have no regex, so it is loaded on the first pattern. Synchronous, as decoding is.
let re2Class: typeof RE2 | undefined;

function newRe2(pattern: string, flags: string): RE2 {
  re2Class ??= (createRequire(import.meta.url)('re2-wasm') as { RE2: typeof RE2 }).RE2;
  return new re2Class(pattern, flags);
}

// ------------------------------------------------------------------ ASCII case folding without allocation

function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

function foldAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c >= 65 && c <= 90 ? c + 32 : c;
}

/** `s` (any case) equals `lower` (already ASCII-lower-cased) from `s[offset]` for lower.length chars. */
function regionEqualsLower(s: string, offset: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if (foldAt(s, offset + i) !== lower.charCodeAt(i)) return false;
  return true;
}

// ------------------------------------------------------------------ string matchers

class ExactMatcher implements StringMatcher {
  readonly kind = 'exact';
  private readonly lower: string;
  constructor(
    readonly value: string,
    readonly ignoreCase: boolean,
  ) {
    this.lower = asciiLower(value);
  }
  test(input: string): boolean {
    if (!this.ignoreCase) return input === this.value;
    return input.length === this.lower.length && regionEqualsLower(input, 0, this.lower);
  }
}

class PrefixMatcher implements StringMatcher {
  readonly kind = 'prefix';
  private readonly lower: string;
  constructor(
    readonly value: string,
    readonly ignoreCase: boolean,
  ) {
    this.lower = asciiLower(value);
  }
  test(input: string): boolean {
    if (!this.ignoreCase) return input.startsWith(this.value);
    return input.length >= this.lower.length && regionEqualsLower(input, 0, this.lower);
  }
}

class SuffixMatcher implements StringMatcher {
  readonly kind = 'suffix';
  private readonly lower: string;
  constructor(
    readonly value: string,
    readonly ignoreCase: boolean,
  ) {
    this.lower = asciiLower(value);
  }
  test(input: string): boolean {
    if (!this.ignoreCase) return input.endsWith(this.value);
    return input.length >= this.lower.length && regionEqualsLower(input, input.length - this.lower.length, this.lower);
  }
}

class ContainsMatcher implements StringMatcher {
  readonly kind = 'contains';
  private readonly lower: string;
  constructor(
    readonly value: string,
    readonly ignoreCase: boolean,
  ) {
    this.lower = asciiLower(value);
  }
  test(input: string): boolean {
    if (!this.ignoreCase) return input.includes(this.value);
    for (let i = 0; i + this.lower.length <= input.length; i++) if (regionEqualsLower(input, i, this.lower)) return true;
    return false;
  }
}

class RegexMatcher implements StringMatcher {
  readonly kind = 'regex';
  readonly ignoreCase = false;
  constructor(
    readonly value: string,
    private readonly re: RE2,
  ) {}
  test(input: string): boolean {
    return this.re.test(input);
  }
}

/** Compiles an RE2 pattern; `full` anchors it as Envoy's full-match semantics. Problems go to `p` at `path`. */
export function compileRe2(pattern: string, full: boolean, path: string, p: Problems, flags = 'u'): RE2 | undefined {
  try {
    return newRe2(full ? `^(?:${pattern})$` : pattern, flags);
  } catch (e) {
    p.add(path, `invalid RE2 regex ${JSON.stringify(pattern)}: ${full ? re2Error(pattern, flags) : reason(e)}`);
    return undefined;
  }
}

function reason(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
}

/** The error of the pattern as written (RE2 quotes the offending fragment, which the anchoring would distort). */
function re2Error(pattern: string, flags: string): string {
  try {
    newRe2(pattern, flags);
    return 'invalid when anchored';
  } catch (e) {
    return reason(e);
  }
}

/** A full-match RE2 matcher (undefined and a problem when the pattern does not compile). */
export function regexMatcher(pattern: string, path: string, p: Problems): StringMatcher | undefined {
  const re = compileRe2(pattern, true, path, p);
  return re ? new RegexMatcher(pattern, re) : undefined;
}

/** envoy.type.matcher.v3.StringMatcher. */
export function stringMatcher(m: Rec | undefined, path: string, p: Problems): StringMatcher | undefined {
  if (!m) {
    p.add(path, 'missing string matcher');
    return undefined;
  }
  const ic = m.ignore_case === true;
  const exact = str(m, 'exact');
  if (exact !== undefined) return new ExactMatcher(exact, ic);
  const prefix = str(m, 'prefix');
  if (prefix !== undefined) return checkNonEmpty(prefix, 'prefix', path, p) ? new PrefixMatcher(prefix, ic) : undefined;
  const suffix = str(m, 'suffix');
  if (suffix !== undefined) return checkNonEmpty(suffix, 'suffix', path, p) ? new SuffixMatcher(suffix, ic) : undefined;
  const contains = str(m, 'contains');
  if (contains !== undefined) return checkNonEmpty(contains, 'contains', path, p) ? new ContainsMatcher(contains, ic) : undefined;
  const sr = msg(m, 'safe_regex');
  if (sr) return regexMatcher(str(sr, 'regex') ?? '', at(path, 'safe_regex.regex'), p);
  if (m.custom !== undefined) {
    p.add(at(path, 'custom'), 'custom string matchers are not supported');
    return undefined;
  }
  // An empty StringMatcher is `exact: ""` on the wire (proto3 drops the empty string).
  return new ExactMatcher('', ic);
}

function checkNonEmpty(v: string, field: string, path: string, p: Problems): boolean {
  if (v.length > 0) return true;
  p.add(at(path, field), 'must not be empty');
  return false;
}

// ------------------------------------------------------------------ header and query parameter matchers

/** envoy.config.route.v3.HeaderMatcher (legacy *_match fields and string_match). */
export function headerMatcher(h: Rec, path: string, p: Problems): HeaderMatcher | undefined {
  const name = (str(h, 'name') ?? '').toLowerCase();
  if (!name) {
    p.add(at(path, 'name'), 'header name is required');
    return undefined;
  }
  const invert = h.invert_match === true;
  const out: HeaderMatcher = { name, invert };
  if (h.treat_missing_header_as_empty === true) out.treatMissingAsEmpty = true;
  const legacy = (k: string, make: (v: string) => StringMatcher): boolean => {
    const v = str(h, k);
    if (v === undefined) return false;
    out.matcher = make(v);
    return true;
  };
  if (msg(h, 'string_match')) {
    const m = stringMatcher(msg(h, 'string_match'), at(path, 'string_match'), p);
    if (!m) return undefined;
    out.matcher = m;
  } else if (legacy('exact_match', (v) => new ExactMatcher(v, false))) {
    // done
  } else if (legacy('prefix_match', (v) => new PrefixMatcher(v, false))) {
    // done
  } else if (legacy('suffix_match', (v) => new SuffixMatcher(v, false))) {
    // done
  } else if (legacy('contains_match', (v) => new ContainsMatcher(v, false))) {
    // done
  } else if (msg(h, 'safe_regex_match')) {
    const m = regexMatcher(str(msg(h, 'safe_regex_match') ?? {}, 'regex') ?? '', at(path, 'safe_regex_match.regex'), p);
    if (!m) return undefined;
    out.matcher = m;
  } else if (msg(h, 'range_match')) {
    const r = msg(h, 'range_match') ?? {};
    const start = num(r, 'start') ?? 0;
    const end = num(r, 'end') ?? 0;
    if (end <= start) p.add(at(path, 'range_match'), `empty range [${start}, ${end})`);
    out.range = { start, end };
  } else if (h.present_match !== undefined) {
    out.present = h.present_match === true;
  } else {
    out.present = true; // no specifier: the header must be present
  }
  return out;
}

/** envoy.config.route.v3.QueryParameterMatcher. */
export function queryParamMatcher(q: Rec, path: string, p: Problems): QueryParamMatcher | undefined {
  const name = str(q, 'name') ?? '';
  if (!name) {
    p.add(at(path, 'name'), 'query parameter name is required');
    return undefined;
  }
  if (msg(q, 'string_match')) {
    const m = stringMatcher(msg(q, 'string_match'), at(path, 'string_match'), p);
    return m ? { name, matcher: m } : undefined;
  }
  return { name };
}

// ------------------------------------------------------------------ route path matchers

type PathMatch = NonNullable<RouteMatch['path']>;

class ExactPath implements PathMatch {
  readonly kind = 'exact';
  private readonly lower: string;
  constructor(
    readonly value: string,
    private readonly caseSensitive: boolean,
  ) {
    this.lower = asciiLower(value);
  }
  test(path: string): boolean {
    if (this.caseSensitive) return path === this.value;
    return path.length === this.lower.length && regionEqualsLower(path, 0, this.lower);
  }
}

class PrefixPath implements PathMatch {
  readonly kind = 'prefix';
  private readonly lower: string;
  constructor(
    readonly value: string,
    private readonly caseSensitive: boolean,
  ) {
    this.lower = asciiLower(value);
  }
  test(path: string): boolean {
    if (this.caseSensitive) return path.startsWith(this.value);
    return path.length >= this.lower.length && regionEqualsLower(path, 0, this.lower);
  }
}

/** path_separated_prefix: the path equals the prefix or continues with '/' after it. */
class SeparatedPrefixPath implements PathMatch {
  readonly kind = 'path_separated_prefix';
  private readonly prefix: PrefixPath;
  constructor(
    readonly value: string,
    caseSensitive: boolean,
  ) {
    this.prefix = new PrefixPath(value, caseSensitive);
  }
  test(path: string): boolean {
    if (!this.prefix.test(path)) return false;
    return path.length === this.value.length || path.charCodeAt(this.value.length) === 47; // '/'
  }
}

class RegexPath implements PathMatch {
  readonly kind = 'regex';
  constructor(
    readonly value: string,
    private readonly re: RE2,
  ) {}
  test(path: string): boolean {
    return this.re.test(path);
  }
}

/**
 * The path specifier of a RouteMatch. test() receives the path WITHOUT the query string (Envoy strips it for path,
 * safe_regex and path_separated_prefix; for prefix the result is the same).
 */
export function routePath(m: Rec, path: string, p: Problems): { path?: PathMatch; caseSensitive: boolean; connect: boolean } {
  const caseSensitive = wrappedBool(m, 'case_sensitive') ?? true;
  const prefix = str(m, 'prefix');
  if (prefix !== undefined) return { path: new PrefixPath(prefix, caseSensitive), caseSensitive, connect: false };
  const exact = str(m, 'path');
  if (exact !== undefined) return { path: new ExactPath(exact, caseSensitive), caseSensitive, connect: false };
  const sep = str(m, 'path_separated_prefix');
  if (sep !== undefined) {
    if (sep.endsWith('/') || sep.includes('?') || sep.includes('#')) p.add(at(path, 'path_separated_prefix'), `"${sep}" must not end with '/' or contain '?' or '#'`);
    return { path: new SeparatedPrefixPath(sep, caseSensitive), caseSensitive, connect: false };
  }
  const sr = msg(m, 'safe_regex');
  if (sr) {
    const pattern = str(sr, 'regex') ?? '';
    const re = compileRe2(pattern, true, at(path, 'safe_regex.regex'), p);
    return { ...(re ? { path: new RegexPath(pattern, re) } : {}), caseSensitive, connect: false };
  }
  if (msg(m, 'connect_matcher')) return { caseSensitive, connect: true };
  if (msg(m, 'path_match_policy')) {
    p.add(at(path, 'path_match_policy'), 'URI template path matching is not supported');
    return { caseSensitive, connect: false };
  }
  p.add(path, 'no path specifier (prefix, path, safe_regex, path_separated_prefix or connect_matcher)');
  return { caseSensitive, connect: false };
}

// ------------------------------------------------------------------ regex rewrite (RegexMatchAndSubstitute)

type SubPart = string | number;

/** Parses Envoy's substitution (`\1`..`\9` capture groups, `\0` whole match, `\\` backslash). */
function parseSubstitution(s: string): SubPart[] {
  const parts: SubPart[] = [];
  let lit = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length) {
      const d = s[i + 1] ?? '';
      if (d >= '0' && d <= '9') {
        if (lit) parts.push(lit);
        lit = '';
        parts.push(Number(d));
        i++;
        continue;
      }
      if (d === '\\') {
        lit += '\\';
        i++;
        continue;
      }
    }
    lit += c;
  }
  if (lit) parts.push(lit);
  return parts;
}

export interface RegexRewrite {
  pattern: StringMatcher;
  substitution: string;
  replace(path: string): string;
}

class GlobalRewrite implements RegexRewrite {
  private readonly parts: SubPart[];
  constructor(
    readonly pattern: StringMatcher,
    readonly substitution: string,
    private readonly re: RE2,
  ) {
    this.parts = parseSubstitution(substitution);
  }
  /** Replaces every non-overlapping match (RE2::GlobalReplace), stepping over empty matches. */
  replace(input: string): string {
    let out = '';
    let pos = 0;
    while (pos <= input.length) {
      this.re.lastIndex = pos;
      const m = this.re.exec(input);
      if (!m) break;
      out += input.slice(pos, m.index);
      for (const part of this.parts) out += typeof part === 'string' ? part : (m[part] ?? '');
      const len = (m[0] ?? '').length;
      if (len === 0) {
        if (m.index < input.length) out += input[m.index];
        pos = m.index + 1;
      } else {
        pos = m.index + len;
      }
    }
    if (pos < input.length) out += input.slice(pos);
    this.re.lastIndex = 0;
    return out;
  }
}

/** envoy.type.matcher.v3.RegexMatchAndSubstitute. */
export function regexRewrite(r: Rec, path: string, p: Problems): RegexRewrite | undefined {
  const pattern = str(msg(r, 'pattern') ?? {}, 'regex') ?? '';
  const substitution = str(r, 'substitution') ?? '';
  const re = compileRe2(pattern, false, at(path, 'pattern.regex'), p, 'gu');
  if (!re) return undefined;
  const full = regexMatcher(pattern, at(path, 'pattern.regex'), p);
  return full ? new GlobalRewrite(full, substitution, re) : undefined;
}

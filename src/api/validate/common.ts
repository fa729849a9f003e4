// Shared validation helpers: DNS-1123 names, hostnames with wildcards, ports, IPs and CIDRs, RE2 regexes, percentages.
import { isIP } from 'node:net';
import { RE2 } from 're2-wasm';
import type { ConfigMeta } from '../config.js';
import { parseDuration } from '../duration.js';
import { joinPath, type ErrorList } from '../errors.js';

/** Context every semantic validator receives. */
export interface ValidateContext {
  namespace: string;
  name: string;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Istio accepts upper case in hostnames (DNS is case-insensitive). */
const DNS1123_LABEL_CI = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

export function isDNS1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

/** Istio's labels.IsDNS1123Label: like Kubernetes' but case-insensitive (subset, port and namespace references). */
export function isIstioLabel(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL_CI.test(s);
}

export function isDNS1123Subdomain(s: string): boolean {
  return s.length > 0 && s.length <= 253 && s.split('.').every((l) => isDNS1123Label(l));
}

/** Kubernetes object-name rules for metadata.name and metadata.namespace. */
export function validateMetadata(m: Pick<ConfigMeta, 'name' | 'namespace'>, errs: ErrorList): void {
  if (!m.name) errs.add('metadata.name', 'name is required');
  else if (!isDNS1123Subdomain(m.name)) {
    errs.add('metadata.name', `invalid name ${JSON.stringify(m.name)}: must be a lowercase RFC 1123 subdomain (a-z, 0-9, '-', '.')`);
  }
  if (!isDNS1123Label(m.namespace)) {
    errs.add('metadata.namespace', `invalid namespace ${JSON.stringify(m.namespace)}: must be a lowercase RFC 1123 label (a-z, 0-9, '-')`);
  }
}

/** Istio's ValidateDNS1123Labels: dot-separated labels, a trailing dot allowed (FQDN). */
function dnsLabelsError(domain: string, rest: string): string | undefined {
  const parts = rest.split('.');
  const tld = parts[parts.length - 1];
  if (/^[0-9]+$/.test(tld)) return `domain name ${JSON.stringify(domain)} invalid (top level domain ${JSON.stringify(tld)} cannot be all-numeric)`;
  for (let i = 0; i < parts.length; i++) {
    const label = parts[i];
    if (i === parts.length - 1 && label === '' && i > 0) return undefined;
    if (label.length > 63 || !DNS1123_LABEL_CI.test(label)) return `domain name ${JSON.stringify(domain)} invalid (label ${JSON.stringify(label)} invalid)`;
  }
  return undefined;
}

/** Istio's ValidateWildcardDomain: a hostname, with a wildcard allowed only in the first label (`*`, `*.x`, `*x.y`). */
export function wildcardDomainError(domain: string): string | undefined {
  if (domain.length === 0) return 'empty domain name not allowed';
  if (domain.length > 255) return `domain name ${JSON.stringify(domain)} too long (max 255)`;
  const dot = domain.indexOf('.');
  const first = dot < 0 ? domain : domain.slice(0, dot);
  const firstOk = first.length <= 63 && (first === '*' || DNS1123_LABEL_CI.test(first.startsWith('*') ? first.slice(1) : first));
  if (!firstOk) return `domain name ${JSON.stringify(domain)} invalid (label ${JSON.stringify(first)} invalid)`;
  return dot < 0 ? undefined : dnsLabelsError(domain, domain.slice(dot + 1));
}

/** A plain FQDN without wildcards (Istio's ValidateFQDN). */
export function fqdnError(domain: string): string | undefined {
  if (domain.length === 0) return 'empty domain name not allowed';
  if (domain.length > 255) return `domain name ${JSON.stringify(domain)} too long (max 255)`;
  return dnsLabelsError(domain, domain);
}

export function isValidPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

export function checkPort(n: number | undefined, path: string, errs: ErrorList): void {
  if (n !== undefined && !isValidPort(n)) errs.add(path, `port number ${n} must be in the range 1..65535`);
}

export function isIPAddress(s: string): boolean {
  return isIP(s) !== 0;
}

/** `10.0.0.0/8`, `2001:db8::/32`, or a bare IP. Returns an error text or undefined. */
export function cidrError(s: string): string | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return isIP(s) ? undefined : `${JSON.stringify(s)} is not a valid IP address or CIDR`;
  const ip = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  const fam = isIP(ip);
  if (!fam) return `${JSON.stringify(s)} is not a valid CIDR (bad address)`;
  const max = fam === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return `${JSON.stringify(s)} is not a valid CIDR (prefix length must be 0..${max})`;
  return undefined;
}

const regexCache = new Map<string, string | null>();

/** Compiles `pattern` with RE2 (what Envoy uses); returns the error text, or undefined when valid. */
export function re2Error(pattern: string): string | undefined {
  let r = regexCache.get(pattern);
  if (r === undefined) {
    try {
      new RE2(pattern, 'u');
      r = null;
    } catch (e) {
      r = (e instanceof Error ? e.message : String(e)).replace(/^Invalid regular expression: \/.*\/u: /s, '');
    }
    if (regexCache.size > 10_000) regexCache.clear();
    regexCache.set(pattern, r);
  }
  return r ?? undefined;
}

export function checkRegex(pattern: string | undefined, path: string, errs: ErrorList): void {
  if (pattern === undefined) return;
  const e = re2Error(pattern);
  if (e !== undefined) errs.add(path, `invalid RE2 regex ${JSON.stringify(pattern)}: ${e}`);
}

/** Duration fields already have valid syntax (schema); these add Istio's range rules. */
export function checkDurationAtLeast(d: string | undefined, minMs: number, path: string, errs: ErrorList, what = 'duration'): void {
  if (d === undefined) return;
  const ms = parseDuration(d);
  if (ms === undefined) return;
  if (ms < minMs) errs.add(path, `${what} must be at least ${minMs >= 1000 ? `${minMs / 1000}s` : `${minMs}ms`}, got ${JSON.stringify(d)}`);
  else if (!Number.isInteger(Math.round(ms * 1e6) / 1e6)) errs.add(path, `only durations to ms precision are supported, got ${JSON.stringify(d)}`);
}

export function checkPercent(v: number | undefined, path: string, errs: ErrorList): void {
  if (v !== undefined && (v < 0 || v > 100)) errs.add(path, `percentage ${v} must be in range 0..100`);
}

/** `x.y` path helper re-exported so validators import one module. */
export const at = joinPath;

/** Calls `fn` for each item with its indexed path. */
export function each<T>(items: readonly T[] | undefined, path: string, fn: (item: T, p: string, i: number) => void): void {
  if (!items) return;
  items.forEach((item, i) => fn(item, joinPath(path, i), i));
}

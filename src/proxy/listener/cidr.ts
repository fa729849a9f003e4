// CIDR ranges compiled at config time (IPv4 and IPv6, IPv4-mapped IPv6 folded to IPv4) for filter-chain matching.
import { isIPv4, isIPv6 } from 'node:net';

/** An address as a 128-bit number plus its family; IPv4 and `::ffff:a.b.c.d` both become family 4. */
interface ParsedIp {
  family: 4 | 6;
  value: bigint;
}

/** Parses an IP literal (zone ids and brackets stripped); undefined when it is not one. */
export function parseIp(input: string): ParsedIp | undefined {
  let s = input;
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  if (isIPv4(s)) return { family: 4, value: v4(s) };
  if (!isIPv6(s)) return undefined;
  const lower = s.toLowerCase();
  if (lower.startsWith('::ffff:') && isIPv4(lower.slice(7))) return { family: 4, value: v4(lower.slice(7)) };
  return { family: 6, value: v6(lower) };
}

function v4(s: string): bigint {
  let n = 0n;
  for (const part of s.split('.')) n = (n << 8n) | BigInt(Number(part));
  return n;
}

function v6(s: string): bigint {
  // Embedded IPv4 tail (e.g. ::1.2.3.4) becomes two hextets.
  let text = s;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const n = v4(tail);
    text = `${text.slice(0, lastColon + 1)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const hs = head ? head.split(':') : [];
  const ts = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const groups = rest === undefined ? hs : [...hs, ...new Array<string>(8 - hs.length - ts.length).fill('0'), ...ts];
  let n = 0n;
  for (const g of groups) n = (n << 16n) | BigInt(parseInt(g, 16));
  return n;
}

/** A compiled CIDR range. */
export class CidrRange {
  readonly family: 4 | 6;
  readonly prefixLen: number;
  private readonly base: bigint;
  private readonly mask: bigint;

  constructor(address: string, prefixLen: number) {
    const ip = parseIp(address);
    if (!ip) throw new Error(`invalid CIDR address ${JSON.stringify(address)}`);
    const bits = ip.family === 4 ? 32 : 128;
    // `::ffff:0.0.0.0/96`-style ranges arrive with a v6 prefix length over a v4 value.
    let len = prefixLen;
    if (ip.family === 4 && prefixLen > 32 && address.includes(':')) len = prefixLen - 96;
    if (!Number.isInteger(len) || len < 0 || len > bits) throw new Error(`invalid prefix length ${prefixLen} for ${address}`);
    this.family = ip.family;
    this.prefixLen = len;
    const all = (1n << BigInt(bits)) - 1n;
    this.mask = len === 0 ? 0n : (all >> BigInt(bits - len)) << BigInt(bits - len);
    this.base = ip.value & this.mask;
  }

  contains(ip: ParsedIp): boolean {
    return ip.family === this.family && (ip.value & this.mask) === this.base;
  }
}

/** Compiles Envoy CidrRange lists; an invalid entry throws (the decoder validated them already). */
export function compileRanges(ranges: readonly { address: string; prefixLen: number }[]): CidrRange[] {
  return ranges.map((r) => new CidrRange(r.address, r.prefixLen));
}

/** Longest prefix among `ranges` that contains `ip`, or -1 when none does. */
export function longestMatch(ranges: readonly CidrRange[], ip: ParsedIp | undefined): number {
  if (!ip) return -1;
  let best = -1;
  for (const r of ranges) if (r.prefixLen > best && r.contains(ip)) best = r.prefixLen;
  return best;
}

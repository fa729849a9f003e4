// Filter-chain selection in Envoy's order, compiled per listener at config time: destination port, destination IP
// (longest prefix), server name (exact, then most specific wildcard), transport protocol, application protocols
// (client order), source IP (longest prefix); a level that matches narrows the candidates and is never backtracked;
// nothing left → the default chain, or no match.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/listener/v3/listener_components.proto#config-listener-v3-filterchainmatch
import type { FilterChain } from '../runtime/types.js';
import type { CidrRange } from './cidr.js';
import { compileRanges, longestMatch, parseIp } from './cidr.js';

/** What the listener knows about a connection when it picks a chain. */
export interface ChainMatchInput {
  destinationPort: number;
  destinationIp?: string;
  serverName?: string;
  /** 'raw_buffer' unless the tls inspector found TLS. */
  transport: string;
  /** ALPN offered by the client (TLS), or what http_inspector found ('http/1.1', 'http/1.0', 'h2c'). */
  alpn: readonly string[];
  sourceIp?: string;
}

interface Compiled<T> {
  value: T;
  port?: number;
  dst: CidrRange[];
  exactNames: ReadonlySet<string>;
  /** Wildcard server names without the leading '*' (e.g. '.example.com'). */
  wildcardNames: ReadonlySet<string>;
  anyName: boolean;
  transport?: string;
  alpn: ReadonlySet<string>;
  src: CidrRange[];
}

/** A compiled set of filter chains; `T` is whatever the listener attaches to a chain (its handler, TLS context). */
export class ChainSelector<T extends { chain: FilterChain }> {
  private readonly byPort = new Map<number, Compiled<T>[]>();
  private readonly anyPort: Compiled<T>[] = [];
  private readonly fallback: T | undefined;

  constructor(chains: readonly T[], defaultChain?: T) {
    this.fallback = defaultChain;
    for (const value of chains) {
      const m = value.chain.match;
      const names = m.serverNames.map((n) => n.toLowerCase());
      const c: Compiled<T> = {
        value,
        port: m.destinationPort,
        dst: compileRanges(m.prefixRanges),
        exactNames: new Set(names.filter((n) => !n.startsWith('*'))),
        wildcardNames: new Set(names.filter((n) => n.startsWith('*.')).map((n) => n.slice(1))),
        anyName: names.length === 0,
        transport: m.transportProtocol || undefined,
        alpn: new Set(m.applicationProtocols),
        src: compileRanges(m.sourcePrefixRanges),
      };
      if (c.port !== undefined && c.port !== 0) {
        let list = this.byPort.get(c.port);
        if (!list) this.byPort.set(c.port, (list = []));
        list.push(c);
      } else {
        this.anyPort.push(c);
      }
    }
  }

  /** True when a chain's choice depends on SNI, ALPN or transport (so sniffing can matter). */
  get needsInspection(): boolean {
    const all = [...this.anyPort, ...[...this.byPort.values()].flat()];
    return all.some((c) => !c.anyName || c.transport !== undefined || c.alpn.size > 0);
  }

  select(input: ChainMatchInput): T | undefined {
    let cand = this.byPort.get(input.destinationPort) ?? this.anyPort;
    if (cand.length > 0) cand = byPrefix(cand, (c) => c.dst, input.destinationIp);
    if (cand.length > 0) cand = byServerName(cand, input.serverName);
    if (cand.length > 0) {
      const t = cand.filter((c) => c.transport === input.transport);
      cand = t.length > 0 ? t : cand.filter((c) => c.transport === undefined);
    }
    if (cand.length > 0) cand = byAlpn(cand, input.alpn);
    if (cand.length > 0) cand = byPrefix(cand, (c) => c.src, input.sourceIp);
    return cand.length > 0 ? cand[0].value : this.fallback;
  }
}

/** Longest matching prefix wins; a chain without ranges counts as a /0 match (Envoy inserts 0.0.0.0/0 and ::/0). */
function byPrefix<T>(cand: Compiled<T>[], ranges: (c: Compiled<T>) => CidrRange[], ipText: string | undefined): Compiled<T>[] {
  if (cand.every((c) => ranges(c).length === 0)) return cand;
  const ip = ipText !== undefined ? parseIp(ipText) : undefined;
  let best = -1;
  const lens = cand.map((c) => {
    const r = ranges(c);
    const len = r.length === 0 ? 0 : longestMatch(r, ip);
    if (len > best) best = len;
    return len;
  });
  return best < 0 ? [] : cand.filter((_, i) => lens[i] === best);
}

function byServerName<T>(cand: Compiled<T>[], sni: string | undefined): Compiled<T>[] {
  if (sni) {
    const name = sni.toLowerCase();
    const exact = cand.filter((c) => c.exactNames.has(name));
    if (exact.length > 0) return exact;
    // Most specific wildcard first: a.b.example.com → .b.example.com, .example.com, .com
    for (let dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) {
      const suffix = name.slice(dot);
      const wild = cand.filter((c) => c.wildcardNames.has(suffix));
      if (wild.length > 0) return wild;
    }
  }
  return cand.filter((c) => c.anyName);
}

function byAlpn<T>(cand: Compiled<T>[], alpn: readonly string[]): Compiled<T>[] {
  for (const p of alpn) {
    const m = cand.filter((c) => c.alpn.has(p));
    if (m.length > 0) return m;
  }
  return cand.filter((c) => c.alpn.size === 0);
}

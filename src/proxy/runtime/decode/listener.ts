// LDS: Listener bytes → Listener (address, listener filters, filter chains with their match, TLS and terminal filter).
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/listener/v3/listener.proto
import { isIP } from 'node:net';
import { TypeUrl } from '../../../xds/types.js';
import type { Decoded, FilterChain, FilterChainMatch, Listener, SocketAddress } from '../types.js';
import { terminalFilter } from './network-filters.js';
import { downstreamTls } from './tls.js';
import type { DecodeContext, Rec } from './util.js';
import { Problems, at, bytesHash, cidrs, decodeView, defaultDecodeContext, durMs, enumStr, list, msg, num, rec, str, strs, unpackAny, wrappedBool, wrappedNum } from './util.js';

export const ListenerFilterType = {
  TlsInspector: 'envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
  HttpInspector: 'envoy.extensions.filters.listener.http_inspector.v3.HttpInspector',
  OriginalDst: 'envoy.extensions.filters.listener.original_dst.v3.OriginalDst',
} as const;

/** Envoy's listener_filters_timeout default. */
export const LISTENER_FILTERS_TIMEOUT_MS = 15_000;

/** address.socket_address → SocketAddress (TCP, an IP and a port). */
export function socketAddress(a: Rec | undefined, path: string, p: Problems, allowHostname = false): SocketAddress | undefined {
  if (!a) {
    p.add(path, 'address is required');
    return undefined;
  }
  const sa = msg(a, 'socket_address');
  if (!sa) {
    const kind = Object.keys(a)[0] ?? 'empty';
    p.add(path, `${kind} addresses are not supported (socket_address only)`);
    return undefined;
  }
  const sp = at(path, 'socket_address');
  const address = str(sa, 'address') ?? '';
  if (enumStr(sa, 'protocol', 'TCP') !== 'TCP') p.add(at(sp, 'protocol'), 'only TCP is supported');
  if (sa.named_port !== undefined) p.add(at(sp, 'named_port'), 'named ports are not supported');
  if (!address) p.add(at(sp, 'address'), 'address is required');
  else if (!allowHostname && isIP(address) === 0) p.add(at(sp, 'address'), `"${address}" is not an IP address`);
  const port = num(sa, 'port_value') ?? 0;
  if (port > 65535) p.add(at(sp, 'port_value'), `${port} is not a port`);
  return { address, port };
}

function chainMatch(m: Rec | undefined, path: string, p: Problems): FilterChainMatch {
  const out: FilterChainMatch = { serverNames: [], applicationProtocols: [], prefixRanges: [], sourcePrefixRanges: [] };
  if (!m) return out;
  const port = wrappedNum(m, 'destination_port');
  if (port !== undefined) {
    if (port < 1 || port > 65535) p.add(at(path, 'destination_port'), `${port} is not a port`);
    out.destinationPort = port;
  }
  out.serverNames = strs(m, 'server_names').map((s) => s.toLowerCase());
  out.serverNames.forEach((s, i) => {
    if (s.includes('*') && !s.startsWith('*.')) p.add(`${at(path, 'server_names')}[${i}]`, `"${s}": only a leading "*." wildcard is supported`);
  });
  const tp = str(m, 'transport_protocol');
  if (tp) out.transportProtocol = tp;
  out.applicationProtocols = strs(m, 'application_protocols');
  out.prefixRanges = cidrs(list(m, 'prefix_ranges'), at(path, 'prefix_ranges'), p);
  out.sourcePrefixRanges = cidrs(list(m, 'source_prefix_ranges'), at(path, 'source_prefix_ranges'), p);
  if (enumStr(m, 'source_type', 'ANY') !== 'ANY') p.add(at(path, 'source_type'), 'only ANY is supported');
  for (const k of ['source_ports', 'direct_source_prefix_ranges']) {
    const v = m[k];
    if (Array.isArray(v) && v.length > 0) p.add(at(path, k), 'not supported by the proxy');
  }
  return out;
}

/** A canonical key of a match, to find chains Envoy would reject as duplicates. */
function matchKey(m: FilterChainMatch): string {
  const cidr = (l: { address: string; prefixLen: number }[]): string => l.map((c) => `${c.address}/${c.prefixLen}`).sort().join(',');
  return [m.destinationPort ?? '', [...m.serverNames].sort().join(','), m.transportProtocol ?? '', [...m.applicationProtocols].sort().join(','), cidr(m.prefixRanges), cidr(m.sourcePrefixRanges)].join('|');
}

function filterChain(c: Rec, path: string, p: Problems, ctx: DecodeContext): FilterChain | undefined {
  const match = chainMatch(msg(c, 'filter_chain_match'), at(path, 'filter_chain_match'), p);
  const tls = downstreamTls(msg(c, 'transport_socket'), at(path, 'transport_socket'), p, ctx);
  const filter = terminalFilter(list(c, 'filters'), at(path, 'filters'), p, ctx);
  if (!filter) return undefined;
  const out: FilterChain = { name: str(c, 'name') ?? '', match, filter };
  if (tls) out.tls = tls;
  return out;
}

function listenerFilters(items: Rec[], path: string, p: Problems): Listener['listenerFilters'] {
  const out = { tlsInspector: false, httpInspector: false, originalDst: false };
  items.forEach((f, i) => {
    const fp = `${path}[${i}]`;
    if (f.config_discovery !== undefined) {
      p.add(at(fp, 'config_discovery'), 'extension config discovery is not supported');
      return;
    }
    const a = unpackAny(rec(f.typed_config));
    const type = a?.type ?? '';
    if (type === ListenerFilterType.TlsInspector) out.tlsInspector = true;
    else if (type === ListenerFilterType.HttpInspector) out.httpInspector = true;
    else if (type === ListenerFilterType.OriginalDst) out.originalDst = true;
    else p.add(at(fp, 'typed_config'), a ? `unsupported listener filter type ${type}` : `listener filter ${str(f, 'name') ?? '(unnamed)'} has no typed_config`);
  });
  return out;
}

/** A Listener object → Listener; problems go to `p`. */
export function listenerFromObject(o: Rec, p: Problems, ctx: DecodeContext, hash: string): Listener | undefined {
  const name = str(o, 'name') ?? '';
  if (!name) p.add('name', 'listener name is required');
  const api = msg(o, 'api_listener') !== undefined;
  const dir = enumStr(o, 'traffic_direction', 'UNSPECIFIED');
  const direction: Listener['trafficDirection'] = dir === 'INBOUND' || dir === 'OUTBOUND' ? dir : 'UNSPECIFIED';
  const base = {
    name,
    bindToPort: wrappedBool(o, 'bind_to_port') ?? true,
    useOriginalDst: wrappedBool(o, 'use_original_dst') ?? false,
    trafficDirection: direction,
    listenerFiltersTimeoutMs: durMs(o, 'listener_filters_timeout') ?? LISTENER_FILTERS_TIMEOUT_MS,
    continueOnListenerFiltersTimeout: o.continue_on_listener_filters_timeout === true,
    hash,
  };
  if (api) {
    // Proxyless gRPC listeners: the proxy never binds them, so their content is not checked.
    return { ...base, address: { address: '', port: 0 }, listenerFilters: { tlsInspector: false, httpInspector: false, originalDst: false }, filterChains: [], apiListener: true };
  }
  const address = socketAddress(msg(o, 'address'), 'address', p);
  if (msg(o, 'internal_listener')) p.add('internal_listener', 'internal listeners are not supported');
  if (msg(o, 'filter_chain_matcher')) p.add('filter_chain_matcher', 'the matcher-based filter chain selection is not supported');
  if (msg(o, 'udp_listener_config')) p.add('udp_listener_config', 'UDP listeners are not supported');
  const filterChains: FilterChain[] = [];
  const seen = new Map<string, number>();
  list(o, 'filter_chains').forEach((c, i) => {
    const path = `filter_chains[${i}]`;
    const fc = filterChain(c, path, p, ctx);
    if (!fc) return;
    const key = matchKey(fc.match);
    const prev = seen.get(key);
    if (prev !== undefined) p.add(at(path, 'filter_chain_match'), `same match as filter_chains[${prev}] (multiple filter chains with the same matching rules)`);
    else seen.set(key, i);
    filterChains.push(fc);
  });
  const dc = msg(o, 'default_filter_chain');
  const defaultFilterChain = dc ? filterChain(dc, 'default_filter_chain', p, ctx) : undefined;
  if (filterChains.length === 0 && !defaultFilterChain) p.add('filter_chains', 'a listener needs at least one filter chain');
  if (!address) return undefined;
  const out: Listener = {
    ...base,
    address,
    listenerFilters: listenerFilters(list(o, 'listener_filters'), 'listener_filters', p),
    filterChains,
    apiListener: false,
  };
  if (defaultFilterChain) out.defaultFilterChain = defaultFilterChain;
  return out;
}

/** LDS: Listener bytes → Listener, or every problem as `listener <name>: <path>: <reason>`. */
export function decodeListener(bytes: Uint8Array, ctx: DecodeContext = defaultDecodeContext): Decoded<Listener> {
  const view = decodeView(TypeUrl.Listener, bytes);
  if ('error' in view) return { ok: false, errors: [`listener: ${view.error}`] };
  const p = new Problems(`listener ${str(view.obj, 'name') || '(unnamed)'}`);
  const l = listenerFromObject(view.obj, p, ctx, bytesHash(bytes));
  return p.ok && l ? { ok: true, value: l } : { ok: false, errors: p.list };
}

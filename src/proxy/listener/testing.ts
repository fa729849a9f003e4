// Test helpers for the listener layer: listener/chain builders, a hand-built ConfigSource, and fake network
// handlers that echo and record what they were given.
import type { Socket } from 'node:net';
import type { ConfigSource, ConnectionInfo, NetworkHandler, NetworkHandlerFactory } from '../runtime/contracts.js';
import type {
  ConfigSnapshot, FilterChain, FilterChainMatch, HttpConnectionManagerConfig, Listener, TcpProxyConfig,
} from '../runtime/types.js';

export function tcpFilter(statPrefix: string, cluster = statPrefix): TcpProxyConfig {
  return { type: 'tcp', statPrefix, cluster, idleTimeoutMs: 0, accessLog: [], maxConnectAttempts: 1 };
}

export function httpFilter(statPrefix: string): HttpConnectionManagerConfig {
  return {
    type: 'http', statPrefix, rdsName: statPrefix, httpFilters: [{ type: 'router', name: 'envoy.filters.http.router' }], codecType: 'AUTO',
    generateRequestId: true, useRemoteAddress: false, xffNumTrustedHops: 0, skipXffAppend: false, streamIdleTimeoutMs: 0,
    requestTimeoutMs: 0, requestHeadersTimeoutMs: 0, idleTimeoutMs: 0, maxRequestHeadersKb: 60, maxHeadersCount: 100,
    accessLog: [], upgradeTypes: [], normalizePath: true, mergeSlashes: false, httpProxyMode: false,
  };
}

export function chain(name: string, match: Partial<FilterChainMatch> = {}, extra: Partial<FilterChain> = {}): FilterChain {
  return {
    name,
    match: { serverNames: [], applicationProtocols: [], prefixRanges: [], sourcePrefixRanges: [], ...match },
    filter: tcpFilter(name),
    ...extra,
  };
}

export function listener(l: Partial<Listener> & { name: string }): Listener {
  const base: Listener = {
    name: l.name,
    address: { address: '127.0.0.1', port: 0 },
    bindToPort: true,
    useOriginalDst: false,
    trafficDirection: 'OUTBOUND',
    listenerFilters: { tlsInspector: false, httpInspector: false, originalDst: false },
    listenerFiltersTimeoutMs: 15_000,
    continueOnListenerFiltersTimeout: false,
    filterChains: [chain(l.name)],
    apiListener: false,
    hash: '',
  };
  const out = { ...base, ...l };
  if (!l.hash) out.hash = JSON.stringify({ ...out, hash: '' });
  return out;
}

export function snapshot(listeners: Listener[]): ConfigSnapshot {
  return {
    listeners: new Map(listeners.map((l) => [l.name, l])),
    routes: new Map(),
    clusters: new Map(),
    endpoints: new Map(),
    versions: new Map(),
  };
}

/** A ConfigSource fed by hand. */
export class FakeConfigSource implements ConfigSource {
  private snap: ConfigSnapshot;
  private readonly subs = new Set<(s: ConfigSnapshot) => void>();
  constructor(listeners: Listener[] = []) {
    this.snap = snapshot(listeners);
  }
  current(): ConfigSnapshot {
    return this.snap;
  }
  subscribe(fn: (s: ConfigSnapshot) => void): () => void {
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  }
  set(listeners: Listener[]): void {
    this.snap = snapshot(listeners);
    for (const f of this.subs) f(this.snap);
  }
}

/**
 * A handler that greets each connection with `<tag> <chain> <sniffed> <alpn>\n` and echoes what it reads.
 * drain(): ends connections with "bye\n" and resolves when they are all closed.
 */
export class EchoHandler implements NetworkHandler {
  readonly infos: ConnectionInfo[] = [];
  readonly sockets = new Set<Socket>();
  drained = false;
  constructor(readonly tag: string) {}
  get activeConnections(): number {
    return this.sockets.size;
  }
  onConnection(socket: Socket, info: ConnectionInfo): void {
    this.infos.push(info);
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.write(`${this.tag} ${info.filterChainName} ${info.sniffed ?? '-'} ${(info.alpn ?? []).join(',') || '-'}\n`);
    socket.pipe(socket);
  }
  async drain(_deadlineMs: number): Promise<void> {
    this.drained = true;
    const closing = [...this.sockets].map((s) => new Promise<void>((resolve) => {
      if (s.destroyed) return resolve();
      s.once('close', () => resolve());
      s.end('bye\n');
    }));
    await Promise.all(closing);
  }
}

/** Builds EchoHandlers tagged with the config generation (`gen`), recording each. */
export class FakeFactory implements NetworkHandlerFactory {
  gen = 1;
  readonly handlers: EchoHandler[] = [];
  http(config: HttpConnectionManagerConfig): NetworkHandler {
    return this.make(`http${this.gen}:${config.statPrefix}`);
  }
  tcp(config: TcpProxyConfig): NetworkHandler {
    return this.make(`tcp${this.gen}:${config.statPrefix}`);
  }
  private make(tag: string): EchoHandler {
    const h = new EchoHandler(tag);
    this.handlers.push(h);
    return h;
  }
}

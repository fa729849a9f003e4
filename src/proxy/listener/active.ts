// One listener config version at work: its filter chains with their network handlers (built once per chain), the
// accept path (original destination → hand-off → listener filters → chain selection → TLS → handler), per-listener
// Envoy stats, and draining of the connections it accepted.
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { logger } from '../../shared/log.js';
import type { ConnectionInfo, NetworkHandler, NetworkHandlerFactory } from '../runtime/contracts.js';
import type { FilterChain, Listener, SocketAddress } from '../runtime/types.js';
import type { Counter, Gauge, Stats } from '../telemetry/stats.js';
import { ChainSelector } from './chain-match.js';
import type { OriginalDstHook } from './original-dst.js';
import { localDestination, normalizeIp, originalDestination } from './original-dst.js';
import type { SniffResult } from './sniff.js';
import { sniff } from './sniff.js';
import type { SecretProvider } from './tls.js';
import { DownstreamTlsContext } from './tls.js';

const log = logger('listener');

/** Handlers may offer close() to free servers and timers once they are no longer used (the HTTP handler does). */
interface Closable {
  close?(): void;
}
const noop = (): void => {};

export interface ActiveListenerDeps {
  factory: NetworkHandlerFactory;
  stats: Stats;
  secrets?: SecretProvider;
  originalDst?: OriginalDstHook;
  /** use_original_dst: the listener owning `dst` (exact address, then wildcard), if another one does. */
  handOff?: (dst: SocketAddress, from: ActiveListener) => ActiveListener | undefined;
}

interface ChainRuntime {
  chain: FilterChain;
  handler?: NetworkHandler;
  tls?: DownstreamTlsContext;
}

/** Envoy's listener stat prefix: `listener.0.0.0.0_15001`. */
export function listenerStatPrefix(l: Listener): string {
  return `listener.${l.address.address}_${l.address.port}`;
}

export class ActiveListener {
  /** Chains that could not be built (handler or TLS errors), with the reason. */
  readonly errors: string[] = [];
  draining = false;
  private readonly chains: ChainRuntime[] = [];
  private readonly selector: ChainSelector<ChainRuntime>;
  private readonly sockets = new Set<Socket>();
  private readonly sniffing: boolean;
  private readonly cxTotal: Counter;
  private readonly cxActive: Gauge;
  private readonly cxDestroy: Counter;
  private readonly noChain: Counter;
  private readonly preActive: Gauge;
  private readonly preTimeout: Counter;
  private readonly sslError: Counter;
  private readonly sslHandshake: Counter;
  private readonly handlerError: Counter;
  private readonly onSocketClose: (this: Socket) => void;

  constructor(
    readonly config: Listener,
    private readonly deps: ActiveListenerDeps,
  ) {
    const p = listenerStatPrefix(config);
    const s = deps.stats;
    this.cxTotal = s.counter(`${p}.downstream_cx_total`);
    this.cxActive = s.gauge(`${p}.downstream_cx_active`);
    this.cxDestroy = s.counter(`${p}.downstream_cx_destroy`);
    this.noChain = s.counter(`${p}.no_filter_chain_match`);
    this.preActive = s.gauge(`${p}.downstream_pre_cx_active`);
    this.preTimeout = s.counter(`${p}.downstream_pre_cx_timeout`);
    this.sslError = s.counter(`${p}.ssl.connection_error`);
    this.sslHandshake = s.counter(`${p}.ssl.handshake`);
    this.handlerError = s.counter(`${p}.downstream_cx_handler_error`);
    const runtimes = config.filterChains.map((c) => this.build(c));
    const dflt = config.defaultFilterChain ? this.build(config.defaultFilterChain) : undefined;
    this.selector = new ChainSelector(runtimes, dflt);
    this.sniffing = config.listenerFilters.tlsInspector || config.listenerFilters.httpInspector;
    const sockets = this.sockets;
    const active = this.cxActive;
    const destroyed = this.cxDestroy;
    this.onSocketClose = function (this: Socket): void {
      sockets.delete(this);
      active.dec();
      destroyed.inc();
    };
  }

  private build(chain: FilterChain): ChainRuntime {
    const rt: ChainRuntime = { chain };
    try {
      if (chain.tls) rt.tls = new DownstreamTlsContext(chain.tls, this.deps.secrets);
      rt.handler = chain.filter.type === 'http' ? this.deps.factory.http(chain.filter) : this.deps.factory.tcp(chain.filter);
    } catch (e) {
      const msg = `filter chain ${JSON.stringify(chain.name)}: ${e instanceof Error ? e.message : String(e)}`;
      this.errors.push(msg);
      log.error('filter chain unusable; its connections will be closed', { listener: this.config.name, error: msg });
      delete rt.handler;
    }
    this.chains.push(rt);
    return rt;
  }

  /** Connections accepted under this config and not yet closed (including those still being sniffed). */
  get activeConnections(): number {
    return this.sockets.size;
  }

  /** Entry point for sockets accepted on this listener's own bound port. */
  accept(socket: Socket): void {
    socket.on('error', noop); // a reset before the handler attaches its own listener must not crash the process
    const c = this.config;
    const dst = c.useOriginalDst || c.listenerFilters.originalDst ? originalDestination(socket, this.deps.originalDst) : localDestination(socket);
    if (c.useOriginalDst && this.deps.handOff) {
      const target = this.deps.handOff(dst, this);
      if (target && target !== this) {
        target.take(socket, dst);
        return;
      }
    }
    this.take(socket, dst);
  }

  /** Takes a connection whose destination is known (own accept, or a hand-off from a virtual listener). */
  take(socket: Socket, dst: SocketAddress): void {
    socket.on('error', noop);
    this.cxTotal.inc();
    this.cxActive.inc();
    this.sockets.add(socket);
    socket.once('close', this.onSocketClose);
    if (!this.sniffing) {
      this.dispatch(socket, dst, undefined);
      return;
    }
    const f = this.config.listenerFilters;
    this.preActive.inc();
    sniff(socket, { tlsInspector: f.tlsInspector, httpInspector: f.httpInspector, timeoutMs: this.config.listenerFiltersTimeoutMs }, (r) => {
      this.preActive.dec();
      if (!r) {
        socket.destroy();
        return;
      }
      if (r.timedOut) {
        this.preTimeout.inc();
        if (!this.config.continueOnListenerFiltersTimeout) {
          socket.destroy();
          return;
        }
      }
      this.dispatch(socket, dst, r);
    });
  }

  private dispatch(socket: Socket, dst: SocketAddress, r: SniffResult | undefined): void {
    if (socket.destroyed) return;
    const remoteAddress = normalizeIp(socket.remoteAddress);
    const rt = this.selector.select({
      destinationPort: dst.port,
      destinationIp: dst.address,
      serverName: r?.sni,
      transport: r?.transport ?? 'raw_buffer',
      alpn: r?.alpn ?? [],
      sourceIp: remoteAddress,
    });
    if (!rt?.handler) {
      this.noChain.inc();
      socket.destroy();
      return;
    }
    const info: ConnectionInfo = {
      listenerName: this.config.name,
      filterChainName: rt.chain.name,
      localAddress: normalizeIp(socket.localAddress),
      localPort: socket.localPort ?? 0,
      remoteAddress,
      remotePort: socket.remotePort ?? 0,
      originalDst: dst,
      transport: r?.transport ?? 'raw_buffer',
    };
    if (r) {
      info.sniffed = r.sniffed;
      if (r.sni !== undefined) info.sni = r.sni;
      if (r.alpn.length > 0) info.alpn = r.alpn;
    }
    const handler = rt.handler;
    if (!rt.tls) {
      this.handOver(handler, socket, info);
      return;
    }
    rt.tls.terminate(socket, (err, t) => {
      if (err || !t) {
        this.sslError.inc();
        socket.destroy();
        return;
      }
      this.sslHandshake.inc();
      t.socket.on('error', noop);
      info.transport = 'tls';
      if (t.peerPrincipal !== undefined) info.peerPrincipal = t.peerPrincipal;
      this.handOver(handler, t.socket, info);
    });
  }

  private handOver(handler: NetworkHandler, socket: Socket | TLSSocket, info: ConnectionInfo): void {
    try {
      handler.onConnection(socket, info);
    } catch {
      this.handlerError.inc();
      socket.destroy();
    }
  }

  /**
   * Drains what this config accepted: every handler drains (HTTP: Connection: close / GOAWAY) for up to `ms`,
   * then whatever is still open is closed. Resolves early when all handlers report done.
   */
  async drain(ms: number): Promise<void> {
    this.draining = true;
    const handlers = this.chains.map((c) => c.handler).filter((h): h is NetworkHandler => h !== undefined);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, ms));
    });
    const drained = Promise.allSettled(handlers.map((h) => Promise.resolve().then(() => h.drain(ms)))).then(noop);
    await Promise.race([drained, deadline]);
    clearTimeout(timer);
    this.destroyAll();
  }

  /** Closes every connection this config accepted, at once, and releases handlers that can be closed. */
  destroyAll(): void {
    for (const s of [...this.sockets]) s.destroy();
    for (const c of this.chains) (c.handler as Closable | undefined)?.close?.();
  }
}

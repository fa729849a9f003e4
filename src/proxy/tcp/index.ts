// TCP proxy network filter (Envoy's tcp_proxy): picks a (weighted) cluster per connection, connects through the
// cluster (LB, breakers, connect timeout, retries on connect failure), then pipes bytes both ways. TLS passthrough
// works unchanged: the listener hands over the still-encrypted socket (chosen by SNI) and bytes are copied as is.
// https://www.envoyproxy.io/docs/envoy/latest/configuration/listeners/network_filters/tcp_proxy_filter
import type { Socket } from 'node:net';
import type { ClusterManager, ConnectionInfo, NetworkHandler } from '../runtime/contracts.js';
import type { TcpProxyConfig } from '../runtime/types.js';
import type { Counter, Gauge, Stats } from '../telemetry/stats.js';
import { compileAccessLog, type AccessLogFormatter } from '../http/access-log.js';
import type { LineSink } from '../http/log-writer.js';
import { TcpSession } from './session.js';

export interface TcpHandlerDeps {
  clusters: ClusterManager;
  stats: Stats;
  /** Access-log writers by path (shared with the HTTP handlers); without it, access logs are not written. */
  logSinks?: { get(path: string): LineSink };
  random?: () => number;
}

/** tcp.<stat_prefix>.* handles (Envoy's TCP proxy statistics). */
export class TcpStats {
  readonly cxTotal: Counter;
  readonly noRoute: Counter;
  readonly rxBytes: Counter;
  readonly txBytes: Counter;
  readonly pausedReading: Counter;
  readonly resumedReading: Counter;
  readonly idleTimeout: Counter;
  readonly flushTotal: Counter;
  readonly flushActive: Gauge;
  readonly connectAttemptsExceeded: Counter;
  constructor(stats: Stats, prefix: string) {
    const p = `tcp.${prefix}.`;
    this.cxTotal = stats.counter(p + 'downstream_cx_total');
    this.noRoute = stats.counter(p + 'downstream_cx_no_route');
    this.rxBytes = stats.counter(p + 'downstream_cx_rx_bytes_total');
    this.txBytes = stats.counter(p + 'downstream_cx_tx_bytes_total');
    this.pausedReading = stats.counter(p + 'downstream_flow_control_paused_reading_total');
    this.resumedReading = stats.counter(p + 'downstream_flow_control_resumed_reading_total');
    this.idleTimeout = stats.counter(p + 'idle_timeout');
    this.flushTotal = stats.counter(p + 'upstream_flush_total');
    this.flushActive = stats.gauge(p + 'upstream_flush_active');
    this.connectAttemptsExceeded = stats.counter(p + 'upstream_cx_connect_attempts_exceeded');
  }
}

export class TcpProxy implements NetworkHandler {
  readonly sessions = new Set<TcpSession>();
  readonly stats: TcpStats;
  readonly logs: { format: AccessLogFormatter; sink: LineSink }[];
  readonly random: () => number;
  private draining = false;
  private drainWaiters: (() => void)[] = [];
  private drainTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly config: TcpProxyConfig,
    readonly deps: TcpHandlerDeps,
  ) {
    this.stats = new TcpStats(deps.stats, config.statPrefix);
    this.random = deps.random ?? Math.random;
    const sinks = deps.logSinks;
    this.logs = sinks ? config.accessLog.map((a) => ({ format: compileAccessLog(a), sink: sinks.get(a.path) })) : [];
  }

  get activeConnections(): number {
    return this.sessions.size;
  }

  onConnection(socket: Socket, info: ConnectionInfo): void {
    const s = new TcpSession(this, socket, info);
    this.sessions.add(s);
    s.start();
  }

  /** The cluster for a new connection: `cluster`, or one of `weightedClusters` by weight. */
  pickCluster(): string | undefined {
    const w = this.config.weightedClusters;
    if (!w || w.length === 0) return this.config.cluster;
    let total = 0;
    for (const c of w) total += c.weight;
    let r = this.random() * total;
    for (const c of w) {
      r -= c.weight;
      if (r < 0) return c.name;
    }
    return w[w.length - 1].name;
  }

  /** @internal A session ended. */
  ended(s: TcpSession): void {
    this.sessions.delete(s);
    if (this.draining && this.sessions.size === 0) this.drained();
  }

  /**
   * TCP has no in-band way to ask a client to go away: open connections keep flowing until they close or the
   * deadline (ms from now, or an epoch ms) passes, then they are closed.
   */
  drain(deadlineMs: number): Promise<void> {
    this.draining = true;
    if (this.sessions.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.drainWaiters.push(resolve);
      if (!this.drainTimer) {
        const ms = deadlineMs > 1e12 ? deadlineMs - Date.now() : deadlineMs;
        this.drainTimer = setTimeout(() => {
          for (const s of [...this.sessions]) s.close();
        }, Math.max(0, ms));
        this.drainTimer.unref();
      }
    });
  }

  private drained(): void {
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = undefined;
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const f of w) f();
  }
}

export function createTcpHandler(config: TcpProxyConfig, deps: TcpHandlerDeps): NetworkHandler {
  return new TcpProxy(config, deps);
}

// One upstream cluster (UpstreamCluster): host set from its LoadAssignment (EDS, inline, DNS or original
// destination), load balancer, circuit breakers, outlier detection, per-host HTTP pools, and TCP connects.
import type { Socket } from 'node:net';
import type { Abortable, HostStatus, LbContext, UpstreamCluster, UpstreamHandler, UpstreamRequest } from '../runtime/contracts.js';
import type { Cluster, LoadAssignment, SocketAddress } from '../runtime/types.js';
import type { Stats } from '../telemetry/stats.js';
import { openConnection } from './connector.js';
import type { UpstreamEnv } from './deps.js';
import { DnsRefresher, needsDns } from './dns.js';
import { connectionFailure, noHealthyUpstream, overflowError, type UpstreamResetError } from './errors.js';
import { H1Slot } from './h1-slot.js';
import { H2Slot } from './h2-slot.js';
import { Host, hostKey } from './host.js';
import { PriorityLoadBalancer, type PriorityLbOptions } from './lb/priority.js';
import { OutlierDetector } from './outlier.js';
import { HostPool, type PoolOwner, type SlotFactory } from './pool.js';
import { CircuitBreakers, ClusterStats } from './resources.js';
import { UpstreamStream } from './stream.js';
import { UpstreamTlsContext } from './tls.js';

/** ORIGINAL_DST hosts unused for this long are dropped (Envoy's cleanup_interval default). */
const ORIGINAL_DST_CLEANUP_MS = 5000;

const h1Slot: SlotFactory = (pool, first) => new H1Slot(pool, pool.owner.tls?.cfg.autoSni ? authorityHost(first.reqHeaders) : undefined);
const h2Slot: SlotFactory = (pool, first) => new H2Slot(pool, pool.owner.tls?.cfg.autoSni ? authorityHost(first.reqHeaders) : undefined);

export class ClusterImpl implements UpstreamCluster, PoolOwner {
  readonly name: string;
  readonly stats: ClusterStats;
  readonly breakers: CircuitBreakers;
  readonly outlier: OutlierDetector | undefined;
  readonly tls: UpstreamTlsContext | undefined;
  readonly alpn: { h1: string[] | undefined; h2: string[] | undefined };
  private hostMap = new Map<string, Host>();
  private hostList: Host[] = [];
  private readonly lb: PriorityLoadBalancer<Host>;
  private readonly lbOpts: PriorityLbOptions;
  /** The LoadAssignment last applied (EDS object identity, to skip unchanged pushes). */
  assignment: LoadAssignment | undefined;
  private dns: DnsRefresher | undefined;
  private readonly cleanupTimer: unknown;
  private draining = false;
  private closed = false;

  constructor(
    readonly config: Cluster,
    stats: Stats,
    readonly env: UpstreamEnv,
  ) {
    this.name = config.name;
    this.stats = new ClusterStats(`cluster.${config.name}.`, stats);
    this.breakers = new CircuitBreakers(config.circuitBreakers, this.stats);
    this.tls = config.tls ? new UpstreamTlsContext(config.tls, env.secrets) : undefined;
    const alpn = config.tls?.alpn ?? [];
    this.alpn = {
      h1: alpn.length > 0 ? alpn.filter((p) => p !== 'h2') : undefined,
      h2: alpn.length > 0 ? (alpn.includes('h2') ? alpn.filter((p) => p !== 'http/1.1') : [...alpn, 'h2']) : ['h2'],
    };
    if (!config.tls) this.alpn.h2 = undefined;
    this.lbOpts = {
      random: env.random,
      ringHash: config.ringHash,
      maglev: config.maglev,
      leastRequest: config.leastRequest,
      overprovisioningFactor: config.loadAssignment?.overprovisioningFactor ?? 140,
      localityWeighted: config.localityWeighted,
      panicThreshold: config.healthyPanicThresholdPercent ?? 50,
    };
    this.lb = new PriorityLoadBalancer<Host>(config.lbPolicy, this.lbOpts);
    const od = config.outlierDetection;
    this.outlier = od ? new OutlierDetector(od, this.stats.prefix, stats, env.timers, env.random, () => this.hostList, () => this.lb.update(this.hostList)) : undefined;
    this.cleanupTimer = config.type === 'ORIGINAL_DST' ? env.timers.setInterval(() => this.cleanupOriginalDst(), ORIGINAL_DST_CLEANUP_MS) : undefined;
    if (config.type !== 'EDS' && config.type !== 'ORIGINAL_DST') this.setEndpoints(config.loadAssignment);
  }

  /** New endpoints for this cluster (EDS push, or inline/DNS): hosts that remain keep their pools and state. */
  setEndpoints(la: LoadAssignment | undefined): void {
    if (this.closed || la === this.assignment) return;
    this.assignment = la;
    this.dns?.stop();
    this.dns = undefined;
    if (la !== undefined && needsDns(la)) {
      this.dns = new DnsRefresher(la, this.config.type, this.env, this.config.dnsLookupFamily, (resolved) => this.applyHosts(resolved), this.config.dnsRefreshRateMs);
      return;
    }
    this.applyHosts(la);
  }

  /** Waits for the current DNS resolution, if any (tests, warming). */
  async resolved(): Promise<void> {
    await this.dns?.refresh();
  }

  private applyHosts(la: LoadAssignment | undefined): void {
    if (this.closed) return;
    const next = new Map<string, Host>();
    for (const loc of la?.localities ?? []) {
      for (const ep of loc.endpoints) {
        const key = hostKey(ep.address, ep.port);
        if (next.has(key)) continue;
        const attrs = { weight: Math.max(1, ep.weight), locality: loc.locality, localityWeight: loc.weight, priority: loc.priority, health: ep.health, metadata: ep.metadata, hostname: ep.hostname };
        let h = this.hostMap.get(key);
        if (h === undefined) h = new Host(ep.address, ep.port, attrs);
        else Object.assign(h, attrs);
        next.set(key, h);
      }
    }
    for (const [key, h] of this.hostMap) if (!next.has(key)) this.retire(h);
    this.hostMap = next;
    this.hostList = [...next.values()];
    this.lbOpts.overprovisioningFactor = la?.overprovisioningFactor ?? 140;
    this.lb.update(this.hostList);
  }

  private retire(h: Host): void {
    h.removed = true;
    this.outlier?.forget(h);
    void h.drainPools();
  }

  // ---------------------------------------------------------------- UpstreamCluster

  chooseHost(ctx: LbContext): Host | undefined {
    if (this.config.type === 'ORIGINAL_DST') return this.originalDstHost(ctx.originalDst);
    return this.lb.choose(ctx.hash, ctx.exclude);
  }

  dispatch(req: UpstreamRequest, handler: UpstreamHandler): Abortable {
    const s = new UpstreamStream(req, handler);
    s.dispatching = true;
    const host = this.chooseHost(req);
    if (host === undefined) {
      this.stats.cxNoneHealthy.inc();
      s.fail(noHealthyUpstream());
      s.dispatching = false;
      return s;
    }
    s.host = host;
    if (req.autoHostRewrite) s.reqHeaders = withHost(req.headers, host.hostname ?? host.key);
    const h2 = req.upgrade === undefined && (this.config.protocol === 'http2' || (this.config.protocol === 'downstream' && req.downstreamProtocol === 'http2'));
    let pool = (h2 ? host.h2 : host.h1) as HostPool | undefined;
    if (pool === undefined) {
      pool = new HostPool(this, host, h2, h2 ? h2Slot : h1Slot);
      if (h2) host.h2 = pool;
      else host.h1 = pool;
    }
    s.pool = pool;
    handler.onHost?.(host.key);
    pool.submit(s);
    s.dispatching = false;
    if (this.draining || host.removed) void pool.drain();
    return s;
  }

  connect(ctx: LbContext, cb: (err: UpstreamResetError | null, socket?: Socket, hostKey?: string) => void): void {
    const host = this.chooseHost(ctx);
    if (host === undefined) {
      this.stats.cxNoneHealthy.inc();
      process.nextTick(cb, noHealthyUpstream());
      return;
    }
    const { breakers, stats } = this;
    if (!breakers.canCreateConnection()) {
      stats.cxOverflow.inc();
      process.nextTick(cb, overflowError(), undefined, host.key);
      return;
    }
    breakers.connectionOpened();
    host.activeRequests++;
    const c = this.config;
    openConnection({ address: host.address, port: host.port, timeoutMs: c.connectTimeoutMs, localAddress: c.upstreamBindAddress, tls: this.tls }, (err, socket) => {
      host.activeRequests--;
      if (err || !socket) {
        breakers.connectionClosed();
        stats.cxConnectFail.inc();
        if (err?.kind === 'timeout') stats.cxConnectTimeout.inc();
        host.totalErrors++;
        this.outlier?.onLocalResult(host, 'connect_failed');
        return cb(connectionFailure(err?.detail, err?.kind === 'timeout', err), undefined, host.key);
      }
      stats.cxTotal.inc();
      stats.cxActive.inc();
      host.activeConnections++;
      host.totalRequests++;
      this.outlier?.onLocalResult(host, 'connect_success_final');
      socket.once('close', () => {
        breakers.connectionClosed();
        stats.cxActive.dec();
        stats.cxDestroy.inc();
        host.activeConnections--;
        if (this.config.type === 'ORIGINAL_DST') host.lastUsed = this.env.timers.now();
      });
      cb(null, socket, host.key);
    });
  }

  tryAcquireRetry(): boolean {
    return this.breakers.tryAcquireRetry();
  }

  releaseRetry(): void {
    this.breakers.releaseRetry();
  }

  hosts(): HostStatus[] {
    return this.hostList.map((h) => h.status());
  }

  /** The cluster was replaced or removed: in-flight requests finish on the old pools, which then close. */
  async drain(): Promise<void> {
    this.draining = true;
    this.stopTimers();
    await Promise.all(this.hostList.map((h) => h.drainPools()));
  }

  /** Shutdown: close every connection now. */
  close(): void {
    this.closed = true;
    this.draining = true;
    this.stopTimers();
    for (const h of this.hostList) h.destroyPools();
  }

  // ---------------------------------------------------------------- internals

  private stopTimers(): void {
    this.outlier?.stop();
    this.dns?.stop();
    if (this.cleanupTimer !== undefined) this.env.timers.clearInterval(this.cleanupTimer);
  }

  private originalDstHost(dst: SocketAddress | undefined): Host | undefined {
    if (dst === undefined || this.env.isOwnAddress?.(dst.address, dst.port)) return undefined;
    const key = hostKey(dst.address, dst.port);
    let h = this.hostMap.get(key);
    if (h === undefined) {
      h = new Host(dst.address, dst.port, { weight: 1, locality: '', localityWeight: 1, priority: 0, health: 'HEALTHY' });
      this.hostMap.set(key, h);
      this.hostList.push(h);
    }
    h.lastUsed = this.env.timers.now();
    return h;
  }

  /** Drops ORIGINAL_DST hosts that have been idle for a cleanup interval. */
  private cleanupOriginalDst(): void {
    const now = this.env.timers.now();
    let changed = false;
    for (const [key, h] of this.hostMap) {
      if (h.activeRequests === 0 && h.activeConnections === 0 && now - h.lastUsed >= ORIGINAL_DST_CLEANUP_MS) {
        this.hostMap.delete(key);
        this.retire(h);
        changed = true;
      }
    }
    if (changed) this.hostList = [...this.hostMap.values()];
  }
}

/** A copy of `headers` with `host` set to `value` (route auto_host_rewrite). */
function withHost(headers: readonly string[], value: string): string[] {
  const out = headers.slice();
  let found = false;
  for (let i = 0; i < out.length; i += 2) {
    if (out[i] === 'host') {
      out[i + 1] = value;
      found = true;
    }
  }
  if (!found) out.push('host', value);
  return out;
}

/** Host part of the request's authority (for auto_sni). */
export function authorityHost(headers: readonly string[]): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === 'host') {
      const h = headers[i + 1];
      if (h.startsWith('[')) return h.slice(1, h.indexOf(']'));
      const c = h.lastIndexOf(':');
      return c > 0 ? h.slice(0, c) : h;
    }
  }
  return undefined;
}

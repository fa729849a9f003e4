// Per-host HTTP connection pool (one per protocol), Envoy's ConnPoolImplBase: ready connections first, else the
// request waits as pending (max_pending_requests) while a connection is created if max_connections allows (a
// host with no connection always gets one); max_requests is checked when a request is assigned to a connection.
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/connection_pooling
import type { Socket } from 'node:net';
import type { Cluster } from '../runtime/types.js';
import { openConnection, type ConnectFailure } from './connector.js';
import type { UpstreamEnv } from './deps.js';
import { connectionFailure, localReset, overflowError } from './errors.js';
import type { Host, HostPoolLike } from './host.js';
import type { OutlierDetector } from './outlier.js';
import type { CircuitBreakers, ClusterStats } from './resources.js';
import type { UpstreamStream } from './stream.js';
import type { UpstreamTlsContext } from './tls.js';

/** What a pool needs from its cluster. */
export interface PoolOwner {
  readonly config: Cluster;
  readonly stats: ClusterStats;
  readonly breakers: CircuitBreakers;
  readonly outlier: OutlierDetector | undefined;
  readonly tls: UpstreamTlsContext | undefined;
  /** ALPN lists per pool protocol (the configured list restricted to the pool's protocol), when TLS. */
  readonly alpn: { h1: string[] | undefined; h2: string[] | undefined };
  readonly env: UpstreamEnv;
}

/** One upstream connection (HTTP/1.1: a raw socket, one request at a time; HTTP/2: a node:http2 session). */
export interface Slot {
  inflight: number;
  requests: number;
  connected: boolean;
  /** Takes no new requests (closed, failed, GOAWAY, or past max requests per connection). */
  dead: boolean;
  retiring: boolean;
  removed: boolean;
  inReady: boolean;
  readonly capacity: number;
  send(s: UpstreamStream): void;
  /** Abandons a request already written to this connection (HTTP/1.1: the connection is closed). */
  abortStream?(s: UpstreamStream): void;
  /** Graceful close (after in-flight requests). */
  close(): void;
  destroy(): void;
}

/** Creates a connection for `first`, the request that needs it (its authority is the SNI under auto_sni). */
export type SlotFactory = (pool: HostPool, first: UpstreamStream) => Slot;

export class HostPool implements HostPoolLike {
  readonly slots: Slot[] = [];
  private readonly ready: Slot[] = [];
  private queue: UpstreamStream[] = [];
  private draining = false;
  private destroyed = false;
  private drainWaiters: (() => void)[] = [];
  private scheduled = false;

  constructor(
    readonly owner: PoolOwner,
    readonly host: Host,
    readonly h2: boolean,
    private readonly makeSlot: SlotFactory,
  ) {}

  get idle(): boolean {
    return this.slots.length === 0 && this.queuedCount() === 0;
  }

  submit(s: UpstreamStream): void {
    if (this.destroyed) return s.fail(localReset(true, new Error('connection pool closed')));
    const slot = this.readySlot();
    if (slot !== undefined) {
      this.assign(slot, s);
      return;
    }
    const { breakers, stats } = this.owner;
    if (!breakers.canQueue() || !breakers.canSend()) {
      stats.rqPendingOverflow.inc();
      return s.fail(overflowError());
    }
    s.markPending();
    if (this.h2) {
      const connecting = this.slots.find((x) => !x.connected && !x.dead && x.inflight < x.capacity);
      if (connecting) {
        this.assign(connecting, s);
        return;
      }
    }
    if (breakers.canCreateConnection() || this.slots.length === 0) {
      this.assign(this.newSlot(s), s);
      return;
    }
    stats.cxOverflow.inc();
    this.queue.push(s);
  }

  /** A request finished on `slot` (called once per request by UpstreamStream.finish). */
  release(slot: Slot): void {
    slot.inflight--;
    if (slot.dead || slot.retiring) {
      if (slot.inflight === 0) this.removeSlot(slot, !slot.dead || slot.retiring);
    } else if (slot.connected && !slot.inReady && slot.inflight < slot.capacity) {
      slot.inReady = true;
      this.ready.push(slot);
    }
    this.kick();
  }

  /** Opens the connection of `slot` (HTTP/1.1 connection or HTTP/2 session). */
  connect(slot: Slot, servername: string | undefined, cb: (err: ConnectFailure | null, socket?: Socket) => void): void {
    const o = this.owner;
    const c = o.config;
    const alpn = this.h2 ? o.alpn.h2 : o.alpn.h1;
    openConnection(
      { address: this.host.address, port: this.host.port, timeoutMs: c.connectTimeoutMs, localAddress: c.upstreamBindAddress, tls: o.tls, servername, alpn },
      (err, socket) => {
        if (err) {
          o.stats.cxConnectFail.inc();
          if (err.kind === 'timeout') o.stats.cxConnectTimeout.inc();
          o.outlier?.onLocalResult(this.host, 'connect_failed');
          this.connectFailed(slot, err);
          return cb(err);
        }
        o.outlier?.onLocalResult(this.host, 'connect_success');
        cb(null, socket);
      },
    );
  }

  onConnected(slot: Slot): void {
    if (slot.removed || slot.connected) return;
    slot.connected = true;
    this.owner.stats.cxActive.inc();
    this.owner.stats.cxTotal.inc();
    this.host.activeConnections++;
    if (!slot.dead && !slot.retiring && !slot.inReady && slot.inflight < slot.capacity) {
      slot.inReady = true;
      this.ready.push(slot);
    }
    const maxDuration = this.owner.config.maxConnectionDurationMs;
    if (maxDuration > 0) setTimeout(retireSlot, maxDuration, this, slot).unref();
    this.kick();
  }

  /** max_connection_duration reached: no new requests; the connection closes once its requests are done. */
  retire(slot: Slot): void {
    if (slot.removed || slot.retiring) return;
    slot.retiring = true;
    this.owner.stats.cxMaxDurationReached.inc();
    if (slot.inflight === 0) this.removeSlot(slot, true);
    this.kick();
  }

  /** The connection closed; `willReconnect` keeps the slot (no current connection type reconnects). */
  onDisconnected(slot: Slot, willReconnect: boolean): void {
    if (slot.removed) return;
    this.markDisconnected(slot);
    if (!willReconnect) slot.dead = true;
    if (slot.inflight === 0) this.removeSlot(slot, false);
    this.kick();
  }

  /** An upgraded (WebSocket) connection left the pool: it still counts as an open connection until it closes. */
  upgraded(socket: Socket): void {
    const { breakers, stats } = this.owner;
    breakers.connectionOpened();
    stats.cxActive.inc();
    this.host.activeConnections++;
    socket.once('close', () => {
      breakers.connectionClosed();
      stats.cxActive.dec();
      this.host.activeConnections--;
    });
  }

  /** Stop reusing connections: idle ones close now, busy ones after their requests; resolves when all are closed. */
  drain(): Promise<void> {
    this.draining = true;
    this.sweepIdle();
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  destroy(): void {
    this.draining = true;
    this.destroyed = true;
    for (const s of this.takeQueue()) s.fail(localReset(true, new Error('connection pool closed')));
    for (const slot of [...this.slots]) this.removeSlot(slot, false);
    this.checkDrained();
  }

  // ---------------------------------------------------------------- internals

  private readySlot(): Slot | undefined {
    const r = this.ready;
    while (r.length > 0) {
      const slot = r[r.length - 1];
      if (!slot.dead && !slot.retiring && slot.connected && slot.inflight < slot.capacity) return slot;
      slot.inReady = false;
      r.pop();
    }
    return undefined;
  }

  private assign(slot: Slot, s: UpstreamStream): void {
    const { breakers, stats, config } = this.owner;
    if (!breakers.canSend()) {
      stats.rqPendingOverflow.inc();
      // A connection opened for this request only is not kept.
      if (slot.inflight === 0 && !slot.connected) this.removeSlot(slot, false);
      return s.fail(overflowError());
    }
    s.attach(slot);
    if (config.maxRequestsPerConnection > 0 && slot.requests >= config.maxRequestsPerConnection) {
      slot.retiring = true;
      stats.cxMaxRequests.inc();
    }
    if (slot.inReady && (slot.retiring || slot.inflight >= slot.capacity)) {
      slot.inReady = false;
      const i = this.ready.lastIndexOf(slot);
      if (i >= 0) this.ready.splice(i, 1);
    }
    slot.send(s);
  }

  private newSlot(first: UpstreamStream): Slot {
    const slot = this.makeSlot(this, first);
    this.slots.push(slot);
    this.owner.breakers.connectionOpened();
    return slot;
  }

  private connectFailed(slot: Slot, err: ConnectFailure): void {
    slot.dead = true;
    // Its request may already be gone (aborted while connecting): nothing else would remove the slot.
    if (slot.inflight === 0) this.removeSlot(slot, false);
    // Envoy purges the pending requests of the pool when a connection attempt fails.
    for (const s of this.takeQueue()) s.fail(connectionFailure(err.detail, err.kind === 'timeout', err));
  }

  private markDisconnected(slot: Slot): void {
    if (!slot.connected) return;
    slot.connected = false;
    this.owner.stats.cxActive.dec();
    this.owner.stats.cxDestroy.inc();
    this.host.activeConnections--;
  }

  /** Removes a slot from the pool (graceful close, or destroy). */
  private removeSlot(slot: Slot, graceful: boolean): void {
    if (slot.removed) return;
    slot.removed = true;
    slot.dead = true;
    this.markDisconnected(slot);
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    if (slot.inReady) {
      slot.inReady = false;
      const j = this.ready.indexOf(slot);
      if (j >= 0) this.ready.splice(j, 1);
    }
    this.owner.breakers.connectionClosed();
    if (graceful) slot.close();
    else slot.destroy();
    this.checkDrained();
  }

  /** Serve queued requests (next tick: never re-enter a connection from inside its own callback). */
  private kick(): void {
    if (this.scheduled) return;
    if (this.queuedCount() === 0) {
      if (this.draining) this.sweepIdle();
      return;
    }
    this.scheduled = true;
    process.nextTick(serviceQueue, this);
  }

  /** @internal */
  serviceQueue(): void {
    this.scheduled = false;
    const q = this.queue;
    let i = 0;
    for (; i < q.length; i++) {
      const s = q[i];
      if (s.done) continue;
      let slot = this.readySlot();
      if (slot === undefined) {
        if (!this.owner.breakers.canCreateConnection() && this.slots.length > 0) break;
        slot = this.newSlot(s);
      }
      this.assign(slot, s);
    }
    this.queue = i === 0 ? q : q.slice(i);
    if (this.draining) this.sweepIdle();
  }

  private sweepIdle(): void {
    if (this.queuedCount() > 0) return;
    for (const slot of [...this.slots]) if (slot.inflight === 0) this.removeSlot(slot, true);
    this.checkDrained();
  }

  private queuedCount(): number {
    let n = 0;
    for (const s of this.queue) if (!s.done) n++;
    if (n === 0 && this.queue.length > 0) this.queue = [];
    return n;
  }

  private takeQueue(): UpstreamStream[] {
    const q = this.queue.filter((s) => !s.done);
    this.queue = [];
    return q;
  }

  private checkDrained(): void {
    if (!this.draining || this.slots.length > 0 || this.queuedCount() > 0) return;
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const f of w) f();
  }
}

function retireSlot(pool: HostPool, slot: Slot): void {
  pool.retire(slot);
}

function serviceQueue(pool: HostPool): void {
  pool.serviceQueue();
}

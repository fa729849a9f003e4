// The listener manager: follows ConfigSource snapshots, binds listeners (bindToPort) and keeps the others for
// original-destination hand-off; an unchanged listener (same hash) is untouched, a changed one swaps its chains on
// the same server socket (no connection refused) while the old version drains, a removed one stops accepting and
// drains. Bind failures are recorded (log, stats, admin state), never fatal, and retried: at once on a snapshot that
// changes the listener, else on a timer (the port may be freed without any config change, e.g. a restarting app).
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { toMeshError } from '../../shared/errors.js';
import { logger } from '../../shared/log.js';
import type { ConfigSource, NetworkHandlerFactory } from '../runtime/contracts.js';
import type { ConfigSnapshot, Listener, SocketAddress } from '../runtime/types.js';
import type { Stats } from '../telemetry/stats.js';
import { ActiveListener } from './active.js';
import type { OriginalDstHook } from './original-dst.js';
import type { SecretProvider } from './tls.js';

const log = logger('listener');

/** Istio's proxyConfig.drainDuration default: how long connections of a changed or removed listener may drain. */
export const DEFAULT_LISTENER_DRAIN_MS = 45_000;

export interface ListenerManagerOptions {
  factory: NetworkHandlerFactory;
  stats: Stats;
  secrets?: SecretProvider;
  originalDst?: OriginalDstHook;
  /** Drain time of connections accepted under a changed or removed listener (ms). */
  drainMs?: number;
  /** How long after a failed bind it is retried without a config change (ms, default RETRY_FAILED_MS). */
  retryMs?: number;
}

export type ListenerState = 'active' | 'failed' | 'stopped';

/** One listener as the admin endpoints show it. */
export interface ListenerStatus {
  name: string;
  /** Configured address. */
  address: SocketAddress;
  /** Actually bound address (port 0 resolved), when bound. */
  boundAddress?: SocketAddress;
  bindToPort: boolean;
  trafficDirection: Listener['trafficDirection'];
  state: ListenerState;
  error?: string;
  hash: string;
  activeConnections: number;
  /** Connections still open under older versions of this listener. */
  drainingConnections: number;
}

/** A listening socket; `active` is swapped when the listener at this address changes. */
interface Binding {
  key: string;
  server: Server;
  active: ActiveListener;
  bound?: SocketAddress;
}

interface Entry {
  name: string;
  hash: string;
  config: Listener;
  active: ActiveListener;
  binding?: Binding;
  state: ListenerState;
  error?: string;
  /** When a failed bind was last tried (retries wait RETRY_FAILED_MS unless the config changes). */
  failedAt?: number;
  /** Pending timed retry of a failed bind. */
  retry?: NodeJS.Timeout;
}

/** A listener whose bind failed is retried this long after (doubling per failure up to MAX_RETRY_MS), or on a later snapshot that changes it. */
export const RETRY_FAILED_MS = 5_000;
const MAX_RETRY_MS = 60_000;

const addrKey = (a: SocketAddress): string => `${a.address}:${a.port}`;
/** The address a listener claims; port 0 (tests: any free port) claims nothing shared. */
const claimKey = (l: Listener): string => (l.address.port === 0 ? `${addrKey(l.address)}/${l.name}` : addrKey(l.address));
const WILDCARDS = ['0.0.0.0', '::'];

export class ListenerManager {
  private readonly entries = new Map<string, Entry>();
  /** Every listener by `address:port`, for use_original_dst hand-off. */
  private readonly byAddress = new Map<string, Entry>();
  private readonly draining = new Set<ActiveListener>();
  private readonly drainMs: number;
  private readonly retryMs: number;
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly handOff = (dst: SocketAddress, from: ActiveListener): ActiveListener | undefined => {
    const e = this.byAddress.get(addrKey(dst)) ?? WILDCARDS.map((w) => this.byAddress.get(`${w}:${dst.port}`)).find((x) => x !== undefined);
    if (!e || e.active === from || e.state === 'stopped') return undefined;
    return e.active;
  };

  constructor(private readonly opts: ListenerManagerOptions) {
    this.drainMs = opts.drainMs ?? DEFAULT_LISTENER_DRAIN_MS;
    this.retryMs = opts.retryMs ?? RETRY_FAILED_MS;
  }

  /** Applies the current snapshot and every later one; returns the unsubscribe function. */
  follow(source: ConfigSource): () => void {
    void this.apply(source.current());
    return source.subscribe((s) => void this.apply(s));
  }

  /** Brings the listeners in line with `snapshot`; updates are serialized; resolves once binds have settled. */
  apply(snapshot: ConfigSnapshot): Promise<void> {
    const run = this.queue.then(() => this.applyNow(snapshot));
    this.queue = run.catch((e: unknown) => log.error('listener update failed', { error: toMeshError(e).message }));
    return run;
  }

  private async applyNow(snapshot: ConfigSnapshot): Promise<void> {
    if (this.stopped) return;
    const s = this.opts.stats;
    const desired = new Map<string, Listener>();
    for (const [name, l] of snapshot.listeners) if (!l.apiListener) desired.set(name, l);

    // Removed listeners, and listeners whose address or binding mode changed, go first (so addresses are free).
    const replaced: Listener[] = [];
    for (const [name, e] of this.entries) {
      const next = desired.get(name);
      if (next && addrKey(next.address) === addrKey(e.config.address) && next.bindToPort === e.config.bindToPort) continue;
      this.remove(e);
      if (next) replaced.push(next);
      else s.counter('listener_manager.listener_removed').inc();
    }

    const binds: Promise<void>[] = [];
    for (const [name, l] of desired) {
      const e = this.entries.get(name);
      if (!e) {
        binds.push(this.add(l));
        if (!replaced.includes(l)) s.counter('listener_manager.listener_added').inc();
        else s.counter('listener_manager.listener_modified').inc();
        continue;
      }
      if (e.hash === l.hash && e.state !== 'failed') continue;
      if (e.state === 'failed') {
        if (e.hash === l.hash && Date.now() - (e.failedAt ?? 0) < RETRY_FAILED_MS) continue;
        this.remove(e);
        binds.push(this.add(l));
        continue;
      }
      this.swap(e, l);
      s.counter('listener_manager.listener_modified').inc();
    }
    await Promise.all(binds);
    this.updateGauges();
  }

  private newActive(l: Listener): ActiveListener {
    const a = new ActiveListener(l, {
      factory: this.opts.factory,
      stats: this.opts.stats,
      handOff: this.handOff,
      ...(this.opts.secrets ? { secrets: this.opts.secrets } : {}),
      ...(this.opts.originalDst ? { originalDst: this.opts.originalDst } : {}),
    });
    if (a.errors.length > 0) this.opts.stats.counter('listener_manager.listener_create_failure').inc();
    return a;
  }

  private async add(l: Listener, attempt = 0): Promise<void> {
    const active = this.newActive(l);
    const e: Entry = { name: l.name, hash: l.hash, config: l, active, state: 'active' };
    this.entries.set(l.name, e);
    const key = claimKey(l);
    const other = this.byAddress.get(key);
    if (other && other !== e) {
      e.state = 'failed';
      e.failedAt = Date.now();
      e.error = `address ${key} is already used by listener ${JSON.stringify(other.name)}`;
      log.error('listener not added', { listener: l.name, error: e.error });
      this.opts.stats.counter('listener_manager.listener_create_failure').inc();
      return;
    }
    this.byAddress.set(key, e);
    if (!l.bindToPort) return;
    const server = createServer({ noDelay: true });
    const binding: Binding = { key, server, active };
    e.binding = binding;
    server.on('connection', (socket: Socket) => binding.active.accept(socket));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: l.address.address, port: l.address.port, backlog: 1024 }, () => {
          server.removeListener('error', reject);
          resolve();
        });
      });
      const a = server.address();
      if (a && typeof a === 'object') binding.bound = { address: a.address, port: a.port };
      server.on('error', (err) => log.error('listener socket error', { listener: l.name, error: err.message }));
      this.opts.stats.counter('listener_manager.listener_create_success').inc();
      log.info('listener bound', { listener: l.name, address: `${l.address.address}:${binding.bound?.port ?? l.address.port}` });
    } catch (err) {
      const me = toMeshError(err);
      e.state = 'failed';
      e.failedAt = Date.now();
      e.error = `cannot bind ${key}: ${me.message}`;
      delete e.binding;
      this.byAddress.delete(key);
      server.close();
      this.opts.stats.counter('listener_manager.listener_create_failure').inc();
      const delay = Math.min(this.retryMs * 2 ** attempt, MAX_RETRY_MS);
      log.error('listener bind failed', { listener: l.name, address: key, code: me.code, error: me.message, retryInMs: delay });
      this.retryLater(e, delay, attempt + 1);
    }
  }

  /** Binds a failed listener again after `delay`, unless a snapshot replaced or removed it meanwhile. */
  private retryLater(e: Entry, delay: number, attempt: number): void {
    const t = setTimeout(() => {
      const run = this.queue.then(async () => {
        if (this.stopped || this.entries.get(e.name) !== e || e.state !== 'failed') return;
        this.entries.delete(e.name);
        e.active.destroyAll(); // it never accepted a connection
        await this.add(e.config, attempt);
        this.updateGauges();
      });
      this.queue = run.catch((err: unknown) => log.error('listener bind retry failed', { listener: e.name, error: toMeshError(err).message }));
    }, delay);
    t.unref();
    e.retry = t;
  }

  /** Same address, new config: new connections go to the new version at once; the old one drains. */
  private swap(e: Entry, l: Listener): void {
    const old = e.active;
    const next = this.newActive(l);
    e.active = next;
    e.config = l;
    e.hash = l.hash;
    if (e.binding) e.binding.active = next;
    this.startDrain(old);
  }

  private remove(e: Entry): void {
    if (e.retry) clearTimeout(e.retry);
    this.entries.delete(e.name);
    if (this.byAddress.get(claimKey(e.config)) === e) this.byAddress.delete(claimKey(e.config));
    if (e.binding) e.binding.server.close();
    e.state = 'stopped';
    this.startDrain(e.active);
  }

  private startDrain(a: ActiveListener): void {
    this.draining.add(a);
    this.updateGauges();
    void a.drain(this.drainMs).finally(() => {
      this.draining.delete(a);
      this.updateGauges();
    });
  }

  private updateGauges(): void {
    const s = this.opts.stats;
    let active = 0;
    for (const e of this.entries.values()) if (e.state === 'active') active++;
    s.gauge('listener_manager.total_listeners_active').set(active);
    s.gauge('listener_manager.total_listeners_draining').set(this.draining.size);
    s.gauge('listener_manager.total_listeners_warming').set(0);
  }

  /** The listeners, sorted by name, for /listeners and /config_dump. */
  status(): ListenerStatus[] {
    const olderConns = new Map<string, number>();
    for (const a of this.draining) olderConns.set(a.config.name, (olderConns.get(a.config.name) ?? 0) + a.activeConnections);
    return [...this.entries.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((e) => ({
        name: e.name,
        address: e.config.address,
        ...(e.binding?.bound ? { boundAddress: e.binding.bound } : {}),
        bindToPort: e.config.bindToPort,
        trafficDirection: e.config.trafficDirection,
        state: e.state,
        ...(e.error !== undefined ? { error: e.error } : e.active.errors.length > 0 ? { error: e.active.errors.join('; ') } : {}),
        hash: e.hash,
        activeConnections: e.active.activeConnections,
        drainingConnections: olderConns.get(e.name) ?? 0,
      }));
  }

  /** The bound address of a listener (port 0 resolved), for tests and the started line. */
  boundAddress(name: string): SocketAddress | undefined {
    return this.entries.get(name)?.binding?.bound;
  }

  /**
   * True when `address:port` reaches one of this proxy's own bound listeners (a wildcard bind owns the port on every
   * address). ORIGINAL_DST upstreams should refuse such destinations: without iptables' owner match (local mode),
   * a passthrough to the proxy's own listener loops forever.
   */
  ownsAddress(address: string, port: number): boolean {
    for (const e of this.entries.values()) {
      const b = e.binding?.bound;
      if (!b || b.port !== port || e.state !== 'active') continue;
      // A wildcard bind only owns loopback destinations here: another host's port 15001 is not this proxy.
      if (b.address === address || (WILDCARDS.includes(b.address) && isLoopback(address))) return true;
    }
    return false;
  }

  /** The running config of a listener. */
  listener(name: string): Listener | undefined {
    return this.entries.get(name)?.config;
  }

  /**
   * Stops accepting on the selected listeners (default all; Envoy's /drain_listeners?inboundonly selects INBOUND)
   * and drains their connections for `ms`; later snapshots no longer rebind them. Resolves when drained.
   */
  async drainListeners(ms: number, filter: (l: Listener) => boolean = () => true): Promise<void> {
    const all = [...this.entries.values()].filter((e) => filter(e.config));
    if (all.length === this.entries.size) this.stopped = true;
    for (const e of all) {
      e.binding?.server.close();
      e.state = 'stopped';
    }
    this.updateGauges();
    const olds = [...this.draining];
    await Promise.all([...all.map((e) => e.active.drain(ms)), ...olds.map((a) => a.drain(ms))]);
  }

  /** Closes everything immediately (listening sockets and connections). */
  async close(): Promise<void> {
    this.stopped = true;
    await this.queue.catch(() => undefined);
    const closes: Promise<void>[] = [];
    for (const e of this.entries.values()) {
      if (e.retry) clearTimeout(e.retry);
      if (e.binding) {
        const srv = e.binding.server;
        closes.push(new Promise((resolve) => srv.close(() => resolve())));
      }
      e.state = 'stopped';
      e.active.destroyAll();
    }
    for (const a of this.draining) a.destroyAll();
    this.entries.clear();
    this.byAddress.clear();
    await Promise.all(closes);
  }
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address === 'localhost';
}

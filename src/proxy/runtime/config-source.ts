// The proxy's ConfigSource: accepted xDS updates go in, immutable ConfigSnapshots come out, swapped atomically. Implements
// Envoy's warming: a cluster becomes active once its endpoints (EDS) arrived, a listener once its routes (RDS) arrived —
// or after a warming timeout; meanwhile the previous version keeps serving. https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/operations/init
import { TypeUrl } from '../../xds/types.js';
import { logger } from '../../shared/log.js';
import type { ConfigSource } from './contracts.js';
import type { Cluster, ConfigSnapshot, Listener, LoadAssignment, NetworkFilter, RouteTable } from './types.js';

const log = logger('xds-config');

/** Envoy's initial_fetch_timeout default: how long a cluster or listener may warm before it is activated anyway. */
export const DEFAULT_WARMING_TIMEOUT_MS = 15_000;

/** One accepted xDS response of a type, as the client hands it over (already decoded, all-or-nothing). */
export interface ResourceUpdate<T> {
  version: string;
  /** Resources added or changed, by resource name. */
  upserts: ReadonlyMap<string, T>;
  /** Names removed (Delta removed_resources). */
  removed: readonly string[];
  /** The update is the complete set of the type (SotW LDS/CDS): names not in `upserts` are removed. */
  full: boolean;
}

export interface ConfigSourceOptions {
  /** 0 = warm forever. Default 15 s. */
  warmingTimeoutMs?: number;
  now?: () => number;
}

interface Warming<T> {
  obj: T;
  since: number;
  expired: boolean;
}

/** The RDS names a listener's HCMs reference. */
export function rdsNamesOf(l: Listener): string[] {
  const out: string[] = [];
  const add = (f: NetworkFilter): void => {
    if (f.type === 'http' && f.rdsName !== undefined && !out.includes(f.rdsName)) out.push(f.rdsName);
  };
  for (const fc of l.filterChains) add(fc.filter);
  if (l.defaultFilterChain) add(l.defaultFilterChain.filter);
  return out;
}

const EMPTY: ConfigSnapshot = Object.freeze({ listeners: new Map(), routes: new Map(), clusters: new Map(), endpoints: new Map(), versions: new Map() });

export class XdsConfigSource implements ConfigSource {
  private readonly warmingTimeoutMs: number;
  private readonly now: () => number;
  private readonly subscribers = new Set<(s: ConfigSnapshot) => void>();
  // What the control plane sent (accepted), per type.
  private readonly rxListeners = new Map<string, Listener>();
  private readonly rxClusters = new Map<string, Cluster>();
  private readonly rxRoutes = new Map<string, RouteTable>();
  private readonly rxEndpoints = new Map<string, LoadAssignment>();
  private readonly received = new Set<string>();
  private readonly versions = new Map<string, string>();
  private readonly warmingListeners = new Map<string, Warming<Listener>>();
  private readonly warmingClusters = new Map<string, Warming<Cluster>>();
  private snapshot: ConfigSnapshot = EMPTY;
  private timer: NodeJS.Timeout | undefined;
  private readyFlag = false;
  private resolveReady: () => void = () => undefined;
  /** Resolves once LDS and CDS were received and nothing warms (every listener's RDS and cluster's EDS arrived). */
  readonly ready: Promise<void>;

  constructor(opts: ConfigSourceOptions = {}) {
    this.warmingTimeoutMs = opts.warmingTimeoutMs ?? DEFAULT_WARMING_TIMEOUT_MS;
    this.now = opts.now ?? Date.now;
    this.ready = new Promise((r) => (this.resolveReady = r));
  }

  current(): ConfigSnapshot {
    return this.snapshot;
  }

  subscribe(fn: (snapshot: ConfigSnapshot) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  get isReady(): boolean {
    return this.readyFlag;
  }

  /** Applies one accepted update of `typeUrl` and publishes a new snapshot if anything changed. */
  apply(typeUrl: string, update: ResourceUpdate<unknown>): void {
    const target = this.mapOf(typeUrl);
    if (update.full) {
      for (const name of [...target.keys()]) if (!update.upserts.has(name)) target.delete(name);
    }
    for (const name of update.removed) target.delete(name);
    for (const [name, v] of update.upserts) target.set(name, v);
    this.received.add(typeUrl);
    this.versions.set(typeUrl, update.version);
    this.recompute();
  }

  /** RDS names the client must subscribe to (referenced by received or still-active listeners), sorted. */
  routeNames(): string[] {
    const names = new Set<string>();
    for (const l of this.rxListeners.values()) for (const n of rdsNamesOf(l)) names.add(n);
    for (const l of this.snapshot.listeners.values()) for (const n of rdsNamesOf(l)) names.add(n);
    return [...names].sort();
  }

  /** EDS names the client must subscribe to (of received or still-active EDS clusters), sorted. */
  endpointNames(): string[] {
    const names = new Set<string>();
    const add = (c: Cluster): void => {
      if (c.type === 'EDS') names.add(c.edsServiceName ?? c.name);
    };
    for (const c of this.rxClusters.values()) add(c);
    for (const c of this.snapshot.clusters.values()) add(c);
    return [...names].sort();
  }

  /** The received (accepted, possibly still warming) resource `name` of `typeUrl`. */
  held(typeUrl: string, name: string): unknown {
    return this.mapOf(typeUrl).get(name);
  }

  /** How many resources of `typeUrl` are held. */
  count(typeUrl: string): number {
    return this.mapOf(typeUrl).size;
  }

  /** Names still warming (for admin). */
  warming(): { listeners: string[]; clusters: string[] } {
    const pending = <T>(m: Map<string, Warming<T>>): string[] => [...m].filter(([, w]) => !w.expired).map(([n]) => n).sort();
    return { listeners: pending(this.warmingListeners), clusters: pending(this.warmingClusters) };
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.subscribers.clear();
  }

  private mapOf(typeUrl: string): Map<string, unknown> {
    switch (typeUrl) {
      case TypeUrl.Listener:
        return this.rxListeners;
      case TypeUrl.Cluster:
        return this.rxClusters;
      case TypeUrl.RouteConfiguration:
        return this.rxRoutes;
      case TypeUrl.ClusterLoadAssignment:
        return this.rxEndpoints;
      default:
        throw new Error(`unsupported type ${typeUrl}`);
    }
  }

  /** Active = received and warm (or warming expired); a warming update leaves the previous version active. */
  private activate<T>(received: Map<string, T>, previous: ReadonlyMap<string, T>, warming: Map<string, Warming<T>>, isWarm: (v: T) => boolean, now: number): Map<string, T> {
    const active = new Map<string, T>();
    for (const name of [...warming.keys()]) if (!received.has(name)) warming.delete(name);
    for (const [name, obj] of received) {
      if (isWarm(obj)) {
        warming.delete(name);
        active.set(name, obj);
        continue;
      }
      let w = warming.get(name);
      if (!w || w.obj !== obj) warming.set(name, (w = { obj, since: now, expired: false }));
      if (!w.expired && this.warmingTimeoutMs > 0 && now - w.since >= this.warmingTimeoutMs) {
        w.expired = true;
        log.warn('warming timed out; activating without its dependencies', { name });
      }
      if (w.expired) active.set(name, obj);
      else {
        const prev = previous.get(name);
        if (prev !== undefined) active.set(name, prev);
      }
    }
    return active;
  }

  private recompute(): void {
    const now = this.now();
    const prev = this.snapshot;
    // Routes and endpoints first: they decide which listeners and clusters are warm.
    const clusters = this.activate(this.rxClusters, prev.clusters, this.warmingClusters, (c) => c.type !== 'EDS' || this.rxEndpoints.has(c.edsServiceName ?? c.name), now);
    const listeners = this.activate(this.rxListeners, prev.listeners, this.warmingListeners, (l) => rdsNamesOf(l).every((n) => this.rxRoutes.has(n)), now);
    // Drop what nothing references any more (unsubscribed names).
    const next: ConfigSnapshot = { listeners, clusters, routes: new Map(), endpoints: new Map(), versions: new Map(this.versions) };
    this.snapshot = next; // routeNames()/endpointNames() read the new active sets
    const routeNames = new Set(this.routeNames());
    const edsNames = new Set(this.endpointNames());
    for (const name of [...this.rxRoutes.keys()]) if (!routeNames.has(name)) this.rxRoutes.delete(name);
    for (const name of [...this.rxEndpoints.keys()]) if (!edsNames.has(name)) this.rxEndpoints.delete(name);
    const routes = next.routes as Map<string, RouteTable>;
    const endpoints = next.endpoints as Map<string, LoadAssignment>;
    for (const [n, r] of this.rxRoutes) routes.set(n, r);
    for (const [n, e] of this.rxEndpoints) endpoints.set(n, e);

    const pending = this.warming();
    if (!this.readyFlag && this.received.has(TypeUrl.Listener) && this.received.has(TypeUrl.Cluster) && pending.listeners.length === 0 && pending.clusters.length === 0) {
      this.readyFlag = true;
      this.resolveReady();
    }
    this.scheduleWarmingTimer(now);
    if (sameSnapshot(prev, next)) {
      this.snapshot = prev;
      return;
    }
    for (const fn of this.subscribers) {
      try {
        fn(next);
      } catch (e) {
        log.error('config subscriber failed', { error: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  private scheduleWarmingTimer(now: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.warmingTimeoutMs <= 0) return;
    let earliest = Infinity;
    for (const m of [this.warmingClusters, this.warmingListeners] as Map<string, Warming<unknown>>[]) {
      for (const w of m.values()) if (!w.expired) earliest = Math.min(earliest, w.since + this.warmingTimeoutMs);
    }
    if (earliest === Infinity) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.recompute();
    }, Math.max(0, earliest - now));
  }
}

function sameMap<T>(a: ReadonlyMap<string, T>, b: ReadonlyMap<string, T>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

function sameSnapshot(a: ConfigSnapshot, b: ConfigSnapshot): boolean {
  return sameMap(a.listeners, b.listeners) && sameMap(a.clusters, b.clusters) && sameMap(a.routes, b.routes) && sameMap(a.endpoints, b.endpoints) && sameMap(a.versions, b.versions);
}

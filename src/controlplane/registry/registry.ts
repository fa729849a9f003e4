// The service registry: Services and Endpoints from ServiceEntry + WorkloadEntry (+ auto-registered) configs, with
// change events that tell a full push (services changed) from an EDS-only push (endpoints changed).
import { configKey } from '../../api/config.js';
import type { Config } from '../../api/config.js';
import type { ServiceEntry, WorkloadEntry, WorkloadGroup } from '../../api/types/networking.js';
import { logger } from '../../shared/log.js';
import type { ConfigEvent, ConfigStore } from '../configstore/store.js';
import type { Endpoint, Proxy, Service } from '../model/types.js';
import { AutoRegistrations, realTimers, workloadEntryFromGroup } from './autoregister.js';
import type { Timers } from './autoregister.js';
import { serviceEntryEndpoints, servicesFromServiceEntry, workloadInstance } from './convert.js';
import type { WorkloadInstance } from './convert.js';
import { selectorMatches } from './hosts.js';
import { LabelIndex, firstLabel } from './label-index.js';

const log = logger('registry');

export interface RegistryEvent {
  /** True when services themselves (hosts, ports, exportTo, ...) changed: a full push. False: endpoints only (EDS). */
  full: boolean;
  /** Hostnames whose service or endpoints changed. */
  servicesUpdated: ReadonlySet<string>;
  /** Keys of the configs behind the change (ServiceEntry/WorkloadEntry). */
  configsUpdated: ReadonlySet<string>;
  reason: 'serviceentry' | 'workloadentry' | 'autoregistration';
}

/** An immutable view of the registry, taken when a PushContext is built. */
export interface RegistrySnapshot {
  /** All services, sorted by hostname then namespace; one per (hostname, namespace). */
  readonly services: readonly Service[];
  /** Endpoints of a service (all ports), in stable order. */
  endpoints(service: Service): readonly Endpoint[];
  /** Every workload (file WorkloadEntries and auto-registered ones). */
  readonly workloads: readonly WorkloadInstance[];
  /** Auto-registered WorkloadEntries, sorted by key. */
  readonly autoRegistered: readonly Config<WorkloadEntry>[];
  /** Key of the WorkloadEntry auto-registered for a connected proxy id. */
  autoRegisteredKey(proxyId: string): string | undefined;
}

export interface ServiceRegistryOptions {
  store: ConfigStore;
  domainSuffix: string;
  /** How long an auto-registered entry outlives its last connection (Tunables.autoRegistrationGraceMs). */
  autoRegistrationGraceMs?: number;
  timers?: Timers;
  now?: () => Date;
}

interface SeState {
  cfg: Config<ServiceEntry>;
  services: Service[];
  endpoints: Map<string, Endpoint[]>;
}

const svcKey = (ns: string, hostname: string): string => `${ns}/${hostname}`;

function seOrder(a: SeState, b: SeState): number {
  const ta = a.cfg.meta.creationTimestamp ?? '';
  const tb = b.cfg.meta.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = configKey(a.cfg.meta);
  const kb = configKey(b.cfg.meta);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export class ServiceRegistry {
  private readonly store: ConfigStore;
  private readonly domainSuffix: string;
  private readonly now: () => Date;
  private readonly ses = new Map<string, SeState>();
  /** namespace → key → workload, file-defined. */
  private readonly fileWorkloads = new Map<string, Map<string, WorkloadInstance>>();
  /** namespace → key → workload, auto-registered. */
  private readonly autoWorkloads = new Map<string, Map<string, WorkloadInstance>>();
  private readonly auto: AutoRegistrations;
  private readonly listeners = new Set<(ev: RegistryEvent) => void>();
  private readonly unsubscribe: () => void;
  private cached: RegistrySnapshot | undefined;
  /** ServiceEntries whose selected workloads changed since their endpoints were computed. */
  private readonly dirty = new Set<string>();
  /** Workloads by each of their labels. */
  private readonly wlIndex = new LabelIndex<WorkloadInstance>();
  /** ServiceEntry keys by the first label of their workloadSelector; those with an empty selector by namespace. */
  private readonly seIndex = new LabelIndex<string>();
  private readonly seSelectAll = new Map<string, Set<string>>();

  constructor(opts: ServiceRegistryOptions) {
    this.store = opts.store;
    this.domainSuffix = opts.domainSuffix;
    this.now = opts.now ?? (() => new Date());
    this.auto = new AutoRegistrations(opts.autoRegistrationGraceMs ?? 10_000, opts.timers ?? realTimers, (key, cfg) => this.onAutoChange(key, cfg));
    for (const c of this.store.list<WorkloadEntry>('WorkloadEntry')) this.putWorkload(this.fileWorkloads, configKey(c.meta), workloadInstance(c));
    for (const c of this.store.list<ServiceEntry>('ServiceEntry')) this.setSe(configKey(c.meta), this.computeSe(c));
    this.unsubscribe = this.store.subscribe((ev) => this.onConfig(ev));
  }

  subscribe(fn: (ev: RegistryEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Stops following the store and cancels grace timers. */
  close(): void {
    this.unsubscribe();
    this.auto.close();
  }

  /**
   * Creates (or refreshes) the WorkloadEntry of a proxy that connects with WORKLOAD_GROUP metadata naming a
   * WorkloadGroup in its namespace. Returns the entry, or undefined when the proxy does not auto-register.
   */
  autoRegister(proxy: Proxy): Config<WorkloadEntry> | undefined {
    const groupName = proxy.metadata.WORKLOAD_GROUP;
    if (!groupName) return undefined;
    const group = this.store.get(`WorkloadGroup/${proxy.namespace}/${groupName}`) as Config<WorkloadGroup> | undefined;
    if (!group) {
      log.warn('auto-registration: no such WorkloadGroup', { proxy: proxy.id, group: `${proxy.namespace}/${groupName}` });
      return undefined;
    }
    const cfg = workloadEntryFromGroup(proxy, group, this.now());
    if (!cfg) {
      log.warn('auto-registration: proxy has no IP', { proxy: proxy.id });
      return undefined;
    }
    const key = configKey(cfg.meta);
    if (this.store.get(key)) {
      log.warn('auto-registration: a WorkloadEntry with this name is defined in config, not replacing it', { proxy: proxy.id, entry: key });
      return undefined;
    }
    return this.auto.connect(proxy.id, cfg);
  }

  /** The proxy's connection closed: its auto-registered entry is deleted after the grace period unless it reconnects. */
  disconnect(proxy: Proxy): void {
    this.auto.disconnect(proxy.id);
  }

  snapshot(): RegistrySnapshot {
    if (this.cached) return this.cached;
    for (const k of this.dirty) {
      const st = this.ses.get(k);
      if (st) this.setSe(k, this.computeSe(st.cfg));
    }
    this.dirty.clear();
    const bySvc = new Map<string, { svc: Service; eps: Endpoint[][] }>();
    for (const st of [...this.ses.values()].sort(seOrder)) {
      for (const svc of st.services) {
        const k = svcKey(svc.namespace, svc.hostname);
        const eps = st.endpoints.get(svc.hostname) ?? [];
        const cur = bySvc.get(k);
        // Two ServiceEntries declaring the same host in one namespace: the older one defines the service, endpoints merge.
        if (cur) cur.eps.push(eps);
        else bySvc.set(k, { svc, eps: [eps] });
      }
    }
    const services = [...bySvc.values()].map((v) => v.svc).sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0));
    const endpoints = new Map<string, readonly Endpoint[]>();
    for (const [k, v] of bySvc) endpoints.set(k, v.eps.length === 1 ? (v.eps[0] ?? []) : v.eps.flat());
    const workloads: WorkloadInstance[] = [];
    for (const w of this.allWorkloads()) workloads.push(w);
    const autoRegistered = this.auto.entries();
    const byProxy = this.auto.proxyKeys();
    this.cached = {
      services,
      endpoints: (s) => endpoints.get(svcKey(s.namespace, s.hostname)) ?? [],
      workloads,
      autoRegistered,
      autoRegisteredKey: (id) => byProxy.get(id),
    };
    return this.cached;
  }

  private *allWorkloads(ns?: string): Generator<WorkloadInstance> {
    const nss = ns === undefined ? new Set([...this.fileWorkloads.keys(), ...this.autoWorkloads.keys()]) : [ns];
    for (const n of nss) {
      const file = this.fileWorkloads.get(n);
      if (file) yield* file.values();
      const auto = this.autoWorkloads.get(n);
      if (auto) for (const [k, w] of auto) if (!file?.has(k)) yield w;
    }
  }

  private putWorkload(m: Map<string, Map<string, WorkloadInstance>>, key: string, w: WorkloadInstance | undefined, ns?: string): void {
    const namespace = w?.namespace ?? ns;
    if (namespace === undefined) return;
    let inner = m.get(namespace);
    const prev = inner?.get(key);
    if (prev) this.wlIndex.remove(namespace, prev.labels, prev);
    if (!w) {
      inner?.delete(key);
      if (inner?.size === 0) m.delete(namespace);
      return;
    }
    if (!inner) m.set(namespace, (inner = new Map()));
    inner.set(key, w);
    this.wlIndex.add(namespace, w.labels, w);
  }

  /** Replaces (or removes) a ServiceEntry's state, keeping the selector index in step. */
  private setSe(key: string, st: SeState | undefined): void {
    const prev = this.ses.get(key);
    if (prev?.cfg.spec.workloadSelector) {
      const ns = prev.cfg.meta.namespace;
      const first = firstLabel(prev.cfg.spec.workloadSelector.labels ?? {});
      if (first) this.seIndex.remove(ns, first, key);
      else this.seSelectAll.get(ns)?.delete(key);
    }
    if (!st) {
      this.ses.delete(key);
      return;
    }
    this.ses.set(key, st);
    if (st.cfg.spec.workloadSelector) {
      const ns = st.cfg.meta.namespace;
      const first = firstLabel(st.cfg.spec.workloadSelector.labels ?? {});
      if (first) this.seIndex.add(ns, first, key);
      else {
        let all = this.seSelectAll.get(ns);
        if (!all) this.seSelectAll.set(ns, (all = new Set()));
        all.add(key);
      }
    }
  }

  /** Workloads of a namespace that may match a selector (the caller checks each). */
  private *selectable(ns: string, selector: Record<string, string> | undefined): Generator<WorkloadInstance> {
    const cands = selector ? this.wlIndex.candidates(ns, selector) : undefined;
    if (!cands) {
      yield* this.allWorkloads(ns);
      return;
    }
    const file = this.fileWorkloads.get(ns);
    for (const w of cands) if (!w.autoRegistered || !file?.has(w.key)) yield w;
  }

  private computeSe(cfg: Config<ServiceEntry>): SeState {
    const services = servicesFromServiceEntry(cfg, this.domainSuffix);
    const workloads = cfg.spec.workloadSelector ? this.selectable(cfg.meta.namespace, cfg.spec.workloadSelector.labels) : [];
    return { cfg, services, endpoints: serviceEntryEndpoints(cfg, services, workloads) };
  }

  private onConfig(ev: ConfigEvent): void {
    this.cached = undefined;
    if (ev.kind === 'ServiceEntry') this.onServiceEntry(ev);
    else if (ev.kind === 'WorkloadEntry') {
      const old = this.fileWorkloads.get(ev.config.meta.namespace)?.get(ev.key) ?? this.autoWorkloads.get(ev.config.meta.namespace)?.get(ev.key);
      this.putWorkload(this.fileWorkloads, ev.key, ev.type === 'delete' ? undefined : workloadInstance(ev.config as Config<WorkloadEntry>), ev.config.meta.namespace);
      const now = this.fileWorkloads.get(ev.config.meta.namespace)?.get(ev.key) ?? this.autoWorkloads.get(ev.config.meta.namespace)?.get(ev.key);
      this.workloadChanged(ev.key, ev.config.meta.namespace, old, now, 'workloadentry');
    }
  }

  private onServiceEntry(ev: ConfigEvent): void {
    const old = this.ses.get(ev.key);
    const next = ev.type === 'delete' ? undefined : this.computeSe(ev.config as Config<ServiceEntry>);
    const stale = this.dirty.delete(ev.key); // old endpoints were out of date: report them as changed
    this.setSe(ev.key, next);
    const hosts = new Set<string>([...(old?.services ?? []), ...(next?.services ?? [])].map((s) => s.hostname));
    const full = JSON.stringify(old?.services ?? [], replacer) !== JSON.stringify(next?.services ?? [], replacer);
    const epsChanged = !full && (stale || JSON.stringify([...(old?.endpoints ?? [])]) !== JSON.stringify([...(next?.endpoints ?? [])]));
    if (!full && !epsChanged) return;
    this.emit({ full, servicesUpdated: hosts, configsUpdated: new Set([ev.key]), reason: 'serviceentry' });
  }

  /**
   * A workload appeared/changed/went: the ServiceEntries in its namespace whose selector matches it (before or after)
   * get their endpoints recomputed at the next snapshot, so a burst of WorkloadEntry events costs one recompute.
   */
  private workloadChanged(key: string, ns: string, old: WorkloadInstance | undefined, now: WorkloadInstance | undefined, reason: RegistryEvent['reason']): void {
    const hosts = new Set<string>();
    const candidates = new Set<string>(this.seSelectAll.get(ns));
    for (const w of [old, now]) {
      if (!w) continue;
      for (const [lk, lv] of Object.entries(w.labels)) for (const k of this.seIndex.get(ns, lk, lv)) candidates.add(k);
    }
    for (const k of candidates) {
      const st = this.ses.get(k);
      if (!st?.cfg.spec.workloadSelector) continue;
      const sel = st.cfg.spec.workloadSelector.labels ?? {};
      if (!(old && selectorMatches(sel, old.labels)) && !(now && selectorMatches(sel, now.labels))) continue;
      this.dirty.add(k);
      for (const s of st.services) hosts.add(s.hostname);
    }
    this.emit({ full: false, servicesUpdated: hosts, configsUpdated: new Set([key]), reason });
  }

  private onAutoChange(key: string, cfg: Config<WorkloadEntry> | undefined): void {
    this.cached = undefined;
    const ns = cfg?.meta.namespace ?? key.split('/')[1] ?? '';
    const old = this.autoWorkloads.get(ns)?.get(key);
    this.putWorkload(this.autoWorkloads, key, cfg ? workloadInstance(cfg, true) : undefined, ns);
    const now = this.autoWorkloads.get(ns)?.get(key);
    log.info(cfg ? 'auto-registered workload' : 'removed auto-registered workload', { entry: key });
    if (this.fileWorkloads.get(ns)?.has(key)) return; // shadowed by a file-defined entry
    this.workloadChanged(key, ns, old, now, 'autoregistration');
  }

  private emit(ev: RegistryEvent): void {
    this.cached = undefined;
    for (const fn of this.listeners) fn(ev);
  }
}

/** JSON.stringify of Services: exportTo is a Set, serialize it as a sorted list. */
function replacer(_k: string, v: unknown): unknown {
  return v instanceof Set ? [...(v as Set<string>)].sort() : v;
}

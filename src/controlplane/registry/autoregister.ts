// Auto-registration (Istio's pilot/pkg/autoregistration): a proxy connecting with WORKLOAD_GROUP metadata gets a
// WorkloadEntry built from the group's template that lives while it is connected, plus a grace period.
import { configKey } from '../../api/config.js';
import type { Config } from '../../api/config.js';
import type { WorkloadEntry, WorkloadGroup } from '../../api/types/networking.js';
import type { Proxy } from '../model/types.js';

/** Annotation naming the WorkloadGroup an entry was created from (Istio's). */
export const AUTO_REGISTRATION_GROUP_ANNOTATION = 'istio.io/autoRegistrationGroup';
/** Annotation naming the controller that manages the entry (Istio's). */
export const WORKLOAD_CONTROLLER_ANNOTATION = 'istio.io/workloadController';

/** Istio's autoregisteredWorkloadEntryName: `<group>-<ip>[-<network>]`, IPv6 colons replaced by dashes. */
export function autoRegisteredName(group: string, ip: string, network: string | undefined): string {
  const parts = [group, ip.replaceAll(':', '-')];
  if (network) parts.push(network);
  return parts.join('-');
}

/** The WorkloadEntry for `proxy` from its group: template + proxy address, labels, network and locality. */
export function workloadEntryFromGroup(proxy: Proxy, group: Config<WorkloadGroup>, now: Date): Config<WorkloadEntry> | undefined {
  const ip = proxy.ips[0];
  if (!ip) return undefined;
  const network = proxy.metadata.NETWORK || undefined;
  const name = autoRegisteredName(group.meta.name, ip, network);
  const tmpl = group.spec.template ?? {};
  const spec: WorkloadEntry = { ...tmpl, address: ip };
  if (tmpl.ports) spec.ports = { ...tmpl.ports };
  spec.labels = { ...(tmpl.labels ?? {}), ...proxy.labels };
  if (network) spec.network = network;
  if (proxy.locality) spec.locality = proxy.locality;
  if (!spec.serviceAccount && proxy.serviceAccount && proxy.serviceAccount !== 'default') spec.serviceAccount = proxy.serviceAccount;
  const meta = {
    kind: 'WorkloadEntry' as const,
    group: group.meta.group,
    version: group.meta.version,
    name,
    namespace: group.meta.namespace,
    labels: { ...(group.spec.metadata?.labels ?? {}), ...proxy.labels },
    annotations: {
      ...(group.spec.metadata?.annotations ?? {}),
      [AUTO_REGISTRATION_GROUP_ANNOTATION]: group.meta.name,
      [WORKLOAD_CONTROLLER_ANNOTATION]: 'isthmus',
    },
    resourceVersion: '',
    creationTimestamp: now.toISOString(),
  };
  const cfg: Config<WorkloadEntry> = { meta, spec };
  cfg.meta.resourceVersion = contentVersion(cfg);
  return cfg;
}

/** A deterministic version of an entry's content (creation time excluded), so reconnects with the same data are no-ops. */
function contentVersion(c: Config<WorkloadEntry>): string {
  const s = JSON.stringify([c.spec, c.meta.labels, c.meta.annotations]);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return `auto-${h.toString(16)}`;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

interface Registration {
  config: Config<WorkloadEntry>;
  connections: Set<string>;
  timer?: unknown;
}

/** Tracks auto-registered entries and their connections; calls back when an entry appears, changes or goes away. */
export class AutoRegistrations {
  private readonly regs = new Map<string, Registration>();
  private readonly byProxy = new Map<string, string>();

  constructor(
    private readonly graceMs: number,
    private readonly timers: Timers,
    private readonly onChange: (key: string, cfg: Config<WorkloadEntry> | undefined) => void,
  ) {}

  /** Registers (or refreshes) `cfg` for the proxy connection `proxyId`. */
  connect(proxyId: string, cfg: Config<WorkloadEntry>): Config<WorkloadEntry> {
    const key = configKey(cfg.meta);
    const prevKey = this.byProxy.get(proxyId);
    if (prevKey !== undefined && prevKey !== key) this.disconnect(proxyId);
    let reg = this.regs.get(key);
    if (reg?.timer !== undefined) {
      this.timers.clearTimeout(reg.timer);
      delete reg.timer;
    }
    if (!reg) {
      reg = { config: cfg, connections: new Set() };
      this.regs.set(key, reg);
      reg.connections.add(proxyId);
      this.byProxy.set(proxyId, key);
      this.onChange(key, cfg);
      return cfg;
    }
    reg.connections.add(proxyId);
    this.byProxy.set(proxyId, key);
    if (reg.config.meta.resourceVersion !== cfg.meta.resourceVersion) {
      cfg.meta.creationTimestamp = reg.config.meta.creationTimestamp;
      reg.config = cfg;
      this.onChange(key, cfg);
    }
    return reg.config;
  }

  /** The connection went away: the entry is deleted after the grace period unless the proxy reconnects. */
  disconnect(proxyId: string): void {
    const key = this.byProxy.get(proxyId);
    if (key === undefined) return;
    this.byProxy.delete(proxyId);
    const reg = this.regs.get(key);
    if (!reg) return;
    reg.connections.delete(proxyId);
    if (reg.connections.size > 0) return;
    const expire = (): void => {
      if (this.regs.get(key) !== reg || reg.connections.size > 0) return;
      this.regs.delete(key);
      this.onChange(key, undefined);
    };
    if (this.graceMs <= 0) expire();
    else reg.timer = this.timers.setTimeout(expire, this.graceMs);
  }

  /** The entry key registered for a connected proxy. */
  keyFor(proxyId: string): string | undefined {
    return this.byProxy.get(proxyId);
  }

  /** A copy of proxy id → entry key for every connected proxy. */
  proxyKeys(): Map<string, string> {
    return new Map(this.byProxy);
  }

  get(key: string): Config<WorkloadEntry> | undefined {
    return this.regs.get(key)?.config;
  }

  /** All live entries (connected or in their grace period), sorted by key. */
  entries(): Config<WorkloadEntry>[] {
    return [...this.regs.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, r]) => r.config);
  }

  /** Cancels grace timers (entries stay until the registry is dropped). */
  close(): void {
    for (const r of this.regs.values()) {
      if (r.timer !== undefined) this.timers.clearTimeout(r.timer);
      delete r.timer;
    }
  }
}

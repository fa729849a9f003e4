// Builds the immutable PushContext snapshot (Istio's PushContext) from the config store and the service registry.
import { KINDS, ROOT_NAMESPACE } from '../../api/config.js';
import type { Config, Kind } from '../../api/config.js';
import type { DestinationRule, EnvoyFilter, Gateway, Sidecar, VirtualService, WorkloadEntry } from '../../api/types/networking.js';
import type { Telemetry } from '../../api/types/telemetry.js';
import type { ConfigStore } from '../configstore/store.js';
import { compareNsName } from '../configstore/store.js';
import type { RegistrySnapshot } from '../registry/registry.js';
import { isVisible, selectorMatches } from '../registry/hosts.js';
import { DestinationRuleIndex } from './destination-rules.js';
import { byCreation, labelsKey } from './order.js';
import { SidecarIndex } from './sidecar-scope.js';
import { TelemetryIndex } from './telemetry.js';
import type { Endpoint, LoggingConfig, MeshConfig, Proxy, PushContext, Service, ServicePort, SidecarScope, TelemetryMode } from './types.js';
import { VirtualServiceIndex } from './virtual-services.js';

export interface PushContextInput {
  /** Valid configs (read once, at build time). */
  store: Pick<ConfigStore, 'list'>;
  /** The service registry, or a snapshot of it. */
  registry: { snapshot(): RegistrySnapshot };
  domainSuffix: string;
  version: string;
  /** Istio's root namespace (meshConfig.rootNamespace), default istio-system. */
  rootNamespace?: string;
  /** Mesh-wide settings (access logging, ...). */
  mesh?: MeshConfig;
}

export type ServiceInstance = { service: Service; port: ServicePort; endpoint: Endpoint };

/** Builds an immutable snapshot; all indexes are computed here or memoized on first use (results never change). */
export function buildPushContext(input: PushContextInput): PushContext & PushContextExtras {
  return new Snapshot(input);
}

/** What the snapshot offers beyond the PushContext contract (debug endpoints, delegates). */
export interface PushContextExtras {
  /** Delegate VirtualServices (no hosts) by `namespace/name`, resolved like root ones. */
  delegateVirtualService(namespace: string, name: string): Config<VirtualService> | undefined;
  /** Every auto-registered WorkloadEntry in this snapshot. */
  readonly autoRegisteredWorkloadEntries: readonly Config<WorkloadEntry>[];
}

class Snapshot implements PushContext, PushContextExtras {
  readonly version: string;
  readonly mesh: MeshConfig | undefined;
  readonly domainSuffix: string;
  readonly services: readonly Service[];
  readonly autoRegisteredWorkloadEntries: readonly Config<WorkloadEntry>[];
  private readonly rootNamespace: string;
  private readonly registry: RegistrySnapshot;
  private readonly byKind = new Map<Kind, readonly Config[]>();
  private readonly byHost = new Map<string, Service[]>();
  private readonly endpointMemo = new Map<string, readonly Endpoint[]>();
  private readonly sidecars: SidecarIndex;
  private readonly vsIndex: VirtualServiceIndex;
  private readonly drIndex: DestinationRuleIndex;
  private readonly gateways: readonly Config<Gateway>[];
  private readonly envoyFilterByNs = new Map<string, Config<EnvoyFilter>[]>();
  private readonly telemetry: TelemetryIndex;
  private instancesByAddress: Map<string, ServiceInstance[]> | undefined;
  private instancesByWorkload: Map<string, ServiceInstance[]> | undefined;

  constructor(input: PushContextInput) {
    this.version = input.version;
    this.mesh = input.mesh;
    this.domainSuffix = input.domainSuffix;
    this.rootNamespace = input.rootNamespace ?? ROOT_NAMESPACE;
    this.registry = input.registry.snapshot();
    this.services = this.registry.services;
    this.autoRegisteredWorkloadEntries = this.registry.autoRegistered;
    for (const kind of Object.keys(KINDS) as Kind[]) {
      let l: Config[] = input.store.list(kind);
      if (kind === 'WorkloadEntry' && this.registry.autoRegistered.length > 0) {
        const keys = new Set(l.map((c) => `${c.meta.namespace}/${c.meta.name}`));
        l = [...l, ...this.registry.autoRegistered.filter((c) => !keys.has(`${c.meta.namespace}/${c.meta.name}`))].sort(compareNsName);
      }
      this.byKind.set(kind, l);
    }
    for (const s of this.services) {
      const l = this.byHost.get(s.hostname) ?? [];
      l.push(s);
      this.byHost.set(s.hostname, l);
    }
    this.sidecars = new SidecarIndex(this.configs<Sidecar>('Sidecar'), this.services, this.rootNamespace);
    this.vsIndex = new VirtualServiceIndex(this.configs<VirtualService>('VirtualService'), this.domainSuffix);
    this.drIndex = new DestinationRuleIndex(
      this.configs<DestinationRule>('DestinationRule'),
      this.domainSuffix,
      (h, ns) => this.serviceForHost(h, ns),
      this.rootNamespace,
    );
    this.gateways = [...this.configs<Gateway>('Gateway')].sort(byCreation);
    for (const ef of this.configs<EnvoyFilter>('EnvoyFilter')) {
      const l = this.envoyFilterByNs.get(ef.meta.namespace) ?? [];
      l.push(ef);
      this.envoyFilterByNs.set(ef.meta.namespace, l);
    }
    for (const l of this.envoyFilterByNs.values()) l.sort((a, b) => (a.spec.priority ?? 0) - (b.spec.priority ?? 0) || byCreation(a, b));
    this.telemetry = new TelemetryIndex(this.configs<Telemetry>('Telemetry'), this.rootNamespace, this.mesh);
  }

  configs<S>(kind: Kind): readonly Config<S>[] {
    return (this.byKind.get(kind) ?? []) as readonly Config<S>[];
  }

  /** The service with this hostname visible from `namespace`: the one in that namespace first, else the first visible. */
  serviceForHost(hostname: string, namespace: string): Service | undefined {
    const l = this.byHost.get(hostname);
    if (!l) return undefined;
    let found: Service | undefined;
    for (const s of l) {
      if (!isVisible(s.exportTo, s.namespace, namespace)) continue;
      if (s.namespace === namespace) return s;
      found ??= s;
    }
    return found;
  }

  endpoints(service: Service, port: number, subsetLabels?: Record<string, string>): readonly Endpoint[] {
    const key = `${service.namespace}/${service.hostname}|${port}|${labelsKey(subsetLabels)}`;
    let l = this.endpointMemo.get(key);
    if (!l) {
      const sp = service.ports.find((p) => p.port === port);
      l = sp
        ? this.registry.endpoints(service).filter((e) => e.servicePortName === sp.name && selectorMatches(subsetLabels, e.labels))
        : [];
      this.endpointMemo.set(key, l);
    }
    return l;
  }

  sidecarScope(proxy: Proxy): SidecarScope {
    return this.sidecars.scope(proxy);
  }

  virtualServices(proxy: Proxy, gateway: string): readonly Config<VirtualService>[] {
    return this.vsIndex.forGateway(proxy.namespace, gateway);
  }

  delegateVirtualService(namespace: string, name: string): Config<VirtualService> | undefined {
    return this.vsIndex.delegates.get(`${namespace}/${name}`);
  }

  destinationRule(proxy: Proxy, hostname: string): Config<DestinationRule> | undefined {
    return this.drIndex.lookup(proxy, hostname);
  }

  /** Gateways in any namespace whose selector labels are all on the proxy (an empty selector matches every router). */
  gatewaysForProxy(proxy: Proxy): readonly Config<Gateway>[] {
    return this.gateways.filter((g) => selectorMatches(g.spec.selector, proxy.labels));
  }

  serviceInstances(proxy: Proxy): readonly ServiceInstance[] {
    if (!this.instancesByAddress || !this.instancesByWorkload) this.indexInstances();
    const out: ServiceInstance[] = [];
    const seen = new Set<ServiceInstance>();
    const add = (l: ServiceInstance[] | undefined): void => {
      for (const i of l ?? []) {
        if (seen.has(i)) continue;
        seen.add(i);
        out.push(i);
      }
    };
    for (const ip of proxy.ips) add(this.instancesByAddress!.get(ip));
    const auto = this.registry.autoRegisteredKey(proxy.id);
    if (auto) {
      const [, ns, name] = auto.split('/');
      add(this.instancesByWorkload!.get(`${ns}/${name}`));
    }
    return out;
  }

  envoyFilters(proxy: Proxy): readonly Config<EnvoyFilter>[] {
    const nss = proxy.namespace === this.rootNamespace ? [this.rootNamespace] : [this.rootNamespace, proxy.namespace];
    const out: Config<EnvoyFilter>[] = [];
    for (const ns of nss) {
      for (const ef of this.envoyFilterByNs.get(ns) ?? []) {
        if (selectorMatches(ef.spec.workloadSelector?.labels, proxy.labels)) out.push(ef);
      }
    }
    return out;
  }

  accessLogging(proxy: Proxy, mode: TelemetryMode): readonly LoggingConfig[] {
    return this.telemetry.accessLogging(proxy, mode);
  }

  private indexInstances(): void {
    const byAddr = new Map<string, ServiceInstance[]>();
    const byWl = new Map<string, ServiceInstance[]>();
    for (const service of this.services) {
      for (const endpoint of this.registry.endpoints(service)) {
        const port = service.ports.find((p) => p.name === endpoint.servicePortName);
        if (!port) continue;
        const inst: ServiceInstance = { service, port, endpoint };
        const a = byAddr.get(endpoint.address) ?? [];
        a.push(inst);
        byAddr.set(endpoint.address, a);
        const wk = `${endpoint.namespace}/${endpoint.workloadName}`;
        const w = byWl.get(wk) ?? [];
        w.push(inst);
        byWl.set(wk, w);
      }
    }
    this.instancesByAddress = byAddr;
    this.instancesByWorkload = byWl;
  }
}

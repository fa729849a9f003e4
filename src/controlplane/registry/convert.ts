// ServiceEntry → Services and their endpoints; WorkloadEntry → workload instance (Istio's serviceentry/conversion.go).
import { configKey } from '../../api/config.js';
import type { Config } from '../../api/config.js';
import type { ServiceEntry, WorkloadEntry } from '../../api/types/networking.js';
import type { Endpoint, Service, ServicePort } from '../model/types.js';
import { expandHost, exportToSet, portProtocol, selectorMatches } from './hosts.js';

/** A WorkloadEntry as the registry uses it: labels merged, defaults applied. */
export interface WorkloadInstance {
  key: string;
  name: string;
  namespace: string;
  address: string;
  ports: Record<string, number>;
  labels: Record<string, string>;
  serviceAccount: string;
  network: string;
  locality: string;
  weight: number;
  /** Created by auto-registration (no file behind it). */
  autoRegistered: boolean;
}

/** Every host of a ServiceEntry becomes one Service (hosts expanded to FQDNs). */
export function servicesFromServiceEntry(cfg: Config<ServiceEntry>, domainSuffix: string): Service[] {
  const se = cfg.spec;
  const ns = cfg.meta.namespace;
  const ports: ServicePort[] = (se.ports ?? []).map((p) => {
    const sp: ServicePort = { name: p.name, port: p.number, protocol: portProtocol(p.name, p.protocol) };
    if (p.targetPort !== undefined && p.targetPort !== 0) sp.targetPort = p.targetPort;
    return sp;
  });
  const exportTo = exportToSet(se.exportTo, ns);
  const seen = new Set<string>();
  const out: Service[] = [];
  for (const h of se.hosts ?? []) {
    const hostname = expandHost(h, ns, domainSuffix);
    if (seen.has(hostname)) continue;
    seen.add(hostname);
    const svc: Service = {
      hostname,
      namespace: ns,
      addresses: [...(se.addresses ?? [])],
      ports,
      resolution: se.resolution ?? 'NONE',
      location: se.location ?? 'MESH_EXTERNAL',
      exportTo,
      labels: { ...cfg.meta.labels },
      source: configKey(cfg.meta),
      subjectAltNames: [...(se.subjectAltNames ?? [])],
    };
    if (se.workloadSelector) svc.workloadSelector = { ...(se.workloadSelector.labels ?? {}) };
    out.push(svc);
  }
  return out;
}

/** WorkloadEntry config → instance; metadata labels are merged over spec labels (Istio's ConvertWorkloadEntry). */
export function workloadInstance(cfg: Config<WorkloadEntry>, autoRegistered = false): WorkloadInstance | undefined {
  const we = cfg.spec;
  if (!we.address) return undefined;
  return {
    key: configKey(cfg.meta),
    name: cfg.meta.name,
    namespace: cfg.meta.namespace,
    address: we.address,
    ports: { ...(we.ports ?? {}) },
    labels: { ...(we.labels ?? {}), ...cfg.meta.labels },
    serviceAccount: we.serviceAccount || 'default',
    network: we.network ?? '',
    locality: we.locality ?? '',
    weight: we.weight && we.weight > 0 ? we.weight : 1,
    autoRegistered,
  };
}

/** Istio: the endpoint's port for a service port is its named port, else the service targetPort, else the service port. */
function endpointPort(named: Record<string, number> | undefined, sp: ServicePort): number {
  const p = named?.[sp.name];
  if (p !== undefined && p !== 0) return p;
  return sp.targetPort ?? sp.port;
}

function endpointFrom(
  base: { address: string; ports?: Record<string, number>; labels: Record<string, string>; serviceAccount: string; network: string; locality: string; weight: number },
  sp: ServicePort,
  namespace: string,
  workloadName: string,
): Endpoint {
  return {
    address: base.address,
    port: endpointPort(base.ports, sp),
    servicePortName: sp.name,
    labels: base.labels,
    serviceAccount: base.serviceAccount,
    network: base.network,
    locality: base.locality,
    weight: base.weight,
    namespace,
    workloadName,
    healthy: true,
  };
}

/**
 * Endpoints of one ServiceEntry's services: its inline endpoints, or the WorkloadEntries (same namespace) its
 * workloadSelector picks, or — for DNS resolution without either — the hosts themselves (resolved by the proxy).
 * Keyed by service hostname; every host of the entry gets the same instances (as in Istio).
 */
export function serviceEntryEndpoints(cfg: Config<ServiceEntry>, services: readonly Service[], workloads: Iterable<WorkloadInstance>): Map<string, Endpoint[]> {
  const se = cfg.spec;
  const ports = services[0]?.ports ?? [];
  const ns = cfg.meta.namespace;
  const shared: Endpoint[] = [];
  if (se.workloadSelector) {
    const sel = se.workloadSelector.labels ?? {};
    const picked = [...workloads].filter((w) => w.namespace === ns && selectorMatches(sel, w.labels));
    picked.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const w of picked) for (const sp of ports) shared.push(endpointFrom(w, sp, ns, w.name));
  } else if (se.endpoints && se.endpoints.length > 0) {
    se.endpoints.forEach((ep, i) => {
      if (!ep.address) return;
      const base = {
        address: ep.address,
        labels: { ...(ep.labels ?? {}) },
        serviceAccount: ep.serviceAccount || 'default',
        network: ep.network ?? '',
        locality: ep.locality ?? '',
        weight: ep.weight && ep.weight > 0 ? ep.weight : 1,
        ...(ep.ports ? { ports: ep.ports } : {}),
      };
      for (const sp of ports) shared.push(endpointFrom(base, sp, ns, `${cfg.meta.name}[${i}]`));
    });
  }
  const out = new Map<string, Endpoint[]>();
  const dnsHosts = !se.workloadSelector && (!se.endpoints || se.endpoints.length === 0) && (se.resolution === 'DNS' || se.resolution === 'DNS_ROUND_ROBIN');
  for (const svc of services) {
    if (!dnsHosts) {
      out.set(svc.hostname, shared);
      continue;
    }
    // Istio: a DNS ServiceEntry without endpoints resolves its own hosts (not wildcards).
    const eps = svc.hostname.startsWith('*')
      ? []
      : svc.ports.map((sp) => endpointFrom({ address: svc.hostname, labels: {}, serviceAccount: 'default', network: '', locality: '', weight: 1 }, sp, ns, cfg.meta.name));
    out.set(svc.hostname, eps);
  }
  return out;
}

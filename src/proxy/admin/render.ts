// Admin payloads in Envoy's shapes: /config_dump (envoy.admin.v3.*ConfigDump), /clusters (text and JSON),
// /listeners, /server_info. https://www.envoyproxy.io/docs/envoy/latest/operations/admin
import { TypeUrl } from '../../xds/types.js';
import type { HostStatus, UpstreamCluster } from '../runtime/contracts.js';
import type { ListenerStatus } from '../listener/manager.js';
import type { AdminBackend, RawResource, RejectedResource } from './backend.js';

const ADMIN = 'type.googleapis.com/envoy.admin.v3.';

/** JSON of a runtime object: Maps → objects, Sets → arrays, functions dropped. */
export function runtimeJson(v: unknown): unknown {
  return JSON.parse(
    JSON.stringify(v, (_k, x: unknown) => {
      if (x instanceof Map) return Object.fromEntries(x as Map<string, unknown>);
      if (x instanceof Set) return [...(x as Set<unknown>)];
      if (typeof x === 'function') return undefined;
      return x;
    }),
  ) as unknown;
}

const iso = (d: Date | undefined): string | undefined => d?.toISOString();

function withTime<T extends Record<string, unknown>>(o: T, d: Date | undefined): T {
  const t = iso(d);
  if (t) (o as Record<string, unknown>).last_updated = t;
  return o;
}

interface DumpSection {
  '@type': string;
  [k: string]: unknown;
}

/** Per type: raw ACKed resources from the xDS client, or runtime objects rendered as JSON (marked as such). */
function resourcesOf(b: AdminBackend, typeUrl: string): { items: RawResource[]; rejected: RejectedResource[]; fromRuntime: boolean } {
  const raw = b.rawConfig();
  if (raw) return { items: raw.resources(typeUrl), rejected: raw.rejected?.(typeUrl) ?? [], fromRuntime: false };
  const snap = b.snapshot();
  const version = snap?.versions.get(typeUrl) ?? '';
  const pick = (): Map<string, unknown> | ReadonlyMap<string, unknown> => {
    if (!snap) return new Map();
    if (typeUrl === TypeUrl.Listener) return snap.listeners;
    if (typeUrl === TypeUrl.Cluster) return snap.clusters;
    if (typeUrl === TypeUrl.RouteConfiguration) return snap.routes;
    if (typeUrl === TypeUrl.ClusterLoadAssignment) return snap.endpoints;
    return new Map();
  };
  const items = [...pick()].map(([name, v]) => ({ name, version, resource: runtimeJson(v) as Record<string, unknown> }));
  return { items, rejected: [], fromRuntime: true };
}

function versionOf(b: AdminBackend, typeUrl: string): string {
  return b.snapshot()?.versions.get(typeUrl) ?? '';
}

/** GET /config_dump: the bootstrap, then clusters, listeners, routes, secrets (and endpoints with include_eds). */
export function configDump(b: AdminBackend, opts: { includeEds: boolean; resource?: string }): { configs: unknown[] } {
  const sections: DumpSection[] = [];
  const mark = (s: DumpSection, fromRuntime: boolean): DumpSection => (fromRuntime ? { ...s, isthmus_rendered_from: 'runtime objects (the xDS client keeps no raw resources)' } : s);

  sections.push({
    '@type': `${ADMIN}BootstrapConfigDump`,
    bootstrap: {
      node: b.node,
      dynamic_resources: { lds_config: { ads: {}, resource_api_version: 'V3' }, cds_config: { ads: {}, resource_api_version: 'V3' }, ads_config: { api_type: 'GRPC', transport_api_version: 'V3' } },
      admin: {},
    },
    last_updated: new Date(b.startedAt).toISOString(),
  });

  const cl = resourcesOf(b, TypeUrl.Cluster);
  sections.push(mark({
    '@type': `${ADMIN}ClustersConfigDump`,
    version_info: versionOf(b, TypeUrl.Cluster),
    dynamic_active_clusters: cl.items.map((r) => withTime({ version_info: r.version, cluster: r.resource }, r.lastUpdated)),
    ...(cl.rejected.length > 0 ? { dynamic_warming_clusters: [] } : {}),
  }, cl.fromRuntime));

  const li = resourcesOf(b, TypeUrl.Listener);
  const draining = new Set(b.listeners().filter((l) => l.drainingConnections > 0).map((l) => l.name));
  const dyn = li.items.map((r) => {
    const entry: Record<string, unknown> = { name: r.name, active_state: withTime({ version_info: r.version, listener: r.resource }, r.lastUpdated) };
    if (draining.has(r.name)) entry.draining_state = { version_info: r.version };
    return entry;
  });
  for (const x of li.rejected) {
    const existing = dyn.find((d) => d.name === x.name);
    const error_state = withTime({ details: x.details, ...(x.resource ? { failed_configuration: x.resource } : {}) }, undefined);
    if (x.lastUpdateAttempt) (error_state as Record<string, unknown>).last_update_attempt = x.lastUpdateAttempt.toISOString();
    if (existing) existing.error_state = error_state;
    else dyn.push({ name: x.name, error_state });
  }
  sections.push(mark({ '@type': `${ADMIN}ListenersConfigDump`, version_info: versionOf(b, TypeUrl.Listener), dynamic_listeners: dyn }, li.fromRuntime));

  sections.push({ '@type': `${ADMIN}ScopedRoutesConfigDump` });
  const rt = resourcesOf(b, TypeUrl.RouteConfiguration);
  sections.push(mark({
    '@type': `${ADMIN}RoutesConfigDump`,
    dynamic_route_configs: rt.items.map((r) => withTime({ version_info: r.version, route_config: r.resource }, r.lastUpdated)),
  }, rt.fromRuntime));
  sections.push({ '@type': `${ADMIN}SecretsConfigDump` });

  if (opts.includeEds) {
    const ep = resourcesOf(b, TypeUrl.ClusterLoadAssignment);
    sections.push(mark({
      '@type': `${ADMIN}EndpointsConfigDump`,
      dynamic_endpoint_configs: ep.items.map((r) => withTime({ version_info: r.version, endpoint_config: r.resource }, r.lastUpdated)),
    }, ep.fromRuntime));
  }

  if (opts.resource) {
    // ?resource=dynamic_active_clusters etc.: the entries of that repeated field, each typed.
    const out: unknown[] = [];
    for (const s of sections) {
      const v = s[opts.resource];
      if (!Array.isArray(v)) continue;
      const itemType = `${s['@type']}.${RESOURCE_ITEM_TYPE[opts.resource] ?? opts.resource}`;
      for (const item of v) out.push({ '@type': itemType, ...(item as Record<string, unknown>) });
    }
    return { configs: out };
  }
  return { configs: sections };
}

const RESOURCE_ITEM_TYPE: Record<string, string> = {
  dynamic_active_clusters: 'DynamicCluster',
  dynamic_listeners: 'DynamicListener',
  dynamic_route_configs: 'DynamicRouteConfig',
  dynamic_endpoint_configs: 'DynamicEndpointConfig',
};

function healthFlags(h: HostStatus): string {
  const flags: string[] = [];
  if (!h.healthy) flags.push('/failed_eds_health');
  if (h.ejected) flags.push('/failed_outlier_check');
  return flags.length > 0 ? flags.join('|') : 'healthy';
}

function locality(l: string): { region: string; zone: string; sub_zone: string } {
  const [region = '', zone = '', subZone = ''] = l.split('/');
  return { region, zone, sub_zone: subZone };
}

/** GET /clusters (text): Envoy's `cluster::host::stat::value` lines. */
export function clustersText(clusters: readonly UpstreamCluster[]): string {
  const out: string[] = [];
  for (const c of [...clusters].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const n = c.name;
    const cb = c.config.circuitBreakers;
    out.push(`${n}::observability_name::${n}`);
    for (const prio of ['default_priority', 'high_priority']) {
      out.push(`${n}::${prio}::max_connections::${cb.maxConnections}`, `${n}::${prio}::max_pending_requests::${cb.maxPendingRequests}`);
      out.push(`${n}::${prio}::max_requests::${cb.maxRequests}`, `${n}::${prio}::max_retries::${cb.maxRetries}`);
    }
    out.push(`${n}::added_via_api::true`);
    if (c.config.edsServiceName) out.push(`${n}::eds_service_name::${c.config.edsServiceName}`);
    for (const h of c.hosts()) {
      const p = `${n}::${h.key}`;
      const loc = locality(h.locality);
      out.push(
        `${p}::cx_active::${h.activeConnections}`,
        `${p}::rq_active::${h.activeRequests}`,
        `${p}::rq_error::${h.totalErrors}`,
        `${p}::rq_success::${Math.max(0, h.totalRequests - h.totalErrors)}`,
        `${p}::rq_total::${h.totalRequests}`,
        `${p}::hostname::`,
        `${p}::health_flags::${healthFlags(h)}`,
        `${p}::weight::${h.weight}`,
        `${p}::region::${loc.region}`,
        `${p}::zone::${loc.zone}`,
        `${p}::sub_zone::${loc.sub_zone}`,
        `${p}::canary::false`,
        `${p}::priority::${h.priority}`,
        `${p}::success_rate::-1`,
        `${p}::local_origin_success_rate::-1`,
      );
    }
  }
  return out.join('\n') + (out.length > 0 ? '\n' : '');
}

/** GET /clusters?format=json (envoy.admin.v3.Clusters). */
export function clustersJson(clusters: readonly UpstreamCluster[]): unknown {
  return {
    cluster_statuses: clusters.map((c) => ({
      name: c.name,
      added_via_api: true,
      ...(c.config.edsServiceName ? { eds_service_name: c.config.edsServiceName } : {}),
      host_statuses: c.hosts().map((h) => ({
        address: { socket_address: { address: h.address, port_value: h.port } },
        stats: [
          { name: 'cx_active', type: 'GAUGE', value: String(h.activeConnections) },
          { name: 'rq_active', type: 'GAUGE', value: String(h.activeRequests) },
          { name: 'rq_error', value: String(h.totalErrors) },
          { name: 'rq_success', value: String(Math.max(0, h.totalRequests - h.totalErrors)) },
          { name: 'rq_total', value: String(h.totalRequests) },
        ],
        health_status: { eds_health_status: h.healthy ? 'HEALTHY' : 'UNHEALTHY', ...(h.ejected ? { failed_outlier_check: true } : {}) },
        weight: h.weight,
        locality: locality(h.locality),
        priority: h.priority,
      })),
    })),
  };
}

const hostPort = (a: { address: string; port: number }): string => (a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`);

/** GET /listeners (text): `name::address`, the bound port for port-0 listeners; failures flagged. */
export function listenersText(ls: readonly ListenerStatus[]): string {
  return ls.map((l) => `${l.name}::${hostPort(l.boundAddress ?? l.address)}${l.state === 'active' ? '' : `::${l.state}${l.error ? `::${l.error}` : ''}`}\n`).join('');
}

/** GET /listeners?format=json (envoy.admin.v3.Listeners, plus Isthmus' state/error/connection counts). */
export function listenersJson(ls: readonly ListenerStatus[]): unknown {
  return {
    listener_statuses: ls.map((l) => {
      const a = l.boundAddress ?? l.address;
      return {
        name: l.name,
        local_address: { socket_address: { address: a.address, port_value: a.port } },
        bind_to_port: l.bindToPort,
        state: l.state,
        ...(l.error ? { error: l.error } : {}),
        active_connections: l.activeConnections,
        draining_connections: l.drainingConnections,
      };
    }),
  };
}

/** GET /server_info (envoy.admin.v3.ServerInfo, plus the xDS connection state under `isthmus`). */
export function serverInfo(b: AdminBackend, version: string): unknown {
  const up = `${Math.floor((Date.now() - b.startedAt) / 1000)}s`;
  return {
    version,
    state: b.state(),
    hot_restart_version: 'disabled',
    command_line_options: b.options,
    node: b.node,
    uptime_current_epoch: up,
    uptime_all_epochs: up,
    isthmus: { xds: b.xdsStatus() ?? null, config_ready: b.configReady() },
  };
}

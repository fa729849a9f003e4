// istiod's debug endpoints (port 8080): /ready, /debug/syncz, /debug/adsz, /debug/configz, /debug/registryz,
// /debug/config_dump?proxyID=, /debug/push_status; and the monitoring port's /metrics.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { wireView } from '../../xds/codec.js';
import { TypeUrl } from '../../xds/types.js';
import type { Connection, WatchState } from './connection.js';
import { shortType } from './context.js';
import type { Metrics } from './metrics.js';
import type { XdsServer } from './xds-server.js';

export interface DebugOptions {
  xds: XdsServer;
  /** True once the first push context exists. */
  ready(): boolean;
  /** Every config in the store (for /debug/configz). */
  configs?(): unknown;
  /** Every service in the registry (for /debug/registryz). */
  registry?(): unknown;
}

export type SyncStatus = 'SYNCED' | 'STALE' | 'NOT_SENT';

export interface SyncTypeStatus {
  sent: string;
  acked: string;
  nonce: string;
  status: SyncStatus;
  nack?: { version: string; nonce: string; message: string; at: string };
}

export interface SyncEntry {
  proxy: string;
  conId: string;
  mode: string;
  istio_version: string;
  /** Short type (cds, eds, lds, rds) → state. */
  types: Record<string, SyncTypeStatus>;
}

const ENDPOINTS = ['/ready', '/debug/syncz', '/debug/adsz', '/debug/configz', '/debug/registryz', '/debug/config_dump?proxyID=', '/debug/push_status'];

function typeStatus(w: WatchState): SyncTypeStatus {
  const status: SyncStatus = w.versionSent === '' ? 'NOT_SENT' : w.versionAcked === w.versionSent ? 'SYNCED' : 'STALE';
  const s: SyncTypeStatus = { sent: w.versionSent, acked: w.versionAcked, nonce: w.nonceSent, status };
  if (w.nack) s.nack = { version: w.nack.version, nonce: w.nack.nonce, message: w.nack.message, at: new Date(w.nack.at).toISOString() };
  return s;
}

export function syncz(xds: XdsServer): SyncEntry[] {
  return xds.connections().map((c) => {
    const types: Record<string, SyncTypeStatus> = {};
    for (const w of c.watched.values()) types[shortType(w.typeUrl)] = typeStatus(w);
    return { proxy: c.proxy.id, conId: c.conId, mode: c.mode, istio_version: c.proxy.metadata.ISTIO_VERSION ?? '', types };
  });
}

export function adsz(xds: XdsServer): { totalClients: number; clients: unknown[] } {
  const clients = xds.connections().map((c) => ({
    conId: c.conId,
    node: c.proxy.id,
    peer: c.peer,
    mode: c.mode,
    connectedAt: c.connectedAt.toISOString(),
    proxy: { type: c.proxy.type, ips: c.proxy.ips, namespace: c.proxy.namespace, labels: c.proxy.labels, serviceAccount: c.proxy.serviceAccount, locality: c.proxy.locality, isGrpc: c.proxy.isGrpc, workloadGroup: c.proxy.metadata.WORKLOAD_GROUP },
    watches: Object.fromEntries(
      [...c.watched.values()].map((w) => [shortType(w.typeUrl), { typeUrl: w.typeUrl, wildcard: w.wildcard, names: [...w.names].sort(), versionSent: w.versionSent, versionAcked: w.versionAcked, nonceSent: w.nonceSent }]),
    ),
  }));
  return { totalClients: clients.length, clients };
}

/** Envoy admin ConfigDump-like JSON of what the connected proxy is (re)generated right now. */
export function configDump(xds: XdsServer, con: Connection): { configs: Record<string, unknown>[] } {
  const version = xds.currentPush().version;
  const configs: Record<string, unknown>[] = [];
  const view = (typeUrl: string): Record<string, unknown>[] => {
    const out: Record<string, unknown>[] = [];
    for (const r of xds.generate(con, typeUrl) ?? []) {
      const { ['@type']: _t, ...rest } = wireView(typeUrl, r.resource);
      out.push(rest);
    }
    return out;
  };
  const types = new Set(xds.typeUrls());
  if (types.has(TypeUrl.Cluster)) {
    configs.push({ '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump', version_info: version, dynamic_active_clusters: view(TypeUrl.Cluster).map((cluster) => ({ version_info: version, cluster: { '@type': TypeUrl.Cluster, ...cluster } })) });
  }
  if (types.has(TypeUrl.ClusterLoadAssignment)) {
    configs.push({ '@type': 'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump', dynamic_endpoint_configs: view(TypeUrl.ClusterLoadAssignment).map((e) => ({ version_info: version, endpoint_config: { '@type': TypeUrl.ClusterLoadAssignment, ...e } })) });
  }
  if (types.has(TypeUrl.Listener)) {
    configs.push({ '@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump', version_info: version, dynamic_listeners: view(TypeUrl.Listener).map((l) => ({ name: l.name, active_state: { version_info: version, listener: { '@type': TypeUrl.Listener, ...l } } })) });
  }
  if (types.has(TypeUrl.RouteConfiguration)) {
    configs.push({ '@type': 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump', dynamic_route_configs: view(TypeUrl.RouteConfiguration).map((r) => ({ version_info: version, route_config: { '@type': TypeUrl.RouteConfiguration, ...r } })) });
  }
  if (types.has(TypeUrl.Secret)) {
    configs.push({ '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump', dynamic_active_secrets: view(TypeUrl.Secret).map((s) => ({ name: s.name, version_info: version, secret: { '@type': TypeUrl.Secret, ...s } })) });
  }
  return { configs };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json' });
  res.end(text);
}

async function route(opts: DebugOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  switch (url.pathname) {
    case '/ready':
      return opts.ready() ? send(res, 200, 'ready\n') : send(res, 503, 'not ready: no push context yet\n');
    case '/debug':
    case '/debug/':
      return send(res, 200, { endpoints: ENDPOINTS });
    case '/debug/syncz':
      return send(res, 200, syncz(opts.xds));
    case '/debug/adsz':
      return send(res, 200, adsz(opts.xds));
    case '/debug/configz':
      return opts.configs ? send(res, 200, await opts.configs()) : send(res, 404, 'no config store\n');
    case '/debug/registryz':
      return opts.registry ? send(res, 200, await opts.registry()) : send(res, 404, 'no service registry\n');
    case '/debug/push_status':
      return send(res, 200, { lastPush: opts.xds.pushStatus ?? null, connections: opts.xds.connections().length });
    case '/debug/config_dump': {
      const id = url.searchParams.get('proxyID');
      if (!id) return send(res, 400, 'proxyID is required\n');
      const con = opts.xds.connection(id);
      if (!con) return send(res, 404, `proxy ${id} is not connected\n`);
      return send(res, 200, configDump(opts.xds, con));
    }
    default:
      return send(res, 404, `not found; endpoints: ${ENDPOINTS.join(' ')}\n`);
  }
}

/** Request handler of the debug port. */
export function debugHandler(opts: DebugOptions): RequestListener {
  return (req, res) => {
    route(opts, req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, `error: ${e instanceof Error ? e.message : String(e)}\n`);
      else res.destroy();
    });
  };
}

/** Request handler of the monitoring port: /metrics in Prometheus text format. */
export function metricsHandler(metrics: Metrics): RequestListener {
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== '/metrics') {
      send(res, 404, 'not found; try /metrics\n');
      return;
    }
    metrics.text().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.contentType });
        res.end(text);
      },
      (e: unknown) => send(res, 500, `error: ${e instanceof Error ? e.message : String(e)}\n`),
    );
  };
}

// The ADS server (istiod's DiscoveryServer): streams, proxies, pushes to affected connections through the push queue.
import * as grpc from '@grpc/grpc-js';
import { logger } from '../../shared/log.js';
import { PushOrder, TypeUrl, parseClusterName } from '../../xds/types.js';
import type { Generator, PushRequest, Resource } from '../generate/types.js';
import { proxyFromNode } from '../model/proxy.js';
import type { Proxy, PushContext } from '../model/types.js';
import type { DeltaRequest, DeltaResponse, SotwRequest, SotwResponse } from './ads-service.js';
import { adsServiceDefinition } from './ads-service.js';
import type { StreamMode } from './connection.js';
import { Connection } from './connection.js';
import type { ServerContext, TypePush, TypePushResult } from './context.js';
import { shortType } from './context.js';
import { handleDeltaRequest, pushDeltaType } from './delta.js';
import type { Metrics } from './metrics.js';
import { PushQueue } from './push-queue.js';
import type { EncodedResource } from './resource-cache.js';
import { ResourceCache } from './resource-cache.js';
import { handleSotwRequest, pushSotwType } from './sotw.js';

export interface XdsServerOptions {
  /** Generators by type URL (filled by the composition root). */
  generators: ReadonlyMap<string, Generator>;
  /** The current snapshot; used until the first push() and for requests. */
  getPush(): PushContext;
  metrics: Metrics;
  /** Called when a proxy's stream is established (e.g. WorkloadGroup auto-registration). */
  onConnect?(proxy: Proxy): void;
  /** Called when a proxy's stream ends. */
  onDisconnect?(proxy: Proxy): void;
  domainSuffix?: string;
  /** Connections pushed to at once (istiod's PILOT_PUSH_THROTTLE). */
  pushConcurrency?: number;
  /** control_plane.identifier in responses. */
  controlPlaneId?: string;
}

export interface PushStatus {
  version: string;
  full: boolean;
  reasons: readonly string[];
  configsUpdated: string[];
  servicesUpdated: string[];
  /** Connections the push was queued for. */
  connections: number;
  at: string;
}

const log = logger('ads');

export class XdsServer {
  private readonly conns = new Map<string, Connection>();
  private readonly cache = new ResourceCache();
  private readonly queue: PushQueue<Connection>;
  private readonly ctx: ServerContext;
  private current: PushContext | undefined;
  private lastPushStatus: PushStatus | undefined;

  constructor(private readonly opts: XdsServerOptions) {
    this.queue = new PushQueue((con, req) => this.pushConnection(con, req), opts.pushConcurrency ?? 100);
    this.ctx = {
      log,
      metrics: opts.metrics,
      controlPlane: { identifier: opts.controlPlaneId ?? 'isthmus' },
      currentPush: () => this.currentPush(),
      build: (con, typeUrl, names, push) => this.build(con, typeUrl, names, push),
      recordSend: (con, typeUrl, resources, startedAt) => this.recordSend(typeUrl, resources, startedAt),
    };
  }

  /** Adds the ADS service to a grpc-js server. */
  register(server: grpc.Server): void {
    server.addService(adsServiceDefinition(), {
      StreamAggregatedResources: (call: grpc.ServerDuplexStream<SotwRequest, SotwResponse>) => this.stream('sotw', call),
      DeltaAggregatedResources: (call: grpc.ServerDuplexStream<DeltaRequest, DeltaResponse>) => this.stream('delta', call),
    });
  }

  currentPush(): PushContext {
    this.current ??= this.opts.getPush();
    return this.current;
  }

  /** Connected streams, oldest first. */
  connections(): Connection[] {
    return [...this.conns.values()];
  }

  /** A connection by connection id, or the newest stream of a proxy by node id or `WORKLOAD.NAMESPACE` (istioctl's form). */
  connection(id: string): Connection | undefined {
    const byCon = this.conns.get(id);
    if (byCon) return byCon;
    let found: Connection | undefined;
    for (const c of this.conns.values()) {
      if (c.proxy.id === id || `${c.proxy.workloadName}.${c.proxy.namespace}` === id) found = c;
    }
    return found;
  }

  get pushStatus(): PushStatus | undefined {
    return this.lastPushStatus;
  }

  /** Resolves when every queued push has been written (tests, shutdown). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Pushes a new snapshot to the connections the request affects; pushes to one busy connection are merged. */
  push(push: PushContext, req: PushRequest): void {
    this.current = push;
    this.cache.begin(push.version);
    let n = 0;
    for (const con of this.conns.values()) {
      if (!this.affected(con, req)) continue;
      this.queue.enqueue(con, req);
      n++;
    }
    this.lastPushStatus = {
      version: push.version,
      full: req.full,
      reasons: req.reasons,
      configsUpdated: [...req.configsUpdated],
      servicesUpdated: [...req.servicesUpdated],
      connections: n,
      at: new Date().toISOString(),
    };
    log.debug('push', { version: push.version, full: req.full, connections: n, reasons: req.reasons.join(',') });
  }

  /** Full push: everyone. Endpoint-only: connections watching a cluster (EDS) of a changed host. */
  private affected(con: Connection, req: PushRequest): boolean {
    if (req.full) return con.watched.size > 0;
    const eds = con.watched.get(TypeUrl.ClusterLoadAssignment);
    if (!eds) return false;
    if (eds.wildcard) return true;
    for (const n of eds.names) {
      const host = parseClusterName(n)?.host;
      if (host !== undefined && req.servicesUpdated.has(host)) return true;
    }
    return false;
  }

  /** Generated resources for a connection as plain objects (debug config_dump). */
  generate(con: Connection, typeUrl: string): Resource[] | undefined {
    const gen = this.opts.generators.get(typeUrl);
    const w = con.watched.get(typeUrl);
    if (!gen) return undefined;
    const names = w && !w.wildcard ? [...w.names] : undefined;
    return gen.generate(con.proxy, this.currentPush(), names ? { names } : {});
  }

  /** Type URLs with a generator. */
  typeUrls(): string[] {
    const known = new Set(this.opts.generators.keys());
    return [...PushOrder.filter((t) => known.has(t)), ...[...known].filter((t) => !PushOrder.includes(t))];
  }

  /** Ends every stream with OK (clients reconnect elsewhere); used on shutdown before closing the gRPC server. */
  close(): void {
    for (const con of [...this.conns.values()]) {
      con.end();
      this.disconnect(con);
    }
  }

  private stream(mode: StreamMode, call: grpc.ServerDuplexStream<SotwRequest, SotwResponse> | grpc.ServerDuplexStream<DeltaRequest, DeltaResponse>): void {
    let con: Connection | undefined;
    let failed = false;
    const peer = call.getPeer();
    const cleanup = (): void => {
      if (con) this.disconnect(con);
    };
    call.on('data', (req: SotwRequest | DeltaRequest) => {
      if (failed || con?.closed) return;
      if (!con) {
        const proxy = req.node ? proxyFromNode(req.node, { domainSuffix: this.opts.domainSuffix }) : { error: 'the first request on an ADS stream must carry node' };
        if ('error' in proxy) {
          failed = true;
          log.warn('rejected ADS stream', { peer, error: proxy.error });
          call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: proxy.error, message: proxy.error });
          return;
        }
        con = new Connection(proxy, mode, call as grpc.ServerDuplexStream<unknown, unknown>, peer);
        this.connect(con);
      }
      try {
        if (mode === 'sotw') handleSotwRequest(this.ctx, con, req);
        else handleDeltaRequest(this.ctx, con, req);
      } catch (e) {
        log.error('request handling failed', { node: con.proxy.id, error: e instanceof Error ? e.message : String(e) });
      }
    });
    call.on('end', () => {
      cleanup();
      call.end();
    });
    call.on('error', cleanup);
    call.on('cancelled', cleanup);
    call.on('close', cleanup);
  }

  private connect(con: Connection): void {
    this.conns.set(con.conId, con);
    this.opts.metrics.xdsClients.set(this.conns.size);
    log.info('new ADS connection', { node: con.proxy.id, conId: con.conId, mode: con.mode, peer: con.peer });
    try {
      this.opts.onConnect?.(con.proxy);
    } catch (e) {
      log.error('onConnect hook failed', { node: con.proxy.id, error: e instanceof Error ? e.message : String(e) });
    }
  }

  private disconnect(con: Connection): void {
    if (!this.conns.delete(con.conId)) return;
    con.markClosed();
    this.queue.remove(con);
    this.opts.metrics.xdsClients.set(this.conns.size);
    log.info('ADS connection closed', { node: con.proxy.id, conId: con.conId });
    try {
      this.opts.onDisconnect?.(con.proxy);
    } catch (e) {
      log.error('onDisconnect hook failed', { node: con.proxy.id, error: e instanceof Error ? e.message : String(e) });
    }
  }

  private build(con: Connection, typeUrl: string, names: readonly string[] | undefined, push: PushContext): EncodedResource[] | undefined {
    const gen = this.opts.generators.get(typeUrl);
    if (!gen) return undefined;
    this.cache.begin(push.version);
    try {
      const resources = gen.generate(con.proxy, push, names ? { names } : {});
      return resources.map((r) => this.cache.encode(typeUrl, r));
    } catch (e) {
      log.error('xDS generation failed', { node: con.proxy.id, type: shortType(typeUrl), error: e instanceof Error ? e.message : String(e) });
      return undefined;
    }
  }

  private recordSend(typeUrl: string, resources: readonly EncodedResource[], startedAt: number): void {
    const type = shortType(typeUrl);
    const m = this.opts.metrics;
    m.xdsPushes.inc({ type });
    m.pushTime.observe({ type }, (performance.now() - startedAt) / 1000);
    let bytes = 0;
    for (const r of resources) bytes += r.any.value.length;
    m.configSize.observe({ type }, bytes);
  }

  /** One queued push to one connection: its watched types in Envoy's order, EDS only for endpoint pushes. */
  private async pushConnection(con: Connection, req: PushRequest): Promise<void> {
    if (con.closed) return;
    const push = this.currentPush();
    const only = req.full ? undefined : (name: string): boolean => {
      const host = parseClusterName(name)?.host;
      return host !== undefined && req.servicesUpdated.has(host);
    };
    const types = req.full ? orderedTypes(con) : con.watched.has(TypeUrl.ClusterLoadAssignment) ? [TypeUrl.ClusterLoadAssignment] : [];
    let sentAny = false;
    let cds: TypePushResult | undefined;
    for (const typeUrl of types) {
      const w = con.watched.get(typeUrl);
      if (!w) continue;
      const tp: TypePush = { push, forced: false, only };
      // Clusters CDS just updated wait for their endpoints again: resend their EDS.
      if (typeUrl === TypeUrl.ClusterLoadAssignment && cds?.sent) tp.resend = new Set(cds.names);
      const r = con.mode === 'sotw' ? pushSotwType(this.ctx, con, w, tp) : pushDeltaType(this.ctx, con, w, tp);
      if (typeUrl === TypeUrl.Cluster) cds = r;
      sentAny ||= r.sent;
    }
    if (sentAny) this.opts.metrics.convergence.observe(Math.max(0, Date.now() - req.start) / 1000);
    await con.flushed();
  }
}

function orderedTypes(con: Connection): string[] {
  const watched = [...con.watched.keys()];
  return [...PushOrder.filter((t) => con.watched.has(t)), ...watched.filter((t) => !PushOrder.includes(t))];
}

// Composition root of `isthmus proxy sidecar|router` (pilot-agent + Envoy): admin 15000, agent 15020/15021, the xDS
// client and ConfigSource, cluster manager, network handler factory and listener manager; lifecycle
// PRE_INITIALIZING → INITIALIZING → LIVE → DRAINING, SIGTERM drain, JSON lines on stdout for supervisors and tests.
import cluster from 'node:cluster';
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { ErrorCode, MeshError } from '../shared/errors.js';
import type { LogLevel } from '../shared/log.js';
import { configureLogging, logger } from '../shared/log.js';
import type { AdminBackend, RawConfigView, ServerState, XdsStatus } from './admin/backend.js';
import { adminHandler } from './admin/handler.js';
import type { AdminHandler } from './admin/http.js';
import { closeHttp, serveHttp } from './admin/http.js';
import { readinessHandler, statusHandler } from './agent/health.js';
import type { ProxyOptions } from './agent/options.js';
import type { FromWorker } from './agent/workers.js';
import { runPrimary, serveAdminOverIpc } from './agent/workers.js';
import { nodeOptions } from './agent/options.js';
import type { OriginalDstHook } from './listener/original-dst.js';
import { ListenerManager } from './listener/manager.js';
import type { SecretProvider } from './listener/tls.js';
import type { ClusterManager, ConfigSource, NetworkHandlerFactory } from './runtime/contracts.js';
import { AccessLogSinks, TimerWheel, createHttpHandler } from './http/index.js';
import { createTcpHandler } from './tcp/index.js';
import { UpstreamClusters } from './upstream/index.js';
import { AdsClient } from './xds-client/ads-client.js';
import { Stats } from './telemetry/stats.js';
import type { ProxyNodeOptions } from './xds-client/node.js';
import { nodeMetadata, proxyNodeId } from './xds-client/node.js';

const log = logger('proxy');

export const PROXY_VERSION = '0.1.0';

/** The xDS side as main needs it: a ConfigSource plus readiness, status and (optionally) raw resources. */
export interface XdsConnection {
  source: ConfigSource;
  /** Resolves once the first full config is applied (LDS + CDS received, nothing warming). */
  ready: Promise<void>;
  status(): XdsStatus;
  raw?: RawConfigView;
  close(): void | Promise<void>;
}

export interface ClosableClusterManager extends ClusterManager {
  close?(): void | Promise<void>;
}

/** The parts other layers build; main wires them. Tests pass fakes. */
export interface ProxyComponents {
  connectXds(o: ProxyOptions, node: ProxyNodeOptions, stats: Stats): XdsConnection;
  clusterManager(source: ConfigSource, stats: Stats, o: ProxyOptions, local?: { isOwnAddress(address: string, port: number): boolean }): ClosableClusterManager | undefined;
  handlers(deps: { source: ConfigSource; clusters: ClusterManager | undefined; stats: Stats; options: ProxyOptions }): NetworkHandlerFactory;
  secrets?: SecretProvider;
  originalDst?: OriginalDstHook;
  /** Releases shared resources (timer wheel, access-log files) after the proxy stopped. */
  close?(): void;
}

export interface RunProxyOptions {
  options: ProxyOptions;
  components: ProxyComponents;
  /** Where the JSON event lines go (default process.stdout). */
  stdout?: { write(s: string): unknown };
  /** Install SIGTERM/SIGINT handlers (default true). */
  handleSignals?: boolean;
  /** Worker processes (concurrency > 1) run without admin/agent endpoints; the primary serves them. */
  endpoints?: boolean;
  /** Called when /quitquitquit or a signal ends the proxy (after cleanup), with the exit status. */
  onExit?: (code: number) => void;
  /** Called once, when the first full config is applied (right after the `ready` line). */
  onReady?: () => void;
}

export interface RunningProxy {
  readonly adminAddress?: string;
  readonly statusAddress?: string;
  readonly readinessAddress?: string;
  readonly stats: Stats;
  readonly listeners: ListenerManager;
  readonly backend: AdminBackend;
  /** The admin request handler (workers answer the primary's forwarded admin requests with it). */
  readonly admin: AdminHandler;
  state(): ServerState;
  /** SIGTERM behaviour: DRAINING (readiness fails), stop accepting, drain up to the drain duration, close. */
  shutdown(opts?: { drain?: boolean }): Promise<void>;
  /** Resolves when the proxy has shut down. */
  readonly done: Promise<void>;
}

/** Starts the proxy. Resolves once the admin endpoints are bound (the `started` line was printed). */
export async function runProxy(r: RunProxyOptions): Promise<RunningProxy> {
  const o = r.options;
  const out = r.stdout ?? process.stdout;
  const startedAt = Date.now();
  const node = nodeOptions(o, PROXY_VERSION);
  const stats = new Stats();
  let state: ServerState = 'PRE_INITIALIZING';
  let level: LogLevel = o.logLevel;
  let ready = false;
  // Built after the endpoints are bound; closures below may run earlier (e.g. /quitquitquit), so they look here.
  const parts: { xds?: XdsConnection; clusters?: ClosableClusterManager; handlers?: NetworkHandlerFactory } = {};
  let shuttingDown: Promise<void> | undefined;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((res) => (resolveDone = res));
  const servers: Server[] = [];

  const listeners = new ListenerManager({
    factory: {
      http: (c) => factory().http(c),
      tcp: (c) => factory().tcp(c),
    },
    stats,
    drainMs: o.listenerDrainMs,
    ...(r.components.secrets ? { secrets: r.components.secrets } : {}),
    ...(r.components.originalDst ? { originalDst: r.components.originalDst } : {}),
  });
  const factory = (): NetworkHandlerFactory => {
    if (!parts.handlers) throw new Error('network handlers are not ready');
    return parts.handlers;
  };

  const shutdown = (opts: { drain?: boolean } = {}): Promise<void> => {
    shuttingDown ??= (async () => {
      state = 'DRAINING';
      if (opts.drain !== false) {
        log.info('draining', { drainMs: o.drainDurationMs });
        await listeners.drainListeners(o.drainDurationMs);
      }
      await listeners.close();
      try {
        await parts.xds?.close();
        await parts.clusters?.close?.();
      } catch (e) {
        log.warn('error while shutting down', { error: e instanceof Error ? e.message : String(e) });
      }
      r.components.close?.();
      await Promise.all(servers.map((s) => closeHttp(s)));
      out.write(JSON.stringify({ event: 'stopped' }) + '\n');
      resolveDone();
    })();
    return shuttingDown;
  };

  const backend: AdminBackend = {
    state: () => state,
    configReady: () => ready,
    startedAt,
    node: nodeView(node),
    options: { ...o, drain_time: `${o.drainDurationMs / 1000}s` },
    stats,
    xdsStatus: () => parts.xds?.status(),
    snapshot: () => parts.xds?.source.current(),
    rawConfig: () => parts.xds?.raw,
    clusters: () => parts.clusters,
    listeners: () => listeners.status(),
    logLevel: () => level,
    setLogLevel: (l) => {
      level = l;
      configureLogging({ level: l });
    },
    drainListeners: async ({ inboundOnly, graceful }) => {
      if (graceful) state = 'DRAINING';
      await listeners.drainListeners(o.drainDurationMs, inboundOnly ? (l) => l.trafficDirection === 'INBOUND' : undefined);
    },
    quit: () => {
      void shutdown({ drain: false }).then(() => r.onExit?.(0));
    },
  };
  const admin = adminHandler(backend, `isthmus/${PROXY_VERSION}`);

  // Endpoints first, so a supervisor can watch the proxy come up.
  const addrs: { admin?: string; status?: string; readiness?: string } = {};
  if (r.endpoints !== false) {
    try {
      const a = await serveHttp(o.adminAddr, 'admin', admin);
      servers.push(a.server);
      addrs.admin = a.address;
      const s = await serveHttp(o.statusAddr, 'status', statusHandler(backend));
      servers.push(s.server);
      addrs.status = s.address;
      const rd = await serveHttp(o.readinessAddr, 'readiness', readinessHandler(backend));
      servers.push(rd.server);
      addrs.readiness = rd.address;
    } catch (e) {
      await Promise.all(servers.map((s) => closeHttp(s)));
      throw e;
    }
  }

  if (!shuttingDown) {
    state = 'INITIALIZING';
    const xds = r.components.connectXds(o, node, stats);
    parts.xds = xds;
    const clusters = r.components.clusterManager(xds.source, stats, o, { isOwnAddress: (a, p) => listeners.ownsAddress(a, p) });
    if (clusters) parts.clusters = clusters;
    parts.handlers = r.components.handlers({ source: xds.source, clusters, stats, options: o });
    out.write(JSON.stringify({ event: 'started', admin: addrs.admin ?? null, status: addrs.status ?? null, readiness: addrs.readiness ?? null, pid: process.pid }) + '\n');
    listeners.follow(xds.source);
    void xds.ready.then(async () => {
      if (shuttingDown) return;
      await listeners.apply(xds.source.current());
      if (shuttingDown) return;
      ready = true;
      if (state !== 'DRAINING') state = 'LIVE';
      const bound: Record<string, string> = {};
      for (const l of listeners.status()) if (l.boundAddress) bound[l.name] = `${l.boundAddress.address}:${l.boundAddress.port}`;
      log.info('proxy is ready', { listeners: Object.keys(bound).length });
      out.write(JSON.stringify({ event: 'ready', listeners: bound }) + '\n');
      r.onReady?.();
    });
  }

  if (r.handleSignals !== false) {
    const onSignal = (sig: NodeJS.Signals): void => {
      log.info('signal received, draining', { signal: sig });
      void shutdown({ drain: true }).then(() => r.onExit?.(0));
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    void done.then(() => {
      process.removeListener('SIGTERM', onSignal);
      process.removeListener('SIGINT', onSignal);
    });
  }

  return {
    ...(addrs.admin ? { adminAddress: addrs.admin } : {}),
    ...(addrs.status ? { statusAddress: addrs.status } : {}),
    ...(addrs.readiness ? { readinessAddress: addrs.readiness } : {}),
    stats,
    listeners,
    backend,
    admin,
    state: () => state,
    shutdown,
    done,
  };
}

/** The xDS Node as /server_info and /config_dump show it (metadata as plain JSON). */
function nodeView(n: ProxyNodeOptions): Record<string, unknown> {
  const loc = n.locality ?? {};
  return {
    id: proxyNodeId(n),
    cluster: n.cluster ?? `${n.labels?.app ?? n.podName}.${n.namespace}`,
    metadata: nodeMetadata(n),
    locality: { ...(loc.region ? { region: loc.region } : {}), ...(loc.zone ? { zone: loc.zone } : {}), ...(loc.subZone ? { sub_zone: loc.subZone } : {}) },
    user_agent_name: 'isthmus',
    user_agent_version: PROXY_VERSION,
  };
}

/** How long a stopped proxy process may linger (stray handles) before it exits anyway. */
const EXIT_GRACE_MS = 2_000;

/**
 * Runs the proxy as this process: with --concurrency > 1 the primary supervises node:cluster workers (see
 * agent/workers.ts), each worker and the single-process proxy run runProxy with the real layers. Resolves with the
 * exit status once stopped, and makes sure the process really exits soon after.
 */
export async function runProxyProcess(o: ProxyOptions, out: { write(s: string): unknown } = process.stdout, hooks: { onReady?: () => void } = {}): Promise<number> {
  if (o.concurrency > 1 && cluster.isPrimary) {
    const code = await runPrimary(o, out);
    setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
    return code;
  }
  const worker = cluster.isWorker;
  const ipcOut = {
    write: (s: string): boolean => {
      for (const line of s.split('\n').filter((l) => l.startsWith('{'))) {
        const ev = JSON.parse(line) as { event?: string; listeners?: Record<string, string> };
        if (ev.event === 'ready') process.send?.({ type: 'ready', listeners: ev.listeners ?? {} } satisfies FromWorker);
      }
      return true;
    },
  };
  const components = realComponents();
  const p = await runProxy({ options: o, components, endpoints: !worker, stdout: worker ? ipcOut : out, ...(hooks.onReady ? { onReady: hooks.onReady } : {}) });
  const stopIpc = worker ? serveAdminOverIpc(p.admin) : undefined;
  await p.done;
  stopIpc?.();
  if (worker) process.disconnect?.();
  setTimeout(() => process.exit(0), EXIT_GRACE_MS).unref();
  return 0;
}

/**
 * The real layers: the ADS client + XdsConfigSource, UpstreamClusters, the HTTP connection manager (one per HCM
 * filter chain) and the TCP proxy (one per tcp_proxy chain), sharing one timer wheel and one access-log registry.
 */
export function realComponents(): ProxyComponents {
  const timers = new TimerWheel();
  const logSinks = new AccessLogSinks();
  return {
    connectXds: (o, node) => {
      const client = new AdsClient({ server: o.discoveryAddress, node, delta: o.delta });
      client.start();
      return {
        source: client.source,
        ready: client.source.ready,
        status: () => {
          const { lastError, server, ...rest } = client.state();
          const status: XdsStatus = { ...rest, address: server };
          if (lastError) {
            status.lastError = lastError.message;
            status.lastErrorAt = new Date(lastError.at).toISOString();
          }
          return status;
        },
        close: () => client.close(),
      };
    },
    clusterManager: (source, stats, _o, local) => new UpstreamClusters({ config: source, stats, ...(local ? { isOwnAddress: (a: string, p: number) => local.isOwnAddress(a, p) } : {}) }),
    handlers: ({ source, clusters, stats, options }) => ({
      http: (config) => {
        if (!clusters) throw new MeshError(ErrorCode.Internal, 'no cluster manager');
        return createHttpHandler(config, { config: source, clusters, stats, timers, logSinks, nodeInfo: { id: proxyNodeId(nodeOptions(options, PROXY_VERSION)), hostname: hostname() } });
      },
      tcp: (config) => {
        if (!clusters) throw new MeshError(ErrorCode.Internal, 'no cluster manager');
        return createTcpHandler(config, { clusters, stats, logSinks });
      },
    }),
    close: () => {
      timers.close();
      logSinks.close();
    },
  };
}

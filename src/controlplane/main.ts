// Composition root of `isthmus discovery` (istiod): config store + file watcher → registry → debounced PushContext →
// xDS server on gRPC, plus the debug and monitoring HTTP servers, and a clean shutdown on SIGTERM/SIGINT.
import { configKey, type Kind } from '../api/config.js';
import { logger } from '../shared/log.js';
import { Tunables, fromEnv } from '../shared/tunables.js';
import { FileConfigSource } from './configstore/file.js';
import { ConfigStore } from './configstore/store.js';
import type { Generator, PushRequest } from './generate/types.js';
import { Debouncer } from './model/debounce.js';
import { buildPushContext } from './model/push-context.js';
import type { MeshConfig, PushContext } from './model/types.js';
import { ServiceRegistry } from './registry/registry.js';
import { debugHandler, metricsHandler } from './server/debug.js';
import { closeHttp, listenGrpc, listenHttp, parseAddr, shutdownGrpc } from './server/listen.js';
import { Metrics } from './server/metrics.js';
import { XdsServer } from './server/xds-server.js';

const log = logger('discovery');

export interface DiscoveryOptions {
  /** Directories of Istio YAML/JSON, watched recursively. */
  configDirs: readonly string[];
  /** Listen addresses (`host:port`, port 0 = any); defaults from the environment, then Tunables. */
  grpcAddr?: string;
  httpAddr?: string;
  monitoringAddr?: string;
  /** DNS domain suffix (default cluster.local). */
  domain?: string;
  /** Mesh-wide settings (meshConfig: access logging). */
  mesh?: MeshConfig;
  /** Environment for tunables (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Where the ready line goes (default process.stdout). */
  stdout?: { write(s: string): unknown };
  /** Install SIGTERM/SIGINT handlers that shut down (default true). */
  handleSignals?: boolean;
  /** Generators by type URL (default: generate/index.ts defaultGenerators()). */
  generators?: Map<string, Generator>;
}

export interface Discovery {
  grpcAddress: string;
  httpAddress: string;
  monitoringAddress: string;
  xds: XdsServer;
  metrics: Metrics;
  store: ConfigStore;
  /** The snapshot being served. */
  push(): PushContext;
  /** Stops everything (idempotent); resolves when all listeners are closed. */
  close(): Promise<void>;
  /** Resolves after close() completes (by a call or a signal). */
  readonly done: Promise<void>;
}

/** Keys handled by the registry (it decides between a full and an endpoint-only push). */
const REGISTRY_KINDS: ReadonlySet<Kind> = new Set<Kind>(['ServiceEntry', 'WorkloadEntry']);

/** Starts the control plane; prints one JSON ready line with the bound addresses once everything listens. */
export async function runDiscovery(opts: DiscoveryOptions): Promise<Discovery> {
  const env = opts.env ?? process.env;
  const domainSuffix = opts.domain ?? fromEnv(Tunables.domainSuffix, env);
  const grpcAddr = opts.grpcAddr ?? fromEnv(Tunables.grpcAddr, env);
  const httpAddr = opts.httpAddr ?? fromEnv(Tunables.httpAddr, env);
  const monitoringAddr = opts.monitoringAddr ?? fromEnv(Tunables.monitoringAddr, env);
  for (const a of [grpcAddr, httpAddr, monitoringAddr]) parseAddr(a); // usage errors before anything starts
  const closers: (() => void | Promise<void>)[] = [];
  const runClosers = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) {
      try {
        await c();
      } catch (e) {
        log.warn('error while shutting down', { error: e instanceof Error ? e.message : String(e) });
      }
    }
  };

  try {
    const metrics = new Metrics({ processMetrics: true });
    const store = new ConfigStore({ onRejected: (r) => metrics.configRejected(r.key?.split('/')[0] ?? 'unknown', r.reason) });
    closers.push(store.subscribe((ev) => metrics.configEvent(ev.kind, ev.type)));
    const files = new FileConfigSource(opts.configDirs, store);
    closers.push(() => files.close());
    await files.start();

    const registry = new ServiceRegistry({ store, domainSuffix, autoRegistrationGraceMs: fromEnv(Tunables.autoRegistrationGraceMs, env) });
    closers.push(() => registry.close());

    let pushCount = 0;
    const newVersion = (): string => `${new Date().toISOString()}/${++pushCount}`;
    let current: PushContext = buildPushContext({ store, registry, domainSuffix, version: newVersion(), mesh: opts.mesh ?? {} });

    const patchErrorsSeen = new Set<string>();
    const generators =
      opts.generators ??
      (await import('./generate/index.js')).defaultGenerators({
        onPatchError: (e) => {
          metrics.envoyFilterErrors.inc({ name: e.filter });
          // Generation repeats per proxy and push: log each distinct problem once.
          const key = `${e.filter}\n${e.path}\n${e.message}`;
          if (patchErrorsSeen.has(key) || patchErrorsSeen.size > 1000) return;
          patchErrorsSeen.add(key);
          log.warn('EnvoyFilter patch not applied', { filter: e.filter, path: e.path, error: e.message });
        },
      });
    const xds = new XdsServer({
      generators,
      getPush: () => current,
      metrics,
      domainSuffix,
      onConnect: (proxy) => {
        // A proxy that auto-registers gets a WorkloadEntry, which only reaches its inbound config (and other proxies'
        // endpoints) through the next snapshot: ask for one even when no ServiceEntry selects the new entry yet.
        const entry = registry.autoRegister(proxy);
        if (entry) debouncer.enqueue({ full: true, configsUpdated: new Set([configKey(entry.meta)]), servicesUpdated: new Set(), reasons: ['proxy'], start: Date.now() });
      },
      onDisconnect: (proxy) => registry.disconnect(proxy),
    });

    const debouncer = new Debouncer({
      debounceAfterMs: fromEnv(Tunables.debounceAfterMs, env),
      debounceMaxMs: fromEnv(Tunables.debounceMaxMs, env),
      onPush: (req: PushRequest) => {
        current = buildPushContext({ store, registry, domainSuffix, version: newVersion(), mesh: opts.mesh ?? {} });
        log.info('push', { version: current.version, full: req.full, reasons: req.reasons.join(','), configs: req.configsUpdated.size, services: req.servicesUpdated.size });
        xds.push(current, req);
      },
    });
    closers.push(() => debouncer.close());
    const unsubStore = store.subscribe((ev) => {
      if (REGISTRY_KINDS.has(ev.kind)) return;
      debouncer.enqueue({ full: true, configsUpdated: new Set([ev.key]), servicesUpdated: new Set(), reasons: ['config'], start: Date.now() });
    });
    closers.push(unsubStore);
    const unsubRegistry = registry.subscribe((ev) => {
      if (!ev.full && ev.servicesUpdated.size === 0) return;
      debouncer.enqueue({ full: ev.full, configsUpdated: ev.configsUpdated, servicesUpdated: ev.servicesUpdated, reasons: [ev.reason], start: Date.now() });
    });
    closers.push(unsubRegistry);

    const grpc = await listenGrpc(xds, grpcAddr);
    closers.push(async () => {
      xds.close();
      await shutdownGrpc(grpc.server, 2000);
    });
    const debug = await listenHttp(
      debugHandler({
        xds,
        ready: () => current !== undefined,
        // Auto-registered WorkloadEntries live in the registry, not in files; istiod lists them with the rest.
        configs: () => [...store.all(), ...registry.snapshot().autoRegistered],
        registry: () => registryDump(registry),
      }),
      httpAddr,
      'debug',
    );
    closers.push(() => closeHttp(debug.server));
    const mon = await listenHttp(metricsHandler(metrics), monitoringAddr, 'monitoring');
    closers.push(() => closeHttp(mon.server));

    let resolveDone: () => void = () => undefined;
    const done = new Promise<void>((r) => (resolveDone = r));
    let closing: Promise<void> | undefined;
    const close = (): Promise<void> => {
      closing ??= (async () => {
        log.info('shutting down');
        await runClosers();
        log.info('stopped');
        resolveDone();
      })();
      return closing;
    };
    if (opts.handleSignals ?? true) {
      const onSignal = (sig: NodeJS.Signals): void => {
        if (closing) {
          log.warn('second signal, exiting now', { signal: sig });
          process.exit(1);
        }
        log.info('signal received', { signal: sig });
        void close();
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      closers.unshift(() => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      });
    }

    const ready = { event: 'ready', grpc: grpc.address, http: debug.address, monitoring: mon.address };
    (opts.stdout ?? process.stdout).write(JSON.stringify(ready) + '\n');
    log.info('discovery ready', { ...ready, version: current.version, configs: store.all().length, services: current.services.length, dirs: opts.configDirs });
    return {
      grpcAddress: grpc.address,
      httpAddress: debug.address,
      monitoringAddress: mon.address,
      xds,
      metrics,
      store,
      push: () => current,
      close,
      done,
    };
  } catch (e) {
    await runClosers();
    throw e;
  }
}

/** /debug/registryz: every service with its endpoints (Sets as sorted lists). */
function registryDump(registry: ServiceRegistry): unknown {
  const snap = registry.snapshot();
  return snap.services.map((s) => ({ ...s, exportTo: [...s.exportTo].sort(), endpoints: snap.endpoints(s) }));
}

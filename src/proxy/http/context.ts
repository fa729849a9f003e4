// What every request of one HTTP connection manager shares: its config, dependencies, compiled filters, stats,
// timers and access logs (built once per handler, read on the hot path).
import type { ClusterManager, ConfigSource } from '../runtime/contracts.js';
import type { HttpConnectionManagerConfig, RouteTable } from '../runtime/types.js';
import type { AccessLogFormatter } from './access-log.js';
import type { Exchange } from './exchange.js';
import type { ClusterStatsCache, HcmStats } from './http-stats.js';
import type { LineSink } from './log-writer.js';
import type { TimerWheel } from './timer-wheel.js';

/** Identity of this proxy, for logs and headers. */
export interface NodeInfo {
  /** Envoy node id (sidecar~10.0.0.1~pod.ns~ns.svc.cluster.local). */
  id?: string;
  /** Host name for %HOSTNAME%. */
  hostname?: string;
  /** This workload's SPIFFE identity, for x-forwarded-client-cert By=. */
  spiffeId?: string;
}

/** One HTTP filter, compiled at handler creation. decodeHeaders returns false when it stopped the chain. */
export interface HttpFilterImpl {
  readonly name: string;
  decodeHeaders(ex: Exchange): boolean;
}

export interface HcmContext {
  readonly config: HttpConnectionManagerConfig;
  readonly configSource: ConfigSource;
  readonly clusters: ClusterManager;
  readonly stats: HcmStats;
  readonly clusterStats: ClusterStatsCache;
  readonly filters: readonly HttpFilterImpl[];
  readonly timers: TimerWheel;
  /** [0, 1) — injectable for tests of percentages. */
  readonly random: () => number;
  /** Wall clock, epoch ms (START_TIME, token buckets). */
  readonly now: () => number;
  readonly accessLogs: readonly { format: AccessLogFormatter; sink: LineSink }[];
  /** `server` header on every response (Envoy's server_name; default "envoy"). */
  readonly serverName: string;
  readonly nodeInfo: NodeInfo;
  /** Request body bytes kept for retries/shadows (Envoy per_request_buffer_limit_bytes). */
  readonly bufferLimit: number;
  /** Draining: HTTP/1 responses carry `connection: close`. */
  readonly draining: boolean;
  /** The current route table (RDS by name, or inline). */
  routeTable(): RouteTable | undefined;
  /** A bug surfaced while handling a request (logged, rate-limited); the request gets a 500 or a reset. */
  onInternalError(err: unknown): void;
}

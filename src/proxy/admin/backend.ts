// What the admin (15000) and agent (15020/15021) endpoints read and control: one interface the composition root
// implements over the running proxy (listener manager, cluster manager, config source, stats, lifecycle).
import type { LogLevel } from '../../shared/log.js';
import type { ClusterManager } from '../runtime/contracts.js';
import type { ConfigSnapshot } from '../runtime/types.js';
import type { Stats } from '../telemetry/stats.js';
import type { ListenerStatus } from '../listener/manager.js';

/** Envoy's server states (admin /server_info `state`, stat `server.state`: LIVE 0, DRAINING 1, PRE_INITIALIZING 2, INITIALIZING 3). */
export type ServerState = 'LIVE' | 'DRAINING' | 'PRE_INITIALIZING' | 'INITIALIZING';
export const SERVER_STATE_CODE: Record<ServerState, number> = { LIVE: 0, DRAINING: 1, PRE_INITIALIZING: 2, INITIALIZING: 3 };

/** One ACKed (or rejected) xDS resource as received: the raw proto JSON view (snake_case, `@type` on Anys). */
export interface RawResource {
  name: string;
  version: string;
  resource: Record<string, unknown>;
  lastUpdated?: Date;
}

/** A resource the proxy NACKed (Envoy's error_state in config_dump). */
export interface RejectedResource {
  name: string;
  version: string;
  details: string;
  resource?: Record<string, unknown>;
  lastUpdateAttempt?: Date;
}

/** Raw xDS resources per type URL, kept by the xDS client for /config_dump (optional: runtime objects otherwise). */
export interface RawConfigView {
  resources(typeUrl: string): RawResource[];
  rejected?(typeUrl: string): RejectedResource[];
}

/** The xDS client's connection state, shown in /server_info and used by readiness messages. */
export interface XdsStatus {
  connected: boolean;
  address: string;
  /** Last connection or stream error. */
  lastError?: string;
  /** Anything else the client wants to show (nonces, versions, reconnect attempts...). */
  [k: string]: unknown;
}

/** The proxy as the admin endpoints see it. */
export interface AdminBackend {
  state(): ServerState;
  /** First full config applied (ConfigSource ready); readiness also needs state LIVE. */
  configReady(): boolean;
  readonly startedAt: number;
  /** The xDS Node sent to the control plane (id, cluster, metadata, locality, user agent). */
  readonly node: Record<string, unknown>;
  /** Command-line options, for /server_info. */
  readonly options: Record<string, unknown>;
  readonly stats: Stats;
  xdsStatus(): XdsStatus | undefined;
  snapshot(): ConfigSnapshot | undefined;
  rawConfig(): RawConfigView | undefined;
  clusters(): ClusterManager | undefined;
  listeners(): ListenerStatus[];
  logLevel(): LogLevel;
  setLogLevel(level: LogLevel): void;
  /** Stop accepting and drain (Envoy's /drain_listeners; `graceful` also marks the server DRAINING). */
  drainListeners(opts: { inboundOnly: boolean; graceful: boolean }): Promise<void>;
  /** Exit the process (Envoy's /quitquitquit). */
  quit(): void;
}

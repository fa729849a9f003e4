// The contract between generators and the xDS server: a generator is a pure function of (proxy, snapshot, request).
import type { Proxy, PushContext } from '../model/types.js';

/** One xDS resource as a plain object with proto field names (nested Any as {'@type': url, ...fields}). */
export interface Resource {
  name: string;
  resource: Record<string, unknown>;
}

export interface GenerateRequest {
  /** Resource names the proxy subscribed to (named types: RDS, EDS; and LDS for proxyless gRPC). Undefined = wildcard. */
  names?: readonly string[];
}

export interface Generator {
  readonly typeUrl: string;
  generate(proxy: Proxy, push: PushContext, request: GenerateRequest): Resource[];
}

/** What changed, so the server pushes only what is needed to whom it concerns. */
export interface PushRequest {
  /** A full push regenerates every type; false means only endpoints (EDS) changed. */
  full: boolean;
  /** Keys (`Kind/namespace/name`) of configs that changed; empty on a full push for unknown reasons. */
  configsUpdated: ReadonlySet<string>;
  /** Hostnames whose endpoints changed (for EDS-only pushes). */
  servicesUpdated: ReadonlySet<string>;
  /** Why, for logs and metrics: config, endpoint, proxy, debug, ... */
  reasons: readonly string[];
  /** When the first event of this (debounced) push happened, for convergence time. */
  start: number;
}

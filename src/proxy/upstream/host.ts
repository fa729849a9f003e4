// One upstream endpoint of a cluster: identity, LB attributes, health, outlier state, counters and its pools.
import { isIPv6 } from 'node:net';
import type { HostStatus } from '../runtime/contracts.js';
import type { Endpoint } from '../runtime/types.js';
import type { LbEntry } from './lb/priority.js';

/** Closes gracefully (after in-flight work) or at once; implemented by the HTTP pools. */
export interface HostPoolLike {
  drain(): Promise<void>;
  destroy(): void;
  readonly idle: boolean;
}

/** `address:port`, IPv6 in brackets (Envoy's host address format). */
export function hostKey(address: string, port: number): string {
  return isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}

export class Host implements LbEntry {
  readonly key: string;
  weight: number;
  locality: string;
  localityWeight: number;
  priority: number;
  health: Endpoint['health'];
  metadata: Record<string, unknown> | undefined;
  hostname: string | undefined;

  // Outlier detection state (owned by OutlierDetector).
  ejected = false;
  consecutive5xx = 0;
  consecutiveGatewayFailure = 0;
  consecutiveLocalOriginFailure = 0;
  numEjections = 0;
  lastEjectionTime = 0;

  activeRequests = 0;
  activeConnections = 0;
  totalRequests = 0;
  totalErrors = 0;
  /** Last time a request or connection used this host (ORIGINAL_DST cleanup). */
  lastUsed = 0;
  /** No longer in the cluster's host set; pools drain and close. */
  removed = false;

  /** HTTP/1.1 and HTTP/2 connection pools, created on first use. */
  h1: HostPoolLike | undefined;
  h2: HostPoolLike | undefined;

  constructor(
    readonly address: string,
    readonly port: number,
    attrs: { weight: number; locality: string; localityWeight: number; priority: number; health: Endpoint['health']; metadata?: Record<string, unknown>; hostname?: string },
  ) {
    this.key = hostKey(address, port);
    this.weight = attrs.weight;
    this.locality = attrs.locality;
    this.localityWeight = attrs.localityWeight;
    this.priority = attrs.priority;
    this.health = attrs.health;
    this.metadata = attrs.metadata;
    this.hostname = attrs.hostname;
  }

  /** EDS health: HEALTHY/UNKNOWN/DEGRADED are usable; UNHEALTHY/DRAINING/TIMEOUT are not. */
  get healthy(): boolean {
    const h = this.health;
    return h === 'HEALTHY' || h === 'UNKNOWN' || h === 'DEGRADED';
  }

  get available(): boolean {
    return !this.ejected && this.healthy;
  }

  status(): HostStatus {
    return {
      key: this.key,
      address: this.address,
      port: this.port,
      weight: this.weight,
      locality: this.locality,
      priority: this.priority,
      healthy: this.healthy,
      ejected: this.ejected,
      activeRequests: this.activeRequests,
      activeConnections: this.activeConnections,
      totalRequests: this.totalRequests,
      totalErrors: this.totalErrors,
    };
  }

  /** Drains both pools (in-flight requests finish on them), then forgets them. */
  async drainPools(): Promise<void> {
    const pools = [this.h1, this.h2].filter((p): p is HostPoolLike => p !== undefined);
    await Promise.all(pools.map((p) => p.drain()));
  }

  destroyPools(): void {
    this.h1?.destroy();
    this.h2?.destroy();
  }
}

// The ClusterManager: follows ConfigSnapshots. A cluster whose hash is unchanged is kept (pools, LB, outlier
// state) and only gets new endpoints; a changed cluster is replaced and the old one drained (in-flight requests
// finish on its pools, which then close); a removed cluster is drained the same way.
import type { ClusterManager, ConfigSource } from '../runtime/contracts.js';
import type { ConfigSnapshot } from '../runtime/types.js';
import type { Stats } from '../telemetry/stats.js';
import { logger } from '../../shared/log.js';
import { ClusterImpl } from './cluster.js';
import { realTimers, systemDns, type DnsLookup, type SecretLookup, type Timers, type UpstreamEnv } from './deps.js';
import type { Random } from './lb/types.js';

const log = logger('upstream');

export interface UpstreamClustersOptions {
  config: ConfigSource;
  stats: Stats;
  timers?: Timers;
  random?: Random;
  dns?: DnsLookup;
  /** SDS secrets for upstream TLS (certificate rotation is picked up by new connections). */
  secrets?: SecretLookup;
  /** Addresses of the proxy's own listeners (ListenerManager.ownsAddress), refused as passthrough destinations. */
  isOwnAddress?: (address: string, port: number) => boolean;
}

export class UpstreamClusters implements ClusterManager {
  private clusters = new Map<string, ClusterImpl>();
  private readonly draining = new Set<Promise<void>>();
  private readonly retired = new Set<ClusterImpl>();
  private readonly env: UpstreamEnv;
  private readonly stats: Stats;
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(opts: UpstreamClustersOptions) {
    this.stats = opts.stats;
    this.env = { timers: opts.timers ?? realTimers, random: opts.random ?? Math.random, dns: opts.dns ?? systemDns, secrets: opts.secrets, isOwnAddress: opts.isOwnAddress };
    this.apply(opts.config.current());
    this.unsubscribe = opts.config.subscribe((s) => this.apply(s));
  }

  get(name: string): ClusterImpl | undefined {
    return this.clusters.get(name);
  }

  all(): ClusterImpl[] {
    return [...this.clusters.values()];
  }

  /** Reconciles the running clusters with a snapshot (called on every accepted update). */
  apply(snapshot: ConfigSnapshot): void {
    if (this.closed) return;
    const next = new Map<string, ClusterImpl>();
    for (const [name, cfg] of snapshot.clusters) {
      let c = this.clusters.get(name);
      if (c !== undefined && c.config.hash !== cfg.hash) {
        this.retire(c);
        c = undefined;
      }
      c ??= new ClusterImpl(cfg, this.stats, this.env);
      if (cfg.type === 'EDS') c.setEndpoints(snapshot.endpoints.get(cfg.edsServiceName ?? name));
      next.set(name, c);
    }
    for (const [name, c] of this.clusters) if (!next.has(name)) this.retire(c);
    this.clusters = next;
  }

  /** Resolves when every replaced or removed cluster has finished draining. */
  async settled(): Promise<void> {
    while (this.draining.size > 0) await Promise.all([...this.draining]);
  }

  /** Stops following config and closes every connection. */
  close(): void {
    this.closed = true;
    this.unsubscribe();
    for (const c of [...this.clusters.values(), ...this.retired]) c.close();
    this.clusters.clear();
    this.retired.clear();
  }

  private retire(c: ClusterImpl): void {
    this.retired.add(c);
    const p = c.drain().catch((err: unknown) => log.warn('cluster drain failed', { cluster: c.name, err: String(err) }));
    this.draining.add(p);
    void p.finally(() => {
      this.draining.delete(p);
      this.retired.delete(c);
    });
  }
}

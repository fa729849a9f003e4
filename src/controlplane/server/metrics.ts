// istiod's Prometheus metrics (pilot_*), on a Registry of their own; shared by the xDS server and the config store.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const TIME_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 3, 5, 10, 20, 30];
const SIZE_BUCKETS = [1, 10_000, 100_000, 1_000_000, 10_000_000, 40_000_000];

export interface MetricsOptions {
  /** Also collect Node process metrics (process_*, nodejs_*) into this registry. */
  processMetrics?: boolean;
}

export class Metrics {
  readonly registry = new Registry();
  /** Connected xDS clients (pilot_xds). */
  readonly xdsClients: Gauge;
  /** Responses pushed, by short type (cds, eds, lds, rds). */
  readonly xdsPushes: Counter<'type'>;
  /** Seconds from the first event of a push to the send of that push to a proxy. */
  readonly convergence: Histogram;
  /** NACKs received, by short type. */
  readonly xdsRejects: Counter<'type'>;
  /** Seconds to generate and send one type to one proxy. */
  readonly pushTime: Histogram<'type'>;
  /** Bytes of one response. */
  readonly configSize: Histogram<'type'>;
  /** Config events from the store, by kind and event (add, update, delete). */
  readonly configEvents: Counter<'type' | 'event'>;
  /** Resources rejected by validation, by kind (galley_validation_failed). */
  readonly validationFailed: Counter<'type' | 'reason'>;
  /** Resources the control plane rejected or ignored (pilot_total_rejected_configs). */
  readonly rejectedConfigs: Counter<'type'>;
  /** EnvoyFilter patches that could not be applied while generating (per proxy and generation), by EnvoyFilter. */
  readonly envoyFilterErrors: Counter<'name'>;

  constructor(opts: MetricsOptions = {}) {
    const registers = [this.registry];
    this.xdsClients = new Gauge({ name: 'pilot_xds', help: 'Number of endpoints connected to this pilot using XDS.', registers });
    this.xdsPushes = new Counter({ name: 'pilot_xds_pushes', help: 'Pilot build and send errors for lds, rds, cds and eds.', labelNames: ['type'], registers });
    this.convergence = new Histogram({ name: 'pilot_proxy_convergence_time', help: 'Delay in seconds between config change and a proxy receiving all required configuration.', buckets: TIME_BUCKETS, registers });
    this.xdsRejects = new Counter({ name: 'pilot_total_xds_rejects', help: 'Total number of XDS responses from pilot rejected by proxy.', labelNames: ['type'], registers });
    this.pushTime = new Histogram({ name: 'pilot_xds_push_time', help: 'Total time in seconds Pilot takes to push lds, rds, cds and eds.', labelNames: ['type'], buckets: TIME_BUCKETS, registers });
    this.configSize = new Histogram({ name: 'pilot_xds_config_size_bytes', help: 'Distribution of configuration sizes pushed to clients.', labelNames: ['type'], buckets: SIZE_BUCKETS, registers });
    this.configEvents = new Counter({ name: 'pilot_k8s_cfg_events', help: 'Events from the config store.', labelNames: ['type', 'event'], registers });
    this.validationFailed = new Counter({ name: 'galley_validation_failed', help: 'Resource validation failed.', labelNames: ['type', 'reason'], registers });
    this.rejectedConfigs = new Counter({ name: 'pilot_total_rejected_configs', help: 'Total number of configs that Pilot had to reject or ignore.', labelNames: ['type'], registers });
    this.envoyFilterErrors = new Counter({ name: 'pilot_envoy_filter_patch_errors', help: 'EnvoyFilter patches that failed to apply while generating xDS.', labelNames: ['name'], registers });
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** A config store event (kind: VirtualService, ...; event: add | update | delete). */
  configEvent(kind: string, event: string): void {
    this.configEvents.inc({ type: kind, event });
  }

  /** A resource failed validation and was rejected (an older valid version, if any, stays in effect). */
  configRejected(kind: string, reason = 'invalid'): void {
    this.validationFailed.inc({ type: kind, reason });
    this.rejectedConfigs.inc({ type: kind });
  }

  /** Prometheus text exposition of every metric. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

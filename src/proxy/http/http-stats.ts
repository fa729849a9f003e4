// Stat handles of one HTTP connection manager and of the clusters its router uses, looked up once (Envoy names:
// https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/stats,
// https://www.envoyproxy.io/docs/envoy/latest/configuration/upstream/cluster_manager/cluster_stats).
import type { Counter, Gauge, Histogram, Stats } from '../telemetry/stats.js';

export class HcmStats {
  readonly cxTotal: Counter;
  readonly cxActive: Gauge;
  readonly cxHttp1Total: Counter;
  readonly cxHttp2Total: Counter;
  readonly cxDestroy: Counter;
  readonly rqTotal: Counter;
  readonly rqActive: Gauge;
  readonly rqHttp1Total: Counter;
  readonly rqHttp2Total: Counter;
  /** downstream_rq_1xx .. downstream_rq_5xx, indexed by status / 100. */
  readonly rqClass: Counter[];
  readonly rqCompleted: Counter;
  readonly rqTime: Histogram;
  readonly rqRxReset: Counter;
  readonly rqTxReset: Counter;
  readonly rqTimeout: Counter;
  readonly rqHeaderTimeout: Counter;
  readonly rqIdleTimeout: Counter;
  readonly rqWsOnNonWsRoute: Counter;
  readonly rqTooLargeHeaders: Counter;
  readonly rqDrainClose: Counter;
  readonly noRoute: Counter;
  readonly noCluster: Counter;
  readonly rqRedirect: Counter;
  readonly rqDirectResponse: Counter;
  readonly rqResetAfterResponseStarted: Counter;
  readonly faultDelaysInjected: Counter;
  readonly faultAbortsInjected: Counter;
  readonly faultActive: Gauge;
  readonly corsOriginValid: Counter;
  readonly corsOriginInvalid: Counter;

  constructor(stats: Stats, statPrefix: string) {
    const p = `http.${statPrefix}.`;
    this.cxTotal = stats.counter(p + 'downstream_cx_total');
    this.cxActive = stats.gauge(p + 'downstream_cx_active');
    this.cxHttp1Total = stats.counter(p + 'downstream_cx_http1_total');
    this.cxHttp2Total = stats.counter(p + 'downstream_cx_http2_total');
    this.cxDestroy = stats.counter(p + 'downstream_cx_destroy');
    this.rqTotal = stats.counter(p + 'downstream_rq_total');
    this.rqActive = stats.gauge(p + 'downstream_rq_active');
    this.rqHttp1Total = stats.counter(p + 'downstream_rq_http1_total');
    this.rqHttp2Total = stats.counter(p + 'downstream_rq_http2_total');
    // Envoy's HCM counts only these classes downstream (no counter for a status outside 100-599).
    this.rqClass = [1, 2, 3, 4, 5].map((c) => stats.counter(`${p}downstream_rq_${c}xx`));
    this.rqCompleted = stats.counter(p + 'downstream_rq_completed');
    this.rqTime = stats.histogram(p + 'downstream_rq_time');
    this.rqRxReset = stats.counter(p + 'downstream_rq_rx_reset');
    this.rqTxReset = stats.counter(p + 'downstream_rq_tx_reset');
    this.rqTimeout = stats.counter(p + 'downstream_rq_timeout');
    this.rqHeaderTimeout = stats.counter(p + 'downstream_rq_header_timeout');
    this.rqIdleTimeout = stats.counter(p + 'downstream_rq_idle_timeout');
    this.rqWsOnNonWsRoute = stats.counter(p + 'downstream_rq_ws_on_non_ws_route');
    this.rqTooLargeHeaders = stats.counter(p + 'downstream_rq_too_large');
    this.rqDrainClose = stats.counter(p + 'downstream_cx_drain_close');
    this.noRoute = stats.counter(p + 'no_route');
    this.noCluster = stats.counter(p + 'no_cluster');
    this.rqRedirect = stats.counter(p + 'rq_redirect');
    this.rqDirectResponse = stats.counter(p + 'rq_direct_response');
    this.rqResetAfterResponseStarted = stats.counter(p + 'rq_reset_after_downstream_response_started');
    this.faultDelaysInjected = stats.counter(p + 'fault.delays_injected');
    this.faultAbortsInjected = stats.counter(p + 'fault.aborts_injected');
    this.faultActive = stats.gauge(p + 'fault.active_faults');
    this.corsOriginValid = stats.counter(p + 'cors.origin_valid');
    this.corsOriginInvalid = stats.counter(p + 'cors.origin_invalid');
  }

  /** Counts a response sent downstream. */
  response(status: number): void {
    this.rqClass[((status / 100) | 0) - 1]?.inc();
    this.rqCompleted.inc();
  }
}

/** Router-side counters of one upstream cluster (the upstream layer keeps its own cx/pending/breaker stats). */
export class ClusterRqStats {
  readonly rqTotal: Counter;
  readonly rqCompleted: Counter;
  readonly rqClass: Counter[];
  readonly rqTime: Histogram;
  readonly rqTimeout: Counter;
  readonly rqPerTryTimeout: Counter;
  readonly rqRetry: Counter;
  readonly rqRetrySuccess: Counter;
  readonly rqRetryOverflow: Counter;
  readonly rqRetryLimitExceeded: Counter;
  readonly rqRxReset: Counter;
  readonly rqMaxDurationReached: Counter;
  private readonly codes = new Map<number, Counter>();

  constructor(
    private readonly stats: Stats,
    private readonly prefix: string,
  ) {
    this.rqTotal = stats.counter(prefix + 'upstream_rq_total');
    this.rqCompleted = stats.counter(prefix + 'upstream_rq_completed');
    // Envoy's CodeStats: upstream_rq_unknown for a status outside 100-599.
    this.rqClass = [0, 1, 2, 3, 4, 5].map((c) => stats.counter(`${prefix}upstream_rq_${c === 0 ? 'unknown' : c + 'xx'}`));
    this.rqTime = stats.histogram(prefix + 'upstream_rq_time');
    this.rqTimeout = stats.counter(prefix + 'upstream_rq_timeout');
    this.rqPerTryTimeout = stats.counter(prefix + 'upstream_rq_per_try_timeout');
    this.rqRetry = stats.counter(prefix + 'upstream_rq_retry');
    this.rqRetrySuccess = stats.counter(prefix + 'upstream_rq_retry_success');
    this.rqRetryOverflow = stats.counter(prefix + 'upstream_rq_retry_overflow');
    this.rqRetryLimitExceeded = stats.counter(prefix + 'upstream_rq_retry_limit_exceeded');
    this.rqRxReset = stats.counter(prefix + 'upstream_rq_rx_reset');
    this.rqMaxDurationReached = stats.counter(prefix + 'upstream_rq_max_duration_reached');
  }

  /** Counts one upstream response (headers received) by code and class. */
  response(status: number): void {
    let c = this.codes.get(status);
    if (!c) this.codes.set(status, (c = this.stats.counter(`${this.prefix}upstream_rq_${status}`)));
    c.inc();
    const k = (status / 100) | 0;
    (this.rqClass[k] ?? this.rqClass[0]).inc();
    this.rqCompleted.inc();
  }
}

/** Per-cluster router stats, created on first use and kept for the handler's life. */
export class ClusterStatsCache {
  private readonly byName = new Map<string, ClusterRqStats>();
  constructor(private readonly stats: Stats) {}
  get(cluster: string): ClusterRqStats {
    let s = this.byName.get(cluster);
    if (!s) this.byName.set(cluster, (s = new ClusterRqStats(this.stats, `cluster.${cluster}.`)));
    return s;
  }
}

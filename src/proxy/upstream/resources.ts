// Cluster-wide circuit breakers (Envoy's ResourceManager, default priority) and the cluster's connection-level stat
// handles, looked up once per cluster so the hot path only bumps numbers. Request outcome stats (upstream_rq_total,
// upstream_rq_<code>, _retry, _retry_overflow, _rx_reset, _timeout, _time) are the router's (http/http-stats.ts).
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/circuit_breaking
import type { CircuitBreakerThresholds } from '../runtime/types.js';
import type { Counter, Gauge, Stats } from '../telemetry/stats.js';

export class ClusterStats {
  readonly cxTotal: Counter;
  readonly cxActive: Gauge;
  readonly cxConnectFail: Counter;
  readonly cxConnectTimeout: Counter;
  readonly cxOverflow: Counter;
  readonly cxNoneHealthy: Counter;
  readonly cxDestroy: Counter;
  readonly cxMaxRequests: Counter;
  readonly cxMaxDurationReached: Counter;
  readonly rqActive: Gauge;
  readonly rqPendingTotal: Counter;
  readonly rqPendingActive: Gauge;
  readonly rqPendingOverflow: Counter;
  readonly cbCxOpen: Gauge;
  readonly cbCxPoolOpen: Gauge;
  readonly cbRqPendingOpen: Gauge;
  readonly cbRqOpen: Gauge;
  readonly cbRqRetryOpen: Gauge;
  readonly cbRemainingCx: Gauge;
  readonly cbRemainingPending: Gauge;
  readonly cbRemainingRq: Gauge;
  readonly cbRemainingRetries: Gauge;

  constructor(
    readonly prefix: string,
    stats: Stats,
  ) {
    const c = (n: string): Counter => stats.counter(prefix + n);
    const g = (n: string): Gauge => stats.gauge(prefix + n);
    this.cxTotal = c('upstream_cx_total');
    this.cxActive = g('upstream_cx_active');
    this.cxConnectFail = c('upstream_cx_connect_fail');
    this.cxConnectTimeout = c('upstream_cx_connect_timeout');
    this.cxOverflow = c('upstream_cx_overflow');
    this.cxNoneHealthy = c('upstream_cx_none_healthy');
    this.cxDestroy = c('upstream_cx_destroy');
    this.cxMaxRequests = c('upstream_cx_max_requests');
    this.cxMaxDurationReached = c('upstream_cx_max_duration_reached');
    this.rqActive = g('upstream_rq_active');
    this.rqPendingTotal = c('upstream_rq_pending_total');
    this.rqPendingActive = g('upstream_rq_pending_active');
    this.rqPendingOverflow = c('upstream_rq_pending_overflow');
    const cb = prefix + 'circuit_breakers.default.';
    this.cbCxOpen = stats.gauge(cb + 'cx_open');
    this.cbCxPoolOpen = stats.gauge(cb + 'cx_pool_open');
    this.cbRqPendingOpen = stats.gauge(cb + 'rq_pending_open');
    this.cbRqOpen = stats.gauge(cb + 'rq_open');
    this.cbRqRetryOpen = stats.gauge(cb + 'rq_retry_open');
    this.cbRemainingCx = stats.gauge(cb + 'remaining_cx');
    this.cbRemainingPending = stats.gauge(cb + 'remaining_pending');
    this.cbRemainingRq = stats.gauge(cb + 'remaining_rq');
    this.cbRemainingRetries = stats.gauge(cb + 'remaining_retries');
  }
}

/** Open counts of one cluster instance against its thresholds; a replaced cluster starts from zero, as in Envoy. */
export class CircuitBreakers {
  connections = 0;
  pending = 0;
  requests = 0;
  retries = 0;

  constructor(
    readonly limits: CircuitBreakerThresholds,
    private readonly stats: ClusterStats,
  ) {
    this.publish();
  }

  canCreateConnection(): boolean {
    return this.connections < this.limits.maxConnections;
  }
  canQueue(): boolean {
    return this.pending < this.limits.maxPendingRequests;
  }
  canSend(): boolean {
    return this.requests < this.limits.maxRequests;
  }

  connectionOpened(): void {
    this.connections++;
    this.publish();
  }
  connectionClosed(): void {
    this.connections--;
    this.publish();
  }
  pendingAdded(): void {
    this.pending++;
    this.publish();
  }
  pendingRemoved(): void {
    this.pending--;
    this.publish();
  }
  requestAdded(): void {
    this.requests++;
    this.publish();
  }
  requestRemoved(): void {
    this.requests--;
    this.publish();
  }

  /** max_retries: false on overflow (the router counts upstream_rq_retry / upstream_rq_retry_overflow). */
  tryAcquireRetry(): boolean {
    if (this.retries >= this.limits.maxRetries) return false;
    this.retries++;
    this.publish();
    return true;
  }
  releaseRetry(): void {
    if (this.retries > 0) this.retries--;
    this.publish();
  }

  /** circuit_breakers.default.{cx,rq_pending,rq,rq_retry}_open (1 when at the limit) and remaining_* gauges. */
  private publish(): void {
    const l = this.limits;
    const s = this.stats;
    s.cbCxOpen.value = this.connections >= l.maxConnections ? 1 : 0;
    s.cbRqPendingOpen.value = this.pending >= l.maxPendingRequests ? 1 : 0;
    s.cbRqOpen.value = this.requests >= l.maxRequests ? 1 : 0;
    s.cbRqRetryOpen.value = this.retries >= l.maxRetries ? 1 : 0;
    s.cbRemainingCx.value = Math.max(0, l.maxConnections - this.connections);
    s.cbRemainingPending.value = Math.max(0, l.maxPendingRequests - this.pending);
    s.cbRemainingRq.value = Math.max(0, l.maxRequests - this.requests);
    s.cbRemainingRetries.value = Math.max(0, l.maxRetries - this.retries);
  }
}

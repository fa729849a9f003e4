// Outlier detection (Envoy's consecutive 5xx / gateway failure / local-origin failure detectors): results are
// recorded per response, ejection happens as soon as a threshold is crossed, and one interval timer per cluster
// brings hosts back after baseEjectionTime × times ejected (capped at max(300 s, base)).
// https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/outlier
import type { OutlierDetectionConfig } from '../runtime/types.js';
import type { Counter, Gauge, Stats } from '../telemetry/stats.js';
import type { Timers } from './deps.js';
import type { Host } from './host.js';
import type { Random } from './lb/types.js';

/** Results that do not come with an HTTP status (Envoy's Outlier::Result). */
export type LocalResult = 'connect_failed' | 'timeout' | 'reset' | 'connect_success' | 'connect_success_final';

type Detector = 'consecutive_5xx' | 'consecutive_gateway_failure' | 'consecutive_local_origin_failure';

const MAX_EJECTION_TIME_MS = 300_000;

export class OutlierDetector {
  private readonly timer: unknown;
  private readonly active: Gauge;
  private readonly enforcedTotal: Counter;
  private readonly overflow: Counter;
  private readonly total: Counter;
  private readonly detected: Record<Detector, Counter>;
  private readonly enforced: Record<Detector, Counter>;
  private readonly legacy: Record<Detector, Counter>;
  private ejectedCount = 0;
  /** Stopped detectors (draining clusters) eject nobody: the gauge belongs to the cluster's next version. */
  private stopped = false;

  constructor(
    private readonly cfg: OutlierDetectionConfig,
    prefix: string,
    stats: Stats,
    private readonly timers: Timers,
    private readonly random: Random,
    /** Current hosts of the cluster (for max ejection percent and unejection). */
    private readonly hosts: () => readonly Host[],
    /** Called when a host is ejected or brought back (the cluster rebuilds its load balancer). */
    private readonly onChange: () => void,
  ) {
    const p = prefix + 'outlier_detection.';
    this.active = stats.gauge(p + 'ejections_active');
    this.enforcedTotal = stats.counter(p + 'ejections_enforced_total');
    this.overflow = stats.counter(p + 'ejections_overflow');
    this.total = stats.counter(p + 'ejections_total');
    const kinds: Detector[] = ['consecutive_5xx', 'consecutive_gateway_failure', 'consecutive_local_origin_failure'];
    const by = (f: (k: Detector) => string): Record<Detector, Counter> =>
      Object.fromEntries(kinds.map((k) => [k, stats.counter(p + f(k))])) as Record<Detector, Counter>;
    this.detected = by((k) => `ejections_detected_${k}`);
    this.enforced = by((k) => `ejections_enforced_${k}`);
    this.legacy = by((k) => `ejections_${k}`);
    this.timer = timers.setInterval(() => this.tick(), Math.max(1, cfg.intervalMs));
  }

  /**
   * The cluster was replaced or removed. The gauge is shared by name with the cluster's next version, so give back
   * this detector's ejections (Envoy's ~DetectorImpl) instead of leaving them counted forever.
   */
  stop(): void {
    this.timers.clearInterval(this.timer);
    this.active.dec(this.ejectedCount);
    this.ejectedCount = 0;
    this.stopped = true;
  }

  /** An HTTP response status from `host` (5xx counts, anything else resets the consecutive counters). */
  onHttpStatus(host: Host, status: number): void {
    if (status >= 500) {
      if (status >= 502 && status <= 504) {
        if (++host.consecutiveGatewayFailure === this.cfg.consecutiveGatewayFailure) this.detect(host, 'consecutive_gateway_failure');
      } else {
        host.consecutiveGatewayFailure = 0;
      }
      if (++host.consecutive5xx === this.cfg.consecutive5xx) this.detect(host, 'consecutive_5xx');
    } else {
      host.consecutive5xx = 0;
      host.consecutiveGatewayFailure = 0;
    }
  }

  /**
   * A result without a response code. Without split_external_local_origin_errors, failures count as 503 (connect
   * failure), 504 (timeout) or 500 (reset), and successes only end the streak when final (TCP). With the split,
   * connect failures and timeouts feed the local-origin detector and resets count as 500.
   */
  onLocalResult(host: Host, result: LocalResult): void {
    if (!this.cfg.splitExternalLocalOriginErrors) {
      switch (result) {
        case 'connect_failed':
          return this.onHttpStatus(host, 503);
        case 'timeout':
          return this.onHttpStatus(host, 504);
        case 'reset':
          return this.onHttpStatus(host, 500);
        case 'connect_success_final':
          return this.onHttpStatus(host, 200);
        case 'connect_success':
          return;
      }
    }
    switch (result) {
      case 'connect_failed':
      case 'timeout':
        if (++host.consecutiveLocalOriginFailure === this.cfg.consecutiveLocalOriginFailure) this.detect(host, 'consecutive_local_origin_failure');
        return;
      case 'reset':
        return this.onHttpStatus(host, 500);
      case 'connect_success':
      case 'connect_success_final':
        host.consecutiveLocalOriginFailure = 0;
        return;
    }
  }

  get ejections(): number {
    return this.ejectedCount;
  }

  /** Interval sweep: bring back hosts whose ejection time has passed; decay the multiplier of healthy ones. */
  tick(): void {
    const now = this.timers.now();
    let changed = false;
    for (const h of this.hosts()) {
      if (h.ejected) {
        const ejectMs = Math.min(this.cfg.baseEjectionTimeMs * h.numEjections, Math.max(MAX_EJECTION_TIME_MS, this.cfg.baseEjectionTimeMs));
        if (now - h.lastEjectionTime >= ejectMs) {
          h.ejected = false;
          h.consecutive5xx = 0;
          h.consecutiveGatewayFailure = 0;
          h.consecutiveLocalOriginFailure = 0;
          this.ejectedCount--;
          this.active.dec();
          changed = true;
        }
      } else if (h.numEjections > 0 && now - h.lastEjectionTime >= this.cfg.baseEjectionTimeMs * (h.numEjections + 1)) {
        h.numEjections--;
      }
    }
    if (changed) this.onChange();
  }

  /** A host left the cluster: forget its ejection. */
  forget(host: Host): void {
    if (host.ejected && !this.stopped) {
      host.ejected = false;
      this.ejectedCount--;
      this.active.dec();
    }
  }

  private detect(host: Host, kind: Detector): void {
    if (host.ejected || this.stopped) return;
    this.detected[kind].inc();
    this.legacy[kind].inc();
    const enforcing =
      kind === 'consecutive_5xx' ? this.cfg.enforcingConsecutive5xx : kind === 'consecutive_gateway_failure' ? this.cfg.enforcingConsecutiveGatewayFailure : 100;
    if (this.random() * 100 >= enforcing) return;
    // max_ejection_percent, but at least one host can always be ejected.
    const n = this.hosts().length;
    if (this.ejectedCount > 0 && (100 * (this.ejectedCount + 1)) / n > this.cfg.maxEjectionPercent) {
      this.overflow.inc();
      return;
    }
    host.ejected = true;
    host.numEjections++;
    host.lastEjectionTime = this.timers.now();
    host.consecutive5xx = 0;
    host.consecutiveGatewayFailure = 0;
    host.consecutiveLocalOriginFailure = 0;
    this.ejectedCount++;
    this.active.inc();
    this.enforced[kind].inc();
    this.enforcedTotal.inc();
    this.total.inc();
    this.onChange();
  }
}

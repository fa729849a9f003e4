// Request shadowing (Envoy request_mirror_policies): a fire-and-forget copy of the request to another cluster with
// the authority suffixed "-shadow"; its response is discarded and it never affects the main request.
import type { Abortable, UpstreamError, UpstreamHandler } from '../runtime/contracts.js';
import { getHeader, setHeader } from './headers.js';
import type { ClusterRqStats } from './http-stats.js';
import type { Router } from './router.js';
import { TimerNode, type TimerTarget, type TimerWheel } from './timer-wheel.js';

/** `reviews:9080` → `reviews-shadow:9080` (Envoy inserts the suffix before the port). */
export function shadowAuthority(authority: string): string {
  const i = authority.lastIndexOf(':');
  if (i > 0 && authority.indexOf(':') === i) return `${authority.slice(0, i)}-shadow${authority.slice(i)}`;
  return authority + '-shadow';
}

class Shadow implements UpstreamHandler, TimerTarget {
  abortable: Abortable | null = null;
  done = false;
  timer: TimerNode | null = null;
  constructor(
    private readonly stats: ClusterRqStats,
    private readonly timers: TimerWheel,
  ) {}
  onHeaders(status: number): boolean {
    this.stats.response(status);
    return true;
  }
  onData(): boolean {
    return true;
  }
  onComplete(): void {
    this.end();
  }
  onError(_err: UpstreamError): void {
    this.end();
  }
  onTimer(): void {
    if (this.done) return;
    this.stats.rqTimeout.inc();
    this.end();
    this.abortable?.abort();
  }
  private end(): void {
    this.done = true;
    if (this.timer) this.timers.cancel(this.timer);
  }
}

/** Starts the shadows a route asks for (each with its own sampling fraction). */
export function startMirrors(router: Router, headers: readonly string[], path: string): void {
  const ex = router.ex;
  const hcm = ex.hcm;
  for (const m of router.action.mirrors) {
    if (!(m.fraction >= 1 || hcm.random() < m.fraction)) continue;
    const cluster = hcm.clusters.get(m.cluster);
    if (!cluster) continue;
    let body = null;
    if (router.body) {
      body = router.body.openShadow();
      if (!body) continue;
    }
    const h = headers.slice();
    setHeader(h, 'host', shadowAuthority(getHeader(headers, 'host') ?? ex.authority));
    const stats = hcm.clusterStats.get(cluster.name);
    const s = new Shadow(stats, hcm.timers);
    stats.rqTotal.inc();
    const timeout = router.action.timeoutMs;
    if (timeout > 0) {
      s.timer = new TimerNode(s, 0);
      hcm.timers.schedule(s.timer, timeout);
    }
    const req = router.request(h, body, path);
    // Shadows pick their own host: no hash stickiness or previous-host exclusions from the main request.
    req.exclude = undefined;
    const ab = cluster.dispatch(req, s);
    if (s.done) continue;
    s.abortable = ab;
  }
}

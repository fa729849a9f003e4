// Push debouncing like istiod's (pilot/pkg/xds/discovery.go debounce): merge change events and push after a quiet
// period, at most debounceMax after the first event, and never start a push while the previous one is still running.
import type { PushRequest } from '../generate/types.js';
import { logger } from '../../shared/log.js';
import { realClock } from './clock.js';
import type { Clock } from './clock.js';

const log = logger('debounce');

export interface DebouncerOptions {
  /** Quiet period after the last event (Tunables.debounceAfterMs, 100 ms). */
  debounceAfterMs: number;
  /** Longest delay after the first event (Tunables.debounceMaxMs, 10 s). */
  debounceMaxMs: number;
  /** Called with the merged request; a returned promise holds the next push back until it settles. */
  onPush: (req: PushRequest) => void | Promise<void>;
  clock?: Clock;
}

/** Istio's PushRequest.Merge: full ORed, sets unioned, reasons concatenated (unique), earliest start. */
export function mergePushRequests(a: PushRequest | undefined, b: PushRequest): PushRequest {
  if (!a) return b;
  return {
    full: a.full || b.full,
    configsUpdated: union(a.configsUpdated, b.configsUpdated),
    servicesUpdated: union(a.servicesUpdated, b.servicesUpdated),
    reasons: [...new Set([...a.reasons, ...b.reasons])],
    start: Math.min(a.start, b.start),
  };
}

function union<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): ReadonlySet<T> {
  if (b.size === 0) return a;
  if (a.size === 0) return b;
  const s = new Set(a);
  for (const x of b) s.add(x);
  return s;
}

export class Debouncer {
  private readonly clock: Clock;
  private pending: PushRequest | undefined;
  private firstEventAt = 0;
  private lastEventAt = 0;
  private timer: unknown;
  private pushing = false;
  private closed = false;
  /** Number of pushes issued and of events merged into them (for metrics and tests). */
  pushes = 0;
  events = 0;

  constructor(private readonly opts: DebouncerOptions) {
    this.clock = opts.clock ?? realClock;
  }

  enqueue(req: PushRequest): void {
    if (this.closed) return;
    const now = this.clock.now();
    this.lastEventAt = now;
    if (!this.pending) {
      this.firstEventAt = now;
      this.arm(this.opts.debounceAfterMs);
    }
    this.events++;
    this.pending = mergePushRequests(this.pending, req);
  }

  /** Drops anything pending and stops the timer. */
  close(): void {
    this.closed = true;
    this.pending = undefined;
    this.disarm();
  }

  private arm(ms: number): void {
    this.disarm();
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.check();
    }, ms);
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Istio's pushWorker: push when quiet long enough or waited too long; otherwise wait for the rest of the quiet period. */
  private check(): void {
    if (this.closed || !this.pending || this.pushing) return;
    const now = this.clock.now();
    const sinceFirst = now - this.firstEventAt;
    const quiet = now - this.lastEventAt;
    if (sinceFirst >= this.opts.debounceMaxMs || quiet >= this.opts.debounceAfterMs) {
      const req = this.pending;
      this.pending = undefined;
      this.push(req);
    } else {
      this.arm(Math.min(this.opts.debounceAfterMs - quiet, this.opts.debounceMaxMs - sinceFirst));
    }
  }

  private push(req: PushRequest): void {
    this.pushes++;
    this.pushing = true;
    let result: void | Promise<void>;
    try {
      result = this.opts.onPush(req);
    } catch (err) {
      log.error('push failed', { error: err instanceof Error ? err.message : String(err) });
      result = undefined;
    }
    if (result instanceof Promise) {
      result.then(
        () => this.done(),
        (err: unknown) => {
          log.error('push failed', { error: err instanceof Error ? err.message : String(err) });
          this.done();
        },
      );
    } else this.done();
  }

  /** The previous push finished: a request that came in meanwhile is pushed as soon as its own timing allows. */
  private done(): void {
    this.pushing = false;
    if (this.pending && this.timer === undefined) this.check();
  }
}

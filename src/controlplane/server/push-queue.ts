// istiod's push queue: one pending PushRequest per connection (later requests merge into it, also while that
// connection's previous push is still being written), processed with bounded concurrency, yielding between connections.
import type { PushRequest } from '../generate/types.js';
import { mergePushRequests } from '../model/debounce.js';

export { mergePushRequests };

export class PushQueue<K> {
  /** Waiting connections in FIFO order, each with its (merged) request. */
  private readonly pending = new Map<K, PushRequest>();
  /** Connections being pushed to, with a request that arrived meanwhile (pushed right after). */
  private readonly inProgress = new Map<K, PushRequest | undefined>();
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly process: (key: K, req: PushRequest) => Promise<void>,
    private readonly concurrency = 100,
  ) {}

  enqueue(key: K, req: PushRequest): void {
    if (this.inProgress.has(key)) {
      const deferred = this.inProgress.get(key);
      this.inProgress.set(key, deferred ? mergePushRequests(deferred, req) : req);
      return;
    }
    const prev = this.pending.get(key);
    this.pending.set(key, prev ? mergePushRequests(prev, req) : req);
    this.schedule();
  }

  /** Forgets a connection (it closed): its pending and deferred requests are dropped. */
  remove(key: K): void {
    this.pending.delete(key);
    if (this.inProgress.has(key)) this.inProgress.set(key, undefined);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  get inProgressCount(): number {
    return this.inProgress.size;
  }

  /** Resolves once nothing is pending or in progress. */
  idle(): Promise<void> {
    if (this.pending.size === 0 && this.inProgress.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  /** Starts one connection's push per event-loop turn, so requests and other streams are served in between. */
  private pump(): void {
    if (this.inProgress.size >= this.concurrency) return;
    const first = this.pending.entries().next();
    if (first.done) {
      this.checkIdle();
      return;
    }
    const [key, req] = first.value;
    this.pending.delete(key);
    this.inProgress.set(key, undefined);
    const done = (): void => {
      const deferred = this.inProgress.get(key);
      this.inProgress.delete(key);
      if (deferred) this.enqueue(key, deferred);
      this.schedule();
    };
    this.process(key, req).then(done, done);
    if (this.pending.size > 0) this.schedule();
  }

  private checkIdle(): void {
    if (this.pending.size > 0 || this.inProgress.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

// A coarse shared timer (hashed timing wheel, ~10 ms ticks) for per-request deadlines: no setTimeout per request.
// Callers own their TimerNode (one allocation, reused across schedule/cancel); firing calls target.onTimer(kind).

/** Slot marker of a node collected as due but not fired yet. */
const DUE = -2;

export interface TimerTarget {
  onTimer(kind: number): void;
}

/** One schedulable deadline; an intrusive list node, so schedule/cancel are O(1) and allocate nothing. */
export class TimerNode {
  deadline = 0;
  next: TimerNode | null = null;
  prev: TimerNode | null = null;
  slot = -1;
  constructor(
    readonly target: TimerTarget,
    readonly kind: number,
  ) {}
  /** Waiting to fire (in a slot, or collected as due in the current tick). */
  get scheduled(): boolean {
    return this.slot !== -1;
  }
}

export interface TimerWheelOptions {
  /** Tick granularity (ms); default 10. */
  tickMs?: number;
  /** Number of slots; one rotation is tickMs * slots. Default 512 (≈ 5 s). */
  slots?: number;
  /** Monotonic clock in ms; default performance.now. */
  now?: () => number;
}

export class TimerWheel {
  private readonly tickMs: number;
  private readonly heads: (TimerNode | null)[];
  private readonly now: () => number;
  private interval: NodeJS.Timeout | null = null;
  private count = 0;
  /** Index of the last tick processed. */
  private lastTick: number;
  private readonly due: TimerNode[] = [];

  constructor(opts: TimerWheelOptions = {}) {
    this.tickMs = opts.tickMs ?? 10;
    this.heads = new Array<TimerNode | null>(opts.slots ?? 512).fill(null);
    this.now = opts.now ?? (() => performance.now());
    this.lastTick = Math.floor(this.now() / this.tickMs);
  }

  /** Pending timers (for tests and stats). */
  get size(): number {
    return this.count;
  }

  /** (Re)schedules node to fire after delayMs (rounded up to the next tick). */
  schedule(node: TimerNode, delayMs: number): void {
    if (node.slot >= 0) this.unlink(node);
    const now = this.now();
    node.deadline = now + Math.max(0, delayMs);
    if (this.count === 0) {
      this.lastTick = Math.floor(now / this.tickMs);
      this.start();
    }
    // Never place a node in a slot already processed in this rotation: it would wait a full rotation.
    const tick = Math.max(Math.ceil(node.deadline / this.tickMs), this.lastTick + 1);
    const slot = tick % this.heads.length;
    node.slot = slot;
    node.prev = null;
    node.next = this.heads[slot];
    if (node.next) node.next.prev = node;
    this.heads[slot] = node;
    this.count++;
  }

  cancel(node: TimerNode): void {
    if (node.slot === DUE) node.slot = -1;
    if (node.slot < 0) return;
    this.unlink(node);
    if (this.count === 0) this.stop();
  }

  /** Stops the ticker; pending nodes stay unfired (used on shutdown). */
  close(): void {
    for (let i = 0; i < this.heads.length; i++) {
      let n = this.heads[i];
      while (n) {
        const next = n.next;
        n.slot = -1;
        n.next = n.prev = null;
        n = next;
      }
      this.heads[i] = null;
    }
    this.count = 0;
    this.stop();
  }

  private unlink(node: TimerNode): void {
    if (node.prev) node.prev.next = node.next;
    else this.heads[node.slot] = node.next;
    if (node.next) node.next.prev = node.prev;
    node.next = node.prev = null;
    node.slot = -1;
    this.count--;
  }

  private start(): void {
    if (this.interval) return;
    this.interval = setInterval(onTick, this.tickMs, this);
    this.interval.unref();
  }

  private stop(): void {
    if (!this.interval) return;
    clearInterval(this.interval);
    this.interval = null;
  }

  /** Processes every slot up to the current tick, firing due nodes (collected first: callbacks may reschedule). */
  tick(): void {
    const now = this.now();
    const current = Math.floor(now / this.tickMs);
    const slots = this.heads.length;
    // After a long stall, one full rotation visits every slot.
    const from = Math.max(this.lastTick + 1, current - slots + 1);
    const due = this.due;
    for (let t = from; t <= current; t++) {
      let n = this.heads[t % slots];
      while (n) {
        const next = n.next;
        if (n.deadline <= now + 0.5) {
          this.unlink(n);
          n.slot = DUE;
          due.push(n);
        }
        n = next;
      }
    }
    this.lastTick = current;
    let failure: unknown = null;
    for (let i = 0; i < due.length; i++) {
      const n = due[i];
      due[i] = undefined as unknown as TimerNode;
      // A callback fired earlier in this batch may have rescheduled or cancelled n: it then is not due any more.
      if (n.slot === DUE) {
        n.slot = -1;
        try {
          n.target.onTimer(n.kind);
        } catch (err) {
          failure ??= err; // the other due timers still fire; the first error surfaces below
        }
      }
    }
    due.length = 0;
    if (this.count === 0) this.stop();
    if (failure !== null) throw failure instanceof Error ? failure : new Error('timer callback failed', { cause: failure });
  }
}

function onTick(wheel: TimerWheel): void {
  wheel.tick();
}

// Jittered exponential backoff for ADS reconnects ("full jitter": a uniform delay in [0, min(cap, base * 2^attempt))).
// https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/

export interface BackoffOptions {
  /** First ceiling (ms); default 100. */
  baseMs?: number;
  /** Largest ceiling (ms); default 15000. */
  maxMs?: number;
  /** Source of randomness in [0, 1) (tests pin it). */
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;

  constructor(o: BackoffOptions = {}) {
    this.baseMs = o.baseMs ?? 100;
    this.maxMs = o.maxMs ?? 15_000;
    this.random = o.random ?? Math.random;
    if (!(this.baseMs > 0) || !(this.maxMs >= this.baseMs)) throw new RangeError(`backoff: need 0 < baseMs <= maxMs, got ${this.baseMs}, ${this.maxMs}`);
  }

  /** The delay before the next attempt; each call doubles the ceiling up to maxMs. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.floor(this.random() * ceiling);
  }

  /** After a healthy stream: start again from baseMs. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}

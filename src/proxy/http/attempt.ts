// One upstream attempt of a routed request: the UpstreamHandler given to the cluster. Callbacks of an attempt that
// was superseded (retry, timeout, abort) are ignored; a retriable response's body is drained and discarded.
import type { Socket } from 'node:net';
import type { Abortable, UpstreamError, UpstreamHandler } from '../runtime/contracts.js';
import type { Router } from './router.js';

/** Discarded response bytes of a retried attempt before its connection is given up instead. */
const DISCARD_LIMIT = 64 * 1024;

export class Attempt implements UpstreamHandler {
  abortable: Abortable | null = null;
  /** The attempt is over for the router (completed, failed or aborted). */
  done = false;
  /** A retry was decided on its headers: drain the body and drop it. */
  discarding = false;
  private discarded = 0;
  private abortRequested = false;
  /** Holds one unit of the cluster's retry budget, released when the attempt ends. */
  holdsRetry = false;
  host: string | undefined;
  resume: (() => void) | null = null;
  readonly startMono = performance.now();

  constructor(
    readonly router: Router,
    readonly n: number,
  ) {}

  /** Records the Abortable once dispatch returned (callbacks may have run synchronously before). */
  attach(a: Abortable): void {
    this.abortable = a;
    if (this.abortRequested) a.abort();
  }

  onHost(hostKey: string): void {
    this.host = hostKey;
    if (!this.done) this.router.onHost(this, hostKey);
  }

  onHeaders(status: number, headers: string[], resume: () => void): boolean {
    if (this.done) return false;
    if (this.discarding) return true;
    return this.router.onHeaders(this, status, headers, resume);
  }

  onData(chunk: Buffer): boolean {
    if (this.done) return false;
    if (this.discarding) {
      this.discarded += chunk.length;
      if (this.discarded > DISCARD_LIMIT) this.abort();
      return true;
    }
    return this.router.onData(this, chunk);
  }

  onComplete(trailers: string[] | null): void {
    if (this.done) return;
    const forward = !this.discarding;
    this.finish();
    if (forward) this.router.onComplete(this, trailers);
  }

  onError(err: UpstreamError): void {
    if (this.done) return;
    const forward = !this.discarding;
    this.finish();
    if (forward) this.router.onAttemptError(this, err);
  }

  onUpgrade(status: number, headers: string[], socket: Socket): void {
    if (this.done) {
      socket.destroy();
      return;
    }
    this.finish();
    this.router.onUpgrade(this, status, headers, socket);
  }

  /** Gives the attempt up (retry, timeout, downstream gone). */
  abort(): void {
    if (this.done) return;
    this.finish();
    if (this.abortable) this.abortable.abort();
    else this.abortRequested = true;
  }

  private finish(): void {
    this.done = true;
    if (this.holdsRetry) {
      this.holdsRetry = false;
      this.router.cluster.releaseRetry();
    }
  }
}

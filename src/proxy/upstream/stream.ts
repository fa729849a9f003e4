// One HTTP request to one upstream host: HTTP/1.1 connection (h1-slot.ts) and node:http2 stream callbacks
// (HTTP/2) adapted to the router's UpstreamHandler, with pending/active accounting, response-code stats,
// outlier reporting and Envoy's error mapping. One object per request, methods only (no per-request closures).
import type { Socket } from 'node:net';
import type { Abortable, UpstreamHandler, UpstreamRequest } from '../runtime/contracts.js';
import { UpstreamError } from '../runtime/contracts.js';
import { ConnectFailure } from './connector.js';
import { connectionFailure, connectionTermination, localReset, protocolError, remoteReset, type UpstreamResetError } from './errors.js';
import type { Host } from './host.js';
import type { HostPool, Slot } from './pool.js';

export class UpstreamStream implements Abortable {
  host!: Host;
  pool!: HostPool;
  slot: Slot | undefined;
  /** Counted in upstream_rq_pending_active (waiting for a connection). */
  pending = false;
  /** Counted against max_requests (assigned to a connection). */
  attached = false;
  /** Handed to the connection (head written / h2 stream opened). */
  sent = false;
  responded = false;
  done = false;
  aborted = false;
  status = 0;
  /** The HTTP/2 stream carrying this request, once opened. */
  h2: import('node:http2').ClientHttp2Stream | null = null;

  /** The request headers to send (req.headers, or a copy with `host` rewritten for auto_host_rewrite). */
  reqHeaders: string[];

  constructor(
    readonly req: UpstreamRequest,
    readonly handler: UpstreamHandler,
  ) {
    this.reqHeaders = req.headers;
  }

  markPending(): void {
    this.pending = true;
    this.pool.owner.breakers.pendingAdded();
    this.pool.owner.stats.rqPendingTotal.inc();
    this.pool.owner.stats.rqPendingActive.inc();
  }

  clearPending(): void {
    if (!this.pending) return;
    this.pending = false;
    this.pool.owner.breakers.pendingRemoved();
    this.pool.owner.stats.rqPendingActive.dec();
  }

  attach(slot: Slot): void {
    this.slot = slot;
    this.attached = true;
    slot.inflight++;
    slot.requests++;
    const o = this.pool.owner;
    o.breakers.requestAdded();
    o.stats.rqActive.inc();
    this.host.activeRequests++;
    this.host.totalRequests++;
  }

  /** The request is on a live connection: no longer pending. */
  markSent(): void {
    if (this.sent) return;
    this.sent = true;
    this.clearPending();
  }

  /** Releases counters and the connection slot (once). */
  finish(): void {
    if (this.done) return;
    this.done = true;
    this.clearPending();
    if (this.attached) {
      this.attached = false;
      const o = this.pool.owner;
      o.breakers.requestRemoved();
      o.stats.rqActive.dec();
      this.host.activeRequests--;
      if (this.slot) this.pool.release(this.slot);
    }
  }

  /** Set while inside cluster.dispatch(): errors are then delivered on the next tick, never re-entrantly. */
  dispatching = false;

  /** Fails the request (callbacks suppressed after abort()). */
  fail(err: UpstreamResetError): void {
    const first = !this.done;
    this.finish();
    if (!first || this.aborted) return;
    if (this.host) this.host.totalErrors++;
    if (this.dispatching) process.nextTick(deliverError, this, err);
    else this.handler.onError(err);
  }

  abort(reason?: Error): void {
    if (this.aborted || this.done) {
      this.aborted = true;
      return;
    }
    this.aborted = true;
    // A router timeout counts for outlier detection as a local-origin timeout (504).
    if (reason instanceof UpstreamError && reason.flag === 'UT' && this.host) this.pool.owner.outlier?.onLocalResult(this.host, 'timeout');
    if (this.h2) {
      this.h2.close(0x8 /* NGHTTP2_CANCEL */);
      if (this.req.body) this.req.body.unpipe(this.h2);
      this.finish();
    } else {
      // Written to an HTTP/1.1 connection: that connection closes. Queued or still connecting: just released.
      if (this.sent) this.slot?.abortStream?.(this);
      this.finish();
    }
  }

  // ---------------------------------------------------------------- response, both protocols

  /** Status and headers arrived; returns false to pause the body (resume() later). */
  headers(status: number, headers: string[], resume: () => void): boolean {
    this.responded = true;
    this.status = status;
    const o = this.pool.owner;
    o.outlier?.onHttpStatus(this.host, status);
    if (status >= 500) this.host.totalErrors++;
    if (this.aborted) return true;
    return this.handler.onHeaders(status, headers, resume);
  }

  complete(trailers: string[] | null): void {
    this.finish();
    if (!this.aborted) this.handler.onComplete(trailers);
  }

  /** Maps a transport error (HTTP/1.1 codec, node:http2, connector) to Envoy's flag and reset reason. */
  error(err: unknown): void {
    if (this.done) return;
    if (this.aborted) return this.finish();
    if (err instanceof ConnectFailure) return this.fail(connectionFailure(err.detail, err.kind === 'timeout', err));
    const code = (err as { code?: string } | null)?.code ?? '';
    let mapped: UpstreamResetError;
    if (code.startsWith('HPE_') || code === 'ERR_HTTP2_PROTOCOL_ERROR') {
      mapped = protocolError(err);
    } else if (code === 'ERR_INVALID_HEADER' || code === 'ERR_HTTP2_INVALID_HEADER_VALUE' || code === 'ERR_HTTP2_INVALID_CONNECTION_HEADERS') {
      mapped = localReset(!this.sent, err);
    } else {
      mapped = connectionTermination(!this.sent, err);
    }
    if (mapped.reason !== 'local_reset' && this.host) this.pool.owner.outlier?.onLocalResult(this.host, 'reset');
    this.fail(mapped);
  }

  /** HTTP/2 RST_STREAM from the upstream (REFUSED_STREAM = never processed, safe to retry). */
  reset(refused: boolean, cause?: unknown): void {
    if (this.done) return;
    if (this.aborted) return this.finish();
    if (!refused && this.host) this.pool.owner.outlier?.onLocalResult(this.host, 'reset');
    this.fail(remoteReset(refused, cause));
  }

  onData(chunk: Buffer): boolean {
    if (this.aborted) return true;
    return this.handler.onData(chunk);
  }

  /** The upstream switched protocols (HTTP/1.1 101): the socket leaves the pool and goes to the handler. */
  onUpgrade(statusCode: number, headers: string[], socket: Socket): void {
    this.responded = true;
    this.status = statusCode;
    this.finish();
    this.pool.upgraded(socket);
    if (this.aborted || !this.handler.onUpgrade) {
      socket.destroy();
      return;
    }
    this.handler.onUpgrade(statusCode, headers, socket);
  }
}

function deliverError(s: UpstreamStream, err: UpstreamResetError): void {
  if (!s.aborted) s.handler.onError(err);
}

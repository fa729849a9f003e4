// One HTTP request to one upstream host: undici dispatch handler (HTTP/1.1) and node:http2 stream callbacks
// (HTTP/2) adapted to the router's UpstreamHandler, with pending/active accounting, response-code stats,
// outlier reporting and Envoy's error mapping. One object per request, methods only (no per-request closures).
import type { Socket } from 'node:net';
import type { Abortable, UpstreamHandler, UpstreamRequest } from '../runtime/contracts.js';
import { UpstreamError } from '../runtime/contracts.js';
import { ConnectFailure } from './connector.js';
import { connectionFailure, connectionTermination, localReset, protocolError, remoteReset, type UpstreamResetError } from './errors.js';
import type { Host } from './host.js';
import type { HostPool, Slot } from './pool.js';

/** Raw undici header buffers → flat [name, value, ...] strings, names lower-cased (latin1 keeps bytes as sent). */
export function rawToStrings(raw: readonly (Buffer | string)[]): string[] {
  const out = new Array<string>(raw.length);
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i];
    const v = raw[i + 1];
    out[i] = (typeof n === 'string' ? n : n.toString('latin1')).toLowerCase();
    out[i + 1] = typeof v === 'string' ? v : v.toString('latin1');
  }
  return out;
}

export class UpstreamStream implements Abortable {
  host!: Host;
  pool!: HostPool;
  slot: Slot | undefined;
  /** Counted in upstream_rq_pending_active (waiting for a connection). */
  pending = false;
  /** Counted against max_requests (assigned to a connection). */
  attached = false;
  /** Handed to the connection (undici onConnect / h2 stream opened). */
  sent = false;
  responded = false;
  done = false;
  aborted = false;
  status = 0;
  /** undici's abort for this request, once it is on a connection. */
  undiciAbort: ((err?: Error) => void) | null = null;
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
    if (this.undiciAbort) {
      this.undiciAbort(reason);
    } else if (this.h2) {
      this.h2.close(0x8 /* NGHTTP2_CANCEL */);
      if (this.req.body) this.req.body.unpipe(this.h2);
      this.finish();
    } else if (!this.sent) {
      // Queued in our pool, or inside undici waiting for its connection: release now; undici's later
      // onConnect will see `aborted` and abort the request before writing it.
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

  /** Maps a transport error (undici, node:http2, connector) to Envoy's flag and reset reason. */
  error(err: unknown): void {
    if (this.done) return;
    if (this.aborted) return this.finish();
    if (err instanceof ConnectFailure) return this.fail(connectionFailure(err.detail, err.kind === 'timeout', err));
    const code = (err as { code?: string } | null)?.code ?? '';
    let mapped: UpstreamResetError;
    if (code.startsWith('HPE_') || code === 'UND_ERR_HEADERS_OVERFLOW' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || code === 'ERR_HTTP2_PROTOCOL_ERROR') {
      mapped = protocolError(err);
    } else if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED' || code === 'ERR_HTTP2_INVALID_HEADER_VALUE' || code === 'ERR_HTTP2_INVALID_CONNECTION_HEADERS') {
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

  // ---------------------------------------------------------------- undici DispatchHandler (legacy API, raw headers)

  onConnect(abort: (err?: Error) => void): void {
    this.undiciAbort = abort;
    this.markSent();
    if (this.aborted) abort();
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx informational: not forwarded
    return this.headers(statusCode, rawToStrings(rawHeaders), resume);
  }

  onData(chunk: Buffer): boolean {
    if (this.aborted) return true;
    return this.handler.onData(chunk);
  }

  onComplete(trailers: string[] | Buffer[] | null): void {
    this.complete(trailers && trailers.length > 0 ? rawToStrings(trailers) : null);
  }

  onError(err: Error): void {
    this.error(err);
  }

  onUpgrade(statusCode: number, rawHeaders: Buffer[] | string[] | null, socket: Socket): void {
    this.responded = true;
    this.status = statusCode;
    this.finish();
    this.pool.upgraded(socket);
    if (this.aborted || !this.handler.onUpgrade) {
      socket.destroy();
      return;
    }
    this.handler.onUpgrade(statusCode, rawToStrings(rawHeaders ?? []), socket);
  }
}

function deliverError(s: UpstreamStream, err: UpstreamResetError): void {
  if (!s.aborted) s.handler.onError(err);
}

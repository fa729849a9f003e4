// The upstream side of the router filter for one request: timeouts (route, per-try), retries budgeted by the
// cluster with backoff, request body replay, shadowing, and the upstream response sent downstream.
import type { Socket } from 'node:net';
import type { UpstreamCluster, UpstreamError, UpstreamRequest } from '../runtime/contracts.js';
import type { RouteAction, SocketAddress } from '../runtime/types.js';
import { Attempt } from './attempt.js';
import type { Exchange } from './exchange.js';
import { computeHash } from './hash-policy.js';
import { getHeader } from './headers.js';
import type { ClusterRqStats } from './http-stats.js';
import { Replies, transportFailureOf, upstreamFailure, type LocalReply } from './local-reply.js';
import { startMirrors } from './mirror.js';
import { RequestBody } from './request-body.js';
import { RetryState } from './retry.js';
import { TimerNode, type TimerTarget } from './timer-wheel.js';
import { downstreamResponseHeaders, grpcTimeoutMs, rewritePath, upstreamRequestHeaders } from './upstream-headers.js';

const T_GLOBAL = 1;
const T_PER_TRY = 2;
const T_BACKOFF = 3;
const OVERLOADED = ['x-envoy-overloaded', 'true'];

export class Router implements TimerTarget {
  readonly cs: ClusterRqStats;
  upstreamHeaders: string[] | undefined;
  private attemptIdx = -1;
  private path = '/';
  private hash: number | undefined;
  retry: RetryState | null = null;
  body: RequestBody | null = null;
  attempt: Attempt | null = null;
  private attempts = 0;
  private tried: Set<string> | null = null;
  private proxyDst: SocketAddress | undefined;
  private timeoutMs = 0;
  private perTryMs = 0;
  private gTimer: TimerNode | null = null;
  private pTimer: TimerNode | null = null;
  private bTimer: TimerNode | null = null;
  /** Upstream response headers were sent downstream: no more retries or local replies. */
  private responded = false;
  finished = false;
  private retryHeld = false;

  constructor(
    readonly ex: Exchange,
    readonly action: RouteAction,
    readonly cluster: UpstreamCluster,
  ) {
    this.cs = ex.hcm.clusterStats.get(cluster.name);
  }

  get bodyBytes(): number {
    return this.body?.bytes ?? 0;
  }

  start(): void {
    const ex = this.ex;
    const a = this.action;
    if (a.hashPolicies.length) {
      const h = computeHash(a.hashPolicies, ex);
      this.hash = h.hash;
      if (h.setCookie) ex.setCookie = h.setCookie;
    }
    const rewritten = rewritePath(ex, a);
    this.path = rewritten ?? ex.path;
    this.timeoutMs = a.timeoutMs;
    if (a.grpcTimeoutHeaderMaxMs !== undefined && ex.grpc) {
      const g = grpcTimeoutMs(ex.headers);
      if (g !== undefined) this.timeoutMs = a.grpcTimeoutHeaderMaxMs > 0 ? Math.min(g, a.grpcTimeoutHeaderMaxMs) : g;
    }
    const policy = a.retry ?? ex.vhost?.retry;
    if (policy && policy.numRetries > 0) {
      this.retry = new RetryState(policy, ex.hcm.random);
      this.perTryMs = policy.perTryTimeoutMs;
      if (policy.previousHosts) this.tried = new Set();
    }
    const expected = this.perTryMs > 0 && (this.timeoutMs === 0 || this.perTryMs < this.timeoutMs) ? this.perTryMs : this.timeoutMs;
    const h = upstreamRequestHeaders(ex, ex.weighted?.hostRewriteLiteral ?? a.hostRewriteLiteral ?? ex.authority, rewritten !== undefined ? ex.path : undefined, expected);
    if (ex.vhost?.includeAttemptCount) {
      h.push('x-envoy-attempt-count', '1');
      this.attemptIdx = h.length - 1;
    }
    this.upstreamHeaders = h;
    if (ex.hasBody && ex.source) this.body = new RequestBody(ex.source, this.retry || a.mirrors.length ? ex.hcm.bufferLimit : 0, ex);
    else this.onRequestEnd();
    if (a.mirrors.length) startMirrors(this, h, this.path);
    this.startAttempt();
  }

  /** The downstream request is complete: the route timeout starts now (Envoy semantics). */
  onRequestEnd(): void {
    if (this.timeoutMs > 0 && !this.finished) {
      this.gTimer ??= new TimerNode(this, T_GLOBAL);
      this.ex.hcm.timers.schedule(this.gTimer, this.timeoutMs);
    }
  }

  /** The upstream request as sent (shared with shadows). */
  request(headers: string[], body: UpstreamRequest['body'], path = this.path): UpstreamRequest {
    const ex = this.ex;
    return {
      method: ex.method,
      path,
      headers,
      body,
      upgrade: ex.upgrade,
      downstreamProtocol: ex.downstreamProtocol,
      hash: this.hash,
      exclude: this.tried && this.tried.size ? this.tried : undefined,
      // An absolute-form request (HTTP_PROXY) was addressed to the proxy itself: its passthrough destination is the URI's
      // authority, never the listener's own address (that would loop back into this proxy).
      originalDst: ex.absoluteForm ? (this.proxyDst ??= authorityDst(ex.authority, ex.scheme)) : ex.conn.info.originalDst,
      downstreamAddress: ex.conn.remote,
      autoHostRewrite: this.action.autoHostRewrite || undefined,
    };
  }

  private startAttempt(): void {
    if (this.finished) return;
    const prev = this.attempt;
    if (prev && !prev.done) prev.abort();
    const n = ++this.attempts;
    this.ex.attemptCount = n;
    const at = new Attempt(this, n);
    if (this.retryHeld) {
      at.holdsRetry = true;
      this.retryHeld = false;
    }
    this.attempt = at;
    let headers = this.upstreamHeaders!;
    if (this.attemptIdx >= 0 && n > 1) {
      headers = headers.slice();
      headers[this.attemptIdx] = String(n);
    }
    const body = this.body ? this.body.open() : null;
    this.cs.rqTotal.inc();
    if (this.perTryMs > 0) {
      this.pTimer ??= new TimerNode(this, T_PER_TRY);
      this.ex.hcm.timers.schedule(this.pTimer, this.perTryMs);
    }
    at.attach(this.cluster.dispatch(this.request(headers, body), at));
  }

  onHost(at: Attempt, hostKey: string): void {
    if (at !== this.attempt) return;
    this.ex.upstreamHost = hostKey;
    this.tried?.add(hostKey);
  }

  onHeaders(at: Attempt, status: number, headers: string[], resume: () => void): boolean {
    if (at !== this.attempt || this.finished) return false;
    const ex = this.ex;
    ex.onBodyData(); // stream activity
    this.cs.response(status);
    const h = downstreamResponseHeaders(headers, false);
    if (this.retry && this.retry.retriableResponse(status, h)) {
      if (this.scheduleRetry()) {
        at.discarding = true;
        this.cancel(this.pTimer);
        return true;
      }
    }
    this.responded = true;
    this.cancel(this.pTimer);
    this.body?.stopBuffering();
    if (at.n > 1 && !ex.responseFlags.includes('URX')) this.cs.rqRetrySuccess.inc();
    ex.upstreamHost = at.host;
    ex.responseCodeDetails = 'via_upstream';
    h.push('x-envoy-upstream-service-time', String(Math.round(performance.now() - at.startMono)));
    at.resume = resume;
    const ct = getHeader(h, 'content-type');
    const grpc = ex.grpc || (ct !== undefined && ct.startsWith('application/grpc'));
    // A gRPC response carrying grpc-status in its headers is Trailers-Only: nothing can follow, end it now.
    const trailersOnly = grpc && getHeader(h, 'grpc-status') !== undefined;
    try {
      ex.respond(status, h, trailersOnly, (grpc || ex.teTrailers) && ex.downstreamProtocol === 'http2', true);
    } catch (err) {
      // A header the downstream codec refuses: nothing sensible can be sent any more.
      ex.hcm.onInternalError(err);
      at.abort();
      this.finished = true;
      this.cleanup();
      ex.resetDownstream();
      return false;
    }
    return true;
  }

  onData(at: Attempt, chunk: Buffer): boolean {
    const ex = this.ex;
    if (ex.done) return false;
    ex.bytesSent += chunk.length;
    ex.onBodyData();
    if (ex.writeBody(chunk)) return true;
    ex.pendingResume = at.resume;
    return false;
  }

  onComplete(at: Attempt, trailers: string[] | null): void {
    if (at !== this.attempt || this.finished) return;
    this.finished = true;
    this.cleanup();
    this.cs.rqTime.record(performance.now() - at.startMono);
    const ex = this.ex;
    if (trailers && trailers.length) ex.responseTrailers = trailers;
    if (!ex.done) ex.endBody(ex.responseTrailers);
  }

  onAttemptError(at: Attempt, err: UpstreamError): void {
    if (at !== this.attempt || this.finished) return;
    const ex = this.ex;
    this.cancel(this.pTimer);
    ex.upstreamTransportFailureReason = transportFailureOf(err);
    if (this.responded) {
      this.finished = true;
      this.cleanup();
      ex.addFlag(err.flag === 'UT' || err.flag === 'UR' ? err.flag : 'UC');
      ex.connectionTerminationDetails = 'upstream_reset_after_response_started';
      this.cs.rqRxReset.inc();
      ex.hcm.stats.rqResetAfterResponseStarted.inc();
      ex.resetDownstream();
      return;
    }
    if (this.retry && this.retry.retriableError(err) && this.scheduleRetry()) return;
    this.fail(upstreamFailure(err, this.attempts > 1));
  }

  onUpgrade(at: Attempt, status: number, headers: string[], socket: Socket): void {
    if (at !== this.attempt || this.finished || this.ex.done) {
      socket.destroy();
      return;
    }
    this.finished = true;
    this.cleanup();
    this.cs.response(status);
    this.ex.upstreamHost = at.host;
    this.ex.responseCodeDetails = 'via_upstream';
    this.ex.stopIdleTimer();
    this.ex.acceptUpgrade(status, downstreamResponseHeaders(headers, true), socket);
  }

  onTimer(kind: number): void {
    if (this.finished) return;
    if (kind === T_BACKOFF) {
      this.startAttempt();
      return;
    }
    if (kind === T_PER_TRY) {
      const at = this.attempt;
      if (!at || at.done) return;
      this.cs.rqPerTryTimeout.inc();
      at.abort();
      if (this.retry && this.retry.retriableTimeout() && this.scheduleRetry()) return;
      this.fail(Replies.perTryTimeout);
      return;
    }
    // Route timeout.
    this.cs.rqTimeout.inc();
    this.attempt?.abort();
    if (!this.responded) {
      this.fail(Replies.timeout);
      return;
    }
    this.finished = true;
    this.cleanup();
    this.ex.addFlag('UT');
    this.ex.responseCodeDetails = 'response_timeout';
    this.ex.resetDownstream();
  }

  /** Takes a retry (budget permitting) and schedules it after the backoff; false = no retry (flags URX when exhausted). */
  private scheduleRetry(): boolean {
    const r = this.retry!;
    if (r.remaining <= 0) {
      this.ex.addFlag('URX');
      this.cs.rqRetryLimitExceeded.inc();
      return false;
    }
    if (this.body && !this.body.replayable) return false;
    if (!this.cluster.tryAcquireRetry()) {
      this.cs.rqRetryOverflow.inc();
      return false;
    }
    if (this.retryHeld) this.cluster.releaseRetry();
    this.retryHeld = true;
    r.retries++;
    this.cs.rqRetry.inc();
    this.bTimer ??= new TimerNode(this, T_BACKOFF);
    this.ex.hcm.timers.schedule(this.bTimer, r.nextBackoffMs());
    return true;
  }

  private fail(reply: LocalReply): void {
    this.finished = true;
    this.cleanup();
    // A request dropped by a circuit breaker tells the client so (Envoy's router onUpstreamAbort, `dropped`).
    this.ex.sendLocalReply(reply, true, reply.flag === 'UO' ? OVERLOADED : undefined);
  }

  /** The downstream stream ended (normally or not): stop everything still running upstream. */
  downstreamDone(aborted: boolean): void {
    if (!this.finished) {
      this.finished = true;
      if (aborted) this.attempt?.abort();
    }
    this.cleanup();
    this.body?.abort();
  }

  private cleanup(): void {
    this.cancel(this.gTimer);
    this.cancel(this.pTimer);
    this.cancel(this.bTimer);
    if (this.retryHeld) {
      this.retryHeld = false;
      this.cluster.releaseRetry();
    }
  }

  private cancel(n: TimerNode | null): void {
    if (n) this.ex.hcm.timers.cancel(n);
  }
}

/** `host:port` (or `[v6]:port`, or a bare host with the scheme's default port) as a passthrough destination. */
export function authorityDst(authority: string, scheme: string): SocketAddress | undefined {
  if (authority === '') return undefined;
  let host = authority;
  let port = scheme === 'https' ? 443 : 80;
  const close = authority.lastIndexOf(']');
  const colon = authority.lastIndexOf(':');
  if (colon > close && colon > 0) {
    const p = Number(authority.slice(colon + 1));
    if (!Number.isInteger(p) || p <= 0 || p > 65535) return undefined;
    port = p;
    host = authority.slice(0, colon);
  }
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return host === '' ? undefined : { address: host, port };
}

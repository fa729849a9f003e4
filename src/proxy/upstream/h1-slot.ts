// An HTTP/1.1 upstream connection: a raw socket from the pool's connector, requests written as one head string
// (+ identity or chunked body streamed with backpressure), responses parsed by llhttp (src/proxy/http1). One
// request at a time (no pipelining); kept alive between requests until the peer closes, says `connection: close`,
// or the cluster's idle timeout passes. Everything is per connection: no closure or timer per request.
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import {
  attachSocket,
  finishInput,
  headerLines,
  isParseError,
  LAST_CHUNK,
  lowerName,
  newParser,
  pauseInput,
  releaseParser,
  resumeInput,
  SKIP_BODY,
  unparsedInput,
  writeChunk,
  type LlhttpError,
  type LlhttpParser,
  type ParserOwner,
} from '../http1/llhttp.js';
import type { HostPool, Slot } from './pool.js';
import type { UpstreamStream } from './stream.js';

const MAX_TIMER_MS = 2_147_483_647;
/** Envoy's default max_request_headers_kb (60 KiB) bounds response heads too. */
const MAX_HEADER_BYTES = 60 * 1024;

const kConn = Symbol('isthmus.h1conn');
type Tagged = (Socket | Readable) & { [kConn]?: H1Slot };

export class H1Slot implements Slot, ParserOwner {
  inflight = 0;
  requests = 0;
  connected = false;
  dead = false;
  retiring = false;
  removed = false;
  inReady = false;
  readonly capacity = 1;
  private socket: Socket | null = null;
  private parser: LlhttpParser | null = null;
  /** The request on this connection (waiting for the socket, or in flight). */
  private cur: UpstreamStream | null = null;
  private chunked = false;
  private body: Readable | null = null;
  private bodyDone = true;
  /** Response state of `cur`. */
  private isHead = false;
  private interim = false;
  private responseStarted = false;
  private responseDone = false;
  private keepAlive = true;
  private trailers: string[] | null = null;
  /** The response head was parsed (kOnHeaders then carries trailers); pendingHead = pairs flushed before it. */
  private headDone = false;
  pendingHead: string[] | null = null;
  /** Response body paused by backpressure: chunks parsed meanwhile wait here, in order. */
  private paused = false;
  private held: Buffer[] | null = null;
  private heldComplete = false;
  private closed = false;
  /** A response head arrived with no request in flight (handled after execute returns). */
  private stray = false;
  /** Set by the headers callback when the upstream switched protocols (handled after execute returns). */
  private upgradeInfo: { status: number; headers: string[] } | null = null;
  /** The `resume` handed to the request with its response headers (one per connection, not per request). */
  readonly resume = (): void => this.onResume();

  constructor(
    private readonly pool: HostPool,
    servername: string | undefined,
  ) {
    pool.connect(this, servername, (err, socket) => {
      if (err || !socket) {
        const s = this.cur;
        this.cur = null;
        if (s) s.error(err);
        return;
      }
      if (this.removed) {
        socket.destroy();
        return;
      }
      this.attachSocket(socket);
      pool.onConnected(this);
      const s = this.cur;
      if (s) {
        this.cur = null;
        this.send(s);
      }
    });
  }

  private attachSocket(socket: Socket): void {
    this.socket = socket;
    (socket as Tagged)[kConn] = this;
    this.parser = newParser('response', MAX_HEADER_BYTES, this, true);
    attachSocket(this.parser, socket);
    socket.on('end', onSocketEnd);
    socket.on('close', onSocketClose);
    socket.on('error', onSocketError);
    socket.on('drain', onSocketDrain);
    const c = this.pool.owner.config;
    const idle = c.idleTimeoutMs > 0 ? Math.min(c.idleTimeoutMs, MAX_TIMER_MS) : 0;
    if (idle > 0) {
      socket.setTimeout(idle);
      socket.on('timeout', onSocketTimeout);
    }
  }

  send(s: UpstreamStream): void {
    const socket = this.socket;
    if (socket === null) {
      this.cur = s; // written once connected
      return;
    }
    if (s.done) return;
    const req = s.req;
    this.cur = s;
    this.isHead = req.method === 'HEAD';
    this.interim = false;
    this.responseStarted = false;
    this.responseDone = false;
    this.keepAlive = true;
    this.trailers = null;
    this.headDone = false;
    this.pendingHead = null;
    this.upgradeInfo = null;
    this.paused = false;
    this.held = null;
    this.heldComplete = false;
    const body = req.body;
    let head = req.method + ' ' + req.path + ' HTTP/1.1\r\n';
    let hasLength = false;
    try {
      const h = s.reqHeaders;
      if (body !== null) for (let i = 0; i < h.length; i += 2) if (h[i] === 'content-length') hasLength = true;
      head = headerLines(h, head);
    } catch (err) {
      this.cur = null;
      s.error(err);
      return;
    }
    if (req.upgrade) head += 'connection: upgrade\r\nupgrade: ' + req.upgrade + '\r\n';
    this.chunked = body !== null && !hasLength;
    if (this.chunked) head += 'transfer-encoding: chunked\r\n';
    head += '\r\n';
    s.markSent();
    socket.write(head, 'latin1');
    if (body === null) {
      this.bodyDone = true;
      this.body = null;
      return;
    }
    this.bodyDone = false;
    this.body = body;
    (body as Tagged)[kConn] = this;
    body.on('data', onBodyData);
    body.on('end', onBodyEnd);
    body.on('error', onBodyError);
  }

  // ---------------------------------------------------------------- request body

  /** @internal */
  bodyData(chunk: Buffer): void {
    const socket = this.socket!;
    const ok = this.chunked ? (chunk.length > 0 ? writeChunk(socket, chunk) : true) : socket.write(chunk);
    if (!ok) this.body!.pause();
  }

  /** @internal */
  bodyEnd(): void {
    if (this.chunked) this.socket!.write(LAST_CHUNK);
    this.detachBody();
    this.bodyDone = true;
    if (this.responseDone) this.afterResponse();
  }

  /** @internal The downstream body failed: the request cannot complete on this connection. */
  bodyFailed(): void {
    this.detachBody();
    this.fatal(Object.assign(new Error('request body aborted'), { code: 'UND_ERR_ABORTED' }));
  }

  private detachBody(): void {
    const b = this.body;
    if (b === null) return;
    this.body = null;
    b.removeListener('data', onBodyData);
    b.removeListener('end', onBodyEnd);
    b.removeListener('error', onBodyError);
    (b as Tagged)[kConn] = undefined;
  }

  /** @internal */
  onDrain(): void {
    this.body?.resume();
  }

  // ---------------------------------------------------------------- response

  /** @internal Bytes on an idle connection can only be a stray response: reusing it would answer the next request with it. */
  parserMessageBegin(): void {
    if (this.cur === null) this.stray = true;
  }

  /** @internal */
  parserHeadersComplete(_vMinor: number, raw: string[] | undefined, _method: number, _url: string | undefined, statusCode: number, upgrade: boolean, shouldKeepAlive: boolean): number {
    let headers = raw;
    if (headers === undefined) {
      headers = this.pendingHead ?? [];
      this.pendingHead = null;
    }
    this.headDone = true;
    const s = this.cur;
    if (s === null) {
      // A response nobody asked for (after the last one completed): the connection is out of step; drop it.
      this.stray = true;
      return SKIP_BODY;
    }
    for (let i = 0; i < headers.length; i += 2) headers[i] = lowerName(headers[i]);
    if (statusCode < 200 && statusCode !== 101) {
      this.interim = true; // 1xx informational: not forwarded; llhttp completes it without a body
      return 0;
    }
    this.responseStarted = true;
    this.keepAlive = shouldKeepAlive;
    if (upgrade && statusCode === 101) {
      // llhttp stops after this head; data() hands the socket over once execute() returns.
      this.upgradeInfo = { status: statusCode, headers };
      return 0;
    }
    const go = s.headers(statusCode, headers, this.resume);
    if (!go) this.pause();
    return this.isHead ? SKIP_BODY : 0;
  }

  /** @internal Header pairs llhttp flushed early (more than 32), or trailers after the head. */
  parserHeaders(headers: string[]): void {
    if (!this.headDone) {
      const p = (this.pendingHead ??= []);
      for (let i = 0; i < headers.length; i++) p.push(headers[i]);
    } else {
      const t = (this.trailers ??= []);
      for (let i = 0; i < headers.length; i++) t.push(headers[i]);
    }
  }

  /** @internal */
  parserBody(chunk: Buffer): void {
    const s = this.cur;
    if (s === null) return;
    if (this.paused) {
      (this.held ??= []).push(chunk);
      return;
    }
    if (!s.onData(chunk)) this.pause();
  }

  /** @internal */
  parserMessageComplete(): void {
    if (this.interim) {
      this.interim = false;
      this.headDone = false;
      return;
    }
    if (this.upgradeInfo !== null) return;
    if (this.paused) {
      this.heldComplete = true;
      return;
    }
    this.completeResponse();
  }

  private completeResponse(): void {
    const s = this.cur;
    this.responseDone = true;
    if (!this.bodyDone) {
      // Answered before the request body was sent (e.g. 413): the connection is not reusable.
      this.keepAlive = false;
      this.detachBody();
      this.bodyDone = true;
    }
    const trailers = this.trailers;
    this.trailers = null;
    this.afterResponse();
    if (s) s.complete(trailers && trailers.length > 0 ? lowerAll(trailers) : null);
  }

  /** Request and response both done: the connection takes the next request, or closes. */
  private afterResponse(): void {
    if (!this.bodyDone || this.cur === null) return;
    this.cur = null;
    if (!this.keepAlive) this.retireSocket();
  }

  private pause(): void {
    this.paused = true;
    if (this.parser !== null) pauseInput(this.parser);
  }

  private onResume(): void {
    if (!this.paused) return;
    this.paused = false;
    const held = this.held;
    this.held = null;
    if (held !== null) {
      for (let i = 0; i < held.length; i++) {
        if (this.paused) {
          // Paused again part way: keep the rest for the next resume.
          (this.held ??= []).push(...held.slice(i));
          return;
        }
        const s = this.cur;
        if (s !== null && !s.onData(held[i])) this.pause();
      }
      if (this.paused) return;
    }
    if (this.heldComplete) {
      this.heldComplete = false;
      this.completeResponse();
    }
    if (!this.paused && this.parser !== null) resumeInput(this.parser);
  }

  /** @internal */
  upgraded(rest: Buffer, statusCode: number, headers: string[]): void {
    const s = this.cur;
    const socket = this.socket!;
    this.cur = null;
    this.releaseSocket();
    this.socket = null;
    this.closed = true;
    this.dead = true;
    if (rest.length > 0) socket.unshift(rest);
    if (s) s.onUpgrade(statusCode, headers, socket);
    this.pool.onDisconnected(this, false);
  }

  /** @internal A read was parsed. */
  parserExecuted(r: number | LlhttpError, input: Buffer | null): void {
    if (this.parser === null) return;
    if (isParseError(r)) {
      this.fatal(r);
      return;
    }
    if (this.stray) {
      this.retireSocket();
      return;
    }
    if (this.upgradeInfo !== null && this.socket !== null) {
      const u = this.upgradeInfo;
      this.upgradeInfo = null;
      this.upgraded(unparsedInput(this.parser, input, r), u.status, u.headers);
    }
  }

  /** @internal An exception thrown by a response callback: fail that request, keep the process. */
  parserFailed(err: unknown): void {
    this.fatal(err instanceof Error ? err : new Error(String(err)));
  }

  /** @internal EOF from the upstream. */
  end(): void {
    const p = this.parser;
    if (p !== null && this.cur !== null && this.responseStarted && !this.responseDone && !this.heldComplete) {
      const r = finishInput(p); // completes a close-delimited body
      if (isParseError(r)) return this.fatal(r);
    }
    this.keepAlive = false;
    // 'end' can come while the consumer is paused: a response received in full still completes on resume.
    if (this.cur !== null && !this.responseDone && !this.heldComplete) this.fatal(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }));
    else this.retireSocket();
  }

  /** @internal */
  timeout(): void {
    if (this.cur === null) this.retireSocket();
  }

  /** @internal The socket closed or failed: the request in flight (if any) fails; the slot leaves the pool. */
  fatal(err: Error): void {
    if (this.heldComplete) {
      // The whole response is already here, held for a paused consumer: only the connection is lost.
      this.keepAlive = false;
      this.retireSocket();
      return;
    }
    const s = this.cur;
    this.cur = null;
    this.detachBody();
    this.retireSocket();
    if (s !== null && !s.done) s.error(err);
  }

  /** Stops using the socket and tells the pool (once). */
  private retireSocket(): void {
    if (this.closed) return;
    this.closed = true;
    this.dead = true;
    const socket = this.socket;
    this.releaseSocket();
    socket?.destroy();
    this.pool.onDisconnected(this, false);
  }

  private releaseSocket(): void {
    const socket = this.socket;
    if (socket !== null) {
      socket.removeListener('end', onSocketEnd);
      socket.removeListener('drain', onSocketDrain);
      socket.removeListener('timeout', onSocketTimeout);
      socket.setTimeout(0);
      socket.removeListener('close', onSocketClose);
      socket.removeListener('error', onSocketError);
      socket.on('error', noop);
      (socket as Tagged)[kConn] = undefined;
    }
    const p = this.parser;
    if (p !== null) {
      this.parser = null;
      releaseParser(p);
    }
  }

  /** Aborts the request in flight (router timeout, downstream gone): the connection cannot be reused. */
  abortStream(s: UpstreamStream): void {
    if (this.cur !== s) return;
    this.cur = null;
    this.detachBody();
    this.retireSocket();
  }

  close(): void {
    this.dead = true;
    if (this.cur === null) this.retireSocket();
    else this.keepAlive = false;
  }

  destroy(): void {
    this.dead = true;
    const s = this.cur;
    this.cur = null;
    this.detachBody();
    this.retireSocket();
    if (s !== null && !s.done) s.error(Object.assign(new Error('connection destroyed'), { code: 'UND_ERR_DESTROYED' }));
  }
}

function lowerAll(h: string[]): string[] {
  for (let i = 0; i < h.length; i += 2) h[i] = lowerName(h[i]);
  return h;
}

function noop(): void {}
// ---- socket callbacks (`this` is the socket)
function onSocketEnd(this: Tagged): void {
  this[kConn]?.end();
}
function onSocketClose(this: Tagged): void {
  this[kConn]?.fatal(Object.assign(new Error('socket closed'), { code: 'UND_ERR_SOCKET' }));
}
function onSocketError(this: Tagged, err: Error): void {
  this[kConn]?.fatal(err);
}
function onSocketDrain(this: Tagged): void {
  this[kConn]?.onDrain();
}
function onSocketTimeout(this: Tagged): void {
  this[kConn]?.timeout();
}

// ---- request body callbacks (`this` is the body Readable)
function onBodyData(this: Tagged, chunk: Buffer): void {
  this[kConn]?.bodyData(chunk);
}
function onBodyEnd(this: Tagged): void {
  this[kConn]?.bodyEnd();
}
function onBodyError(this: Tagged): void {
  this[kConn]?.bodyFailed();
}

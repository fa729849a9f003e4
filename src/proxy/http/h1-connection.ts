// The HTTP/1.1 downstream connection on a raw socket: llhttp (src/proxy/http1) parses requests; limits are header
// bytes (431), header count (431), header timeout (slowloris, 408), whole-request timeout (408) and the keep-alive
// idle timeout; llhttp rejects smuggling shapes (CL+TE, duplicate CL, bad chunking) with 400. Pipelined requests are
// parsed as they come (reading stops while some wait) and served one at a time, in order. Upgrade and CONNECT
// requests leave the codec with the socket (RawExchange). Timeouts use the HCM's timer wheel: one timer node per
// connection, re-armed at state changes, never a timer per request. Responses are framed by H1Exchange (h1.ts).
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import {
  attachSocket,
  isParseError,
  METHODS,
  newParser,
  pauseInput,
  releaseParser,
  resumeInput,
  unparsedInput,
  type LlhttpError,
  type LlhttpParser,
  type ParserOwner,
} from '../http1/llhttp.js';
import type { HcmContext } from './context.js';
import type { ConnState, Exchange } from './exchange.js';
import { getHeader } from './headers.js';
import { H1Exchange, runExchange, type H1Head } from './h1.js';
import { Replies } from './local-reply.js';
import { TimerNode, type TimerTarget } from './timer-wheel.js';

/** A request body as a Readable fed by the parser; backpressure pauses the socket. */
class H1Body extends Readable {
  constructor(private readonly conn: H1Connection) {
    super();
    // Failures reach the exchange through its RequestBody's listener; none may go unhandled before it attaches.
    this.on('error', noop);
  }
  override _read(): void {
    this.conn.bodyWanted();
  }
}

export interface H1Hooks {
  conn(socket: Socket): ConnState | undefined;
  /** Upgrade or CONNECT: the socket leaves the codec; `rest` = bytes after the request head. */
  onRaw(head: H1Head, socket: Socket, rest: Buffer): void;
  onCodecError(socket: Socket, status: number, details: string, inflight: Exchange | undefined): void;
}

const T_IDLE = 1;
const T_HEADERS = 2;
const T_REQUEST = 3;
const kConn = Symbol('isthmus.h1conn');
type Tagged = Socket & { [kConn]?: H1Connection };

/** Per-HCM settings of the codec, computed once. */
export class H1Codec {
  readonly maxHeaderBytes: number;
  readonly maxHeaders: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly connections = new Set<H1Connection>();

  constructor(
    readonly hcm: HcmContext,
    readonly hooks: H1Hooks,
  ) {
    const cfg = hcm.config;
    this.maxHeaderBytes = (cfg.maxRequestHeadersKb > 0 ? cfg.maxRequestHeadersKb : 60) * 1024;
    this.maxHeaders = cfg.maxHeadersCount > 0 ? cfg.maxHeadersCount : 100;
    this.headersTimeoutMs = cfg.requestHeadersTimeoutMs > 0 ? cfg.requestHeadersTimeoutMs : 60_000;
    this.requestTimeoutMs = cfg.requestTimeoutMs > 0 ? Math.max(cfg.requestTimeoutMs, this.headersTimeoutMs) : 0;
    this.idleTimeoutMs = cfg.idleTimeoutMs > 0 ? cfg.idleTimeoutMs : 3_600_000;
  }

  accept(socket: Socket): void {
    const conn = this.hooks.conn(socket);
    if (!conn) {
      socket.destroy();
      return;
    }
    this.connections.add(new H1Connection(this, socket, conn));
  }

  close(): void {
    for (const c of [...this.connections]) c.destroy();
  }
}

/** One downstream HTTP/1.1 connection. */
export class H1Connection implements TimerTarget, ParserOwner {
  readonly parser: LlhttpParser;
  /** The exchange being served; `queue` holds pipelined ones parsed meanwhile. */
  current: H1Exchange | null = null;
  readonly queue: H1Exchange[] = [];
  /** The exchange whose request is being parsed (body chunks go to its source). */
  private parsing: H1Exchange | null = null;
  private body: H1Body | null = null;
  /** @internal Header pairs (and request target) llhttp flushed before the head completed (more than 32). */
  pendingHead: string[] | null = null;
  /** @internal */
  pendingUrl = '';
  /** A request head has begun and is not complete yet. */
  private headPending = false;
  keepAlive = true;
  closed = false;
  /** Ending after the response being written (closeAfterWrite): nothing else is started. */
  private closing = false;
  /** The client half-closed after complete requests: they are answered, then the connection closes. */
  private peerEnded = false;
  /** Inside serveQueue (responses completing synchronously continue its loop instead of recursing). */
  private serving = false;
  /**
   * A codec error in a request pipelined behind the one being served: answered in turn, after the responses before
   * it (on `deferredEx` when its head was parsed, else once the queue is empty).
   */
  private deferredStatus = 0;
  private deferredDetails = '';
  private deferredEx: H1Exchange | null = null;
  private readPaused = false;
  private bodyPaused = false;
  private readonly timer: TimerNode;
  private timerKind = 0;

  constructor(
    private readonly codec: H1Codec,
    readonly socket: Socket,
    private readonly conn: ConnState,
  ) {
    this.parser = newParser('request', codec.maxHeaderBytes, this, true);
    (socket as Tagged)[kConn] = this;
    socket.setNoDelay(true);
    attachSocket(this.parser, socket);
    socket.on('end', onSocketEnd);
    socket.on('close', onSocketClose);
    socket.on('drain', onSocketDrain);
    this.timer = new TimerNode(this, 0);
    this.arm(T_IDLE, codec.idleTimeoutMs);
  }

  private arm(kind: number, ms: number): void {
    this.timerKind = kind;
    if (ms > 0) this.codec.hcm.timers.schedule(this.timer, ms);
    else this.codec.hcm.timers.cancel(this.timer);
  }

  onTimer(): void {
    if (this.closed) return;
    const kind = this.timerKind;
    this.timerKind = 0;
    if (kind === T_IDLE) {
      if (this.current === null && this.parsing === null) this.destroy();
      return;
    }
    const st = this.codec.hcm.stats;
    if (kind === T_HEADERS) st.rqHeaderTimeout.inc();
    this.codecError(408, kind === T_HEADERS ? 'request_header_timeout' : 'request_overall_timeout');
  }

  // ---------------------------------------------------------------- input

  /** @internal A read was parsed. */
  parserExecuted(r: number | LlhttpError, input: Buffer | null): void {
    if (this.closed) return;
    if (isParseError(r)) return this.parseError(r);
    const up = this.upgrade;
    if (up !== null) {
      this.upgrade = null;
      const rest = unparsedInput(this.parser, input, r);
      this.detach();
      // No reader until the tunnel is piped: hold the bytes in the socket (pipe() resumes it).
      this.socket.pause();
      this.codec.hooks.onRaw(up, this.socket, rest);
    }
  }

  /** @internal An exception thrown inside a parser callback: drop the connection, keep the process. */
  parserFailed(err: unknown): void {
    this.codec.hcm.onInternalError(err);
    this.destroy();
  }

  /** Set by the headers callback for Upgrade / CONNECT requests; handled once execute() returns. */
  private upgrade: H1Head | null = null;

  /** @internal First byte of a request: the header timeout (slowloris) starts. */
  parserMessageBegin(): void {
    this.headPending = true;
    // Behind a request being served, reading may be paused: the rest of this head is then not ours to wait for.
    // The header timeout starts once the connection has nothing else to do (serveQueue).
    if (this.current === null) this.arm(T_HEADERS, this.codec.headersTimeoutMs);
  }

  /** The response of `ex` must be the last on this connection: its request is still arriving, or the client is gone. */
  closesAfter(ex: H1Exchange): boolean {
    return this.parsing === ex || (this.peerEnded && this.queue.length === 0);
  }

  /**
   * @internal llhttp flushes header pairs (and the request target read so far) before the head completes when
   * there are more than 32; after the head, the same callback carries request trailers, which are dropped (as
   * Envoy's HTTP/1 codec does by default), never added to the next request's head.
   */
  parserHeaders(headers: string[], url: string | undefined): void {
    if (!this.headPending) return;
    const p = (this.pendingHead ??= []);
    for (let i = 0; i < headers.length; i++) p.push(headers[i]);
    if (url) this.pendingUrl += url;
  }

  /** @internal */
  parserHeadersComplete(versionMinor: number, headers: string[] | undefined, method: number, url: string | undefined, _status: number, upgrade: boolean, shouldKeepAlive: boolean): number {
    let h = headers;
    if (h === undefined) {
      h = this.pendingHead ?? [];
      this.pendingHead = null;
    }
    let u = url;
    if (u === undefined) {
      u = this.pendingUrl;
      this.pendingUrl = '';
    }
    this.onHeadersComplete(versionMinor, h, method, u || '/', upgrade, shouldKeepAlive);
    return 0;
  }

  private onHeadersComplete(versionMinor: number, rawHeaders: string[], method: number, url: string, upgrade: boolean, shouldKeepAlive: boolean): void {
    this.headPending = false;
    const head: H1Head = { method: METHODS[method] ?? 'GET', url, rawHeaders, versionMinor };
    const codec = this.codec;
    if (upgrade) {
      this.upgrade = head;
      this.arm(0, 0);
      return;
    }
    const hcm = codec.hcm;
    if (versionMinor === 1 && getRaw(rawHeaders, 'host') === undefined && url.charCodeAt(0) === 47) {
      this.codecError(400, 'missing_host_header');
      return;
    }
    const conn = this.conn;
    conn.inflight++;
    hcm.stats.rqTotal.inc();
    hcm.stats.rqHttp1Total.inc();
    hcm.stats.rqActive.inc();
    const ex = new H1Exchange(hcm, conn, this, head, shouldKeepAlive);
    if (ex.hasBody) {
      this.parsing = ex;
      const b = new H1Body(this);
      this.body = b;
      ex.source = b;
      this.arm(T_REQUEST, codec.requestTimeoutMs);
    } else this.arm(0, 0);
    if (rawHeaders.length > codec.maxHeaders * 2) {
      hcm.stats.rqTooLargeHeaders.inc();
      ex.hasBody = false;
      this.startOrQueue(ex, true);
      return;
    }
    if (ex.hasBody && versionMinor === 1) {
      const expect = getHeader(ex.headers, 'expect');
      ex.expectContinue = expect !== undefined && expect.toLowerCase() === '100-continue';
    }
    this.startOrQueue(ex, false);
  }

  private startOrQueue(ex: H1Exchange, tooManyHeaders: boolean): void {
    if (tooManyHeaders) ex.tooManyHeaders = true;
    if (this.current === null) {
      this.current = ex;
      this.startExchange(ex);
      return;
    }
    // Pipelined behind a response in progress: parsed now, served in order; stop reading until it is served.
    this.queue.push(ex);
    this.pauseRead();
  }

  private startExchange(ex: H1Exchange): void {
    // Sent only once the exchange is current: earlier on, it would land inside the response before it.
    if (ex.expectContinue) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
    if (ex.tooManyHeaders) ex.sendLocalReply(Replies.headersTooLarge);
    else runExchange(ex);
  }

  /** @internal */
  parserBody(chunk: Buffer): void {
    const b = this.body;
    if (b !== null && !b.push(chunk)) {
      this.bodyPaused = true;
      this.pauseRead();
    }
  }

  /** @internal */
  parserMessageComplete(): void {
    const b = this.body;
    if (b === null) return;
    this.body = null;
    this.parsing = null;
    b.push(null);
    if (this.timerKind === T_REQUEST) this.arm(0, 0);
  }

  /** @internal The body's consumer wants more. */
  bodyWanted(): void {
    if (!this.bodyPaused) return;
    this.bodyPaused = false;
    this.maybeResumeRead();
  }

  private pauseRead(): void {
    if (this.readPaused) return;
    this.readPaused = true;
    pauseInput(this.parser);
  }

  private maybeResumeRead(): void {
    if (!this.readPaused || this.bodyPaused || this.queue.length > 0 || this.closed) return;
    this.readPaused = false;
    resumeInput(this.parser);
  }

  // ---------------------------------------------------------------- output

  /** @internal The response of `ex` is written: next pipelined request, keep-alive, or close. */
  responseDone(ex: H1Exchange): void {
    if (this.current !== ex) return;
    this.current = null;
    ex.finish(false);
    // Answered before the request body finished (e.g. a local reply): the rest of the body cannot be skipped
    // reliably, so the connection ends after this response, as Envoy does.
    if (!this.keepAlive || this.parsing === ex) {
      this.keepAlive = false;
      this.closeAfterWrite();
      return;
    }
    if (!this.serving) this.serveQueue();
  }

  /**
   * Starts the pipelined requests in order. A loop rather than recursion: responses that complete synchronously
   * (local replies) return here through responseDone, however many are queued.
   */
  private serveQueue(): void {
    this.serving = true;
    let next: H1Exchange | undefined;
    while (this.current === null && !this.closing && !this.closed && (next = this.queue.shift()) !== undefined) {
      this.current = next;
      if (next === this.deferredEx) {
        this.serving = false;
        this.deferredError(next);
        return;
      }
      this.startExchange(next);
    }
    this.serving = false;
    if (this.closing || this.closed) return;
    if (this.current !== null) {
      if (this.queue.length === 0) this.maybeResumeRead();
      return;
    }
    if (this.deferredStatus !== 0) this.deferredError(undefined);
    else if (this.peerEnded) this.closeAfterWrite();
    else {
      if (this.headPending) this.arm(T_HEADERS, this.codec.headersTimeoutMs);
      else if (this.timerKind === 0) this.arm(T_IDLE, this.codec.idleTimeoutMs);
      this.maybeResumeRead();
    }
  }

  private deferredError(ex: H1Exchange | undefined): void {
    this.keepAlive = false;
    if (this.socket.writable) this.codec.hooks.onCodecError(this.socket, this.deferredStatus, this.deferredDetails, ex);
    else this.destroy();
  }

  /** @internal */
  onDrain(): void {
    this.current?.onDownstreamDrain();
  }

  private closeAfterWrite(): void {
    if (this.closed) return;
    this.closing = true;
    this.detachParser();
    this.socket.end();
    this.socket.destroySoon();
  }

  private parseError(err: LlhttpError): void {
    const code = err.code;
    if (code === 'HPE_HEADER_OVERFLOW') {
      this.codec.hcm.stats.rqTooLargeHeaders.inc();
      this.codecError(431, 'http1.headers_too_large');
    } else this.codecError(400, 'http1.codec_error');
  }

  private codecError(status: number, details: string): void {
    const cur = this.current;
    if (cur !== null && this.parsing !== cur && !cur.done) {
      // The request in error is pipelined behind the one being served (whose request is complete): that one and
      // the ones queued before the error are answered first.
      this.deferredStatus = status;
      this.deferredDetails = details;
      this.deferredEx = this.parsing;
      this.detachParser();
      this.body?.destroy(new Error(details));
      this.body = null;
      return;
    }
    const inflight = this.parsing ?? cur ?? undefined;
    const ex = inflight && !inflight.done ? inflight : undefined;
    this.keepAlive = false;
    this.detachParser();
    this.body?.destroy(new Error(details));
    this.body = null;
    if (this.socket.writable) this.codec.hooks.onCodecError(this.socket, status, details, ex);
    else this.destroy();
  }

  /** @internal EOF from the client: a request in the middle of its head or body is aborted. */
  end(): void {
    if ((this.parsing !== null && this.deferredStatus === 0) || (this.current === null && this.queue.length === 0)) {
      this.destroy();
      return;
    }
    // Half-closed after complete requests: answer them, then close.
    this.peerEnded = true;
  }

  /** @internal */
  onClose(): void {
    this.closed = true;
    this.detach();
    this.codec.connections.delete(this);
    const b = this.body;
    this.body = null;
    if (b !== null) b.destroy(Object.assign(new Error('downstream closed'), { code: 'ECONNRESET' }));
    const cur = this.current;
    this.current = null;
    if (cur !== null && !cur.done) cur.finish(!cur.ended);
    for (const q of this.queue.splice(0)) if (!q.done) q.finish(true);
    const p = this.parsing;
    this.parsing = null;
    if (p !== null && !p.done) p.finish(true);
  }

  destroy(): void {
    this.socket.destroy();
    if (!this.closed) this.onClose();
  }

  /** Stops parsing (closing or handing the socket over). */
  private detachParser(): void {
    if (!releaseParser(this.parser)) return;
    this.codec.hcm.timers.cancel(this.timer);
  }

  /** The socket leaves this codec (upgrade / CONNECT, or closed). */
  private detach(): void {
    this.detachParser();
    const s = this.socket;
    s.removeListener('end', onSocketEnd);
    s.removeListener('close', onSocketClose);
    s.removeListener('drain', onSocketDrain);
    (s as Tagged)[kConn] = undefined;
    this.codec.connections.delete(this);
  }
}

function getRaw(raw: string[], lower: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === lower.length && raw[i].toLowerCase() === lower) return raw[i + 1];
  return undefined;
}

function noop(): void {}

// ---- socket callbacks without closures (`this` is the socket)
function onSocketEnd(this: Tagged): void {
  this[kConn]?.end();
}
function onSocketClose(this: Tagged): void {
  this[kConn]?.onClose();
}
function onSocketDrain(this: Tagged): void {
  this[kConn]?.onDrain();
}

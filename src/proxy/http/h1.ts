// The HTTP/1.1 downstream codec on raw sockets: llhttp (src/proxy/http1) parses requests, responses are written as
// one head string plus identity or chunked body. Limits: header bytes (431), header count (431), header timeout
// (slowloris, 408), whole-request timeout (408), keep-alive idle timeout; llhttp rejects smuggling shapes (CL+TE,
// duplicate CL, bad chunking) with 400. Pipelined requests are parsed as they come and served one at a time.
// Upgrade and CONNECT requests leave the codec with the socket (RawExchange). Timeouts use the HCM's timer wheel:
// one timer node per connection, re-armed at state changes, never a timer per request.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import {
  HTTPParser,
  headerLines,
  isParseError,
  kOnBody,
  kOnHeaders,
  kOnHeadersComplete,
  kOnMessageBegin,
  kOnMessageComplete,
  METHODS,
  writeChunk,
  type LlhttpError,
  type LlhttpParser,
} from '../http1/llhttp.js';
import type { HcmContext } from './context.js';
import { Exchange, type ConnState } from './exchange.js';
import { getHeader, lowerNames } from './headers.js';
import { Replies } from './local-reply.js';
import { TimerNode, type TimerTarget } from './timer-wheel.js';

/** A parsed request head, as the codec hands it to exchanges. */
export interface H1Head {
  method: string;
  url: string;
  /** Raw header pairs as received (names in their original case). */
  rawHeaders: string[];
  versionMinor: number;
}

/** Fills method, headers, authority (absolute-form URIs route by their authority) and path from an HTTP/1 request. */
export function initFromH1(ex: Exchange, req: H1Head): void {
  ex.method = req.method;
  ex.headers = lowerNames(req.rawHeaders);
  const url = req.url;
  ex.authority = getHeader(ex.headers, 'host') ?? '';
  if (url.charCodeAt(0) === 47 /* '/' */ || url === '*') ex.path = url;
  else {
    // absolute-form (HTTP proxy requests): http://authority/path → route by authority, forward origin-form.
    ex.absoluteForm = true;
    const s = url.indexOf('://');
    const from = s >= 0 ? s + 3 : 0;
    let slash = url.indexOf('/', from);
    const q = url.indexOf('?', from);
    if (slash < 0 || (q >= 0 && q < slash)) slash = q;
    ex.authority = slash < 0 ? url.slice(from) : url.slice(from, slash);
    ex.path = slash < 0 ? '/' : url[slash] === '?' ? '/' + url.slice(slash) : url.slice(slash);
    if (s > 0) ex.scheme = url.slice(0, s).toLowerCase();
  }
  const cl = getHeader(ex.headers, 'content-length');
  ex.hasBody = (cl !== undefined && cl !== '0') || getHeader(ex.headers, 'transfer-encoding') !== undefined;
}

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

export class H1Exchange extends Exchange {
  readonly protocol: string;
  /** Response framing chosen in writeHead. */
  private chunked = false;
  private noBody = false;
  ended = false;
  /** Pipelined request that exceeded max_headers_count: answered 431 when its turn comes. */
  tooManyHeaders = false;

  constructor(
    hcm: HcmContext,
    conn: ConnState,
    readonly codec: H1Connection,
    head: H1Head,
    readonly keepAlive: boolean,
  ) {
    super(hcm, conn);
    this.protocol = head.versionMinor === 0 ? 'HTTP/1.0' : 'HTTP/1.1';
    initFromH1(this, head);
  }

  protected writeHead(status: number, headers: string[], end: boolean): void {
    const c = this.codec;
    if (c.closed) return;
    if (this.hcm.draining && c.keepAlive) {
      c.keepAlive = false;
      this.hcm.stats.rqDrainClose.inc();
    }
    // The request (or its body) is not complete yet: after this response the connection closes, as Envoy does.
    if (!this.keepAlive || c.parsingRequest(this)) c.keepAlive = false;
    this.noBody = this.method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
    let head = 'HTTP/1.1 ' + status + ' ' + (STATUS_CODES[status] ?? 'Unknown') + '\r\n';
    let hasLength = false;
    let hasDate = false;
    for (let i = 0; i < headers.length; i += 2) {
      const n = headers[i];
      if (n === 'content-length') hasLength = true;
      else if (n === 'date') hasDate = true;
    }
    try {
      head = headerLines(headers, head);
    } catch {
      // A header the codec cannot write (CR/LF from a mutation): the response cannot be sent as asked.
      this.responseCodeDetails = 'invalid_response_header';
      this.resetDownstream();
      return;
    }
    if (!hasDate) head += 'date: ' + httpDate() + '\r\n';
    if (!this.noBody && !hasLength) {
      if (end) head += 'content-length: 0\r\n';
      else if (this.protocol === 'HTTP/1.1') {
        head += 'transfer-encoding: chunked\r\n';
        this.chunked = true;
      } else c.keepAlive = false; // HTTP/1.0 without a length: the body ends with the connection
    }
    if (!c.keepAlive) head += 'connection: close\r\n';
    else if (this.protocol === 'HTTP/1.0') head += 'connection: keep-alive\r\n';
    this.out = head + '\r\n';
    if (end) this.endBody(null);
    else process.nextTick(flushExchange, this);
  }

  /**
   * Output of this tick not yet written: head, small body chunks and the last chunk go out as ONE latin1 string
   * write (a single write syscall; node's cork/writev path costs several µs more per response). Flushed at the end
   * of the response, on the next tick (streaming), or when it grows past OUT_MAX.
   */
  private out: string | null = null;

  /** @internal */
  flush(): boolean {
    const o = this.out;
    if (o === null) return true;
    this.out = null;
    const c = this.codec;
    return c.closed ? true : c.socket.write(o, 'latin1');
  }

  writeBody(chunk: Buffer): boolean {
    const c = this.codec;
    if (c.closed || this.ended || this.noBody) return true;
    const n = chunk.length;
    if (n === 0) return true;
    if (this.out !== null && this.out.length + n <= OUT_MAX) {
      this.out += this.chunked ? n.toString(16) + '\r\n' + chunk.toString('latin1') + '\r\n' : chunk.toString('latin1');
      return !c.socket.writableNeedDrain;
    }
    this.flush();
    return this.chunked ? writeChunk(c.socket, chunk) : c.socket.write(chunk);
  }

  endBody(trailers: string[] | null): void {
    const c = this.codec;
    if (this.ended || c.closed) return;
    this.ended = true;
    if (this.chunked) {
      let t = '0\r\n';
      if (trailers && trailers.length > 0 && this.teTrailers) {
        try {
          t = headerLines(trailers, t);
        } catch {
          t = '0\r\n';
        }
      }
      this.out = (this.out ?? '') + t + '\r\n';
    }
    this.flush();
    c.responseDone(this);
  }

  resetDownstream(): void {
    this.localReset = true;
    this.hcm.stats.rqTxReset.inc();
    this.codec.destroy();
  }
}

export interface H1Hooks {
  conn(socket: Socket): ConnState | undefined;
  /** Upgrade or CONNECT: the socket leaves the codec; `rest` = bytes after the request head. */
  onRaw(head: H1Head, socket: Socket, rest: Buffer): void;
  onCodecError(socket: Socket, status: number, details: string, inflight: Exchange | undefined): void;
}

/** Largest response output batched into one string write (bigger bodies are written as their own buffers). */
const OUT_MAX = 16 * 1024;
const T_IDLE = 1;
const T_HEADERS = 2;
const T_REQUEST = 3;
const kConn = Symbol('isthmus.h1conn');
type Tagged = (Socket | LlhttpParser) & { [kConn]?: H1Connection };

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
export class H1Connection implements TimerTarget {
  readonly parser: LlhttpParser;
  /** The exchange being served; `queue` holds pipelined ones parsed meanwhile. */
  current: H1Exchange | null = null;
  readonly queue: H1Exchange[] = [];
  /** The exchange whose request is being parsed (body chunks go to its source). */
  private parsing: H1Exchange | null = null;
  private body: H1Body | null = null;
  /** @internal Header pairs llhttp flushed before the head completed (more than 32). */
  pendingHead: string[] | null = null;
  keepAlive = true;
  closed = false;
  private readPaused = false;
  private bodyPaused = false;
  private readonly timer: TimerNode;
  private timerKind = 0;

  constructor(
    private readonly codec: H1Codec,
    readonly socket: Socket,
    private readonly conn: ConnState,
  ) {
    const p = new HTTPParser();
    p.initialize(HTTPParser.REQUEST, {}, codec.maxHeaderBytes, HTTPParser.kLenientNone);
    (p as Tagged)[kConn] = this;
    p[kOnMessageBegin] = onParserMessageBegin;
    p[kOnHeaders] = onParserHeaders;
    p[kOnHeadersComplete] = onParserHeadersComplete;
    p[kOnBody] = onParserBody;
    p[kOnMessageComplete] = onParserMessageComplete;
    this.parser = p;
    (socket as Tagged)[kConn] = this;
    socket.setNoDelay(true);
    socket.on('data', onSocketData);
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

  /** @internal */
  data(chunk: Buffer): void {
    let r: number | LlhttpError;
    try {
      r = this.parser.execute(chunk);
    } catch (err) {
      // An exception thrown inside a parser callback surfaces here: drop the connection, keep the process.
      this.codec.hcm.onInternalError(err);
      this.destroy();
      return;
    }
    if (this.closed) return;
    if (isParseError(r)) return this.parseError(r);
    const up = this.upgrade;
    if (up !== null) {
      this.upgrade = null;
      this.detach();
      // No reader until the tunnel is piped: hold the bytes in the socket (pipe() resumes it).
      this.socket.pause();
      this.codec.hooks.onRaw(up, this.socket, chunk.subarray(r));
    }
  }

  /** Set by the headers callback for Upgrade / CONNECT requests; handled once execute() returns. */
  private upgrade: H1Head | null = null;

  /** @internal First byte of a request: the header timeout (slowloris) starts. */
  onMessageBegin(): void {
    this.arm(T_HEADERS, this.codec.headersTimeoutMs);
  }

  /** The request of `ex` is still being received. */
  parsingRequest(ex: H1Exchange): boolean {
    return this.parsing === ex;
  }

  /** @internal */
  onHeaders(headers: string[]): void {
    const p = (this.pendingHead ??= []);
    for (let i = 0; i < headers.length; i++) p.push(headers[i]);
  }

  /** @internal */
  onHeadersComplete(versionMinor: number, rawHeaders: string[], method: number, url: string, upgrade: boolean, shouldKeepAlive: boolean): void {
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
      if (expect !== undefined && expect.toLowerCase() === '100-continue') this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
    }
    this.startOrQueue(ex, false);
  }

  private startOrQueue(ex: H1Exchange, tooManyHeaders: boolean): void {
    if (this.current === null) {
      this.current = ex;
      if (tooManyHeaders) ex.sendLocalReply(Replies.headersTooLarge);
      else runExchange(ex);
      return;
    }
    // Pipelined behind a response in progress: parsed now, served in order; stop reading until it is served.
    if (tooManyHeaders) ex.tooManyHeaders = true;
    this.queue.push(ex);
    this.pauseRead();
  }

  /** @internal */
  onBody(chunk: Buffer): void {
    const b = this.body;
    if (b !== null && !b.push(chunk)) {
      this.bodyPaused = true;
      this.pauseRead();
    }
  }

  /** @internal */
  onMessageComplete(): void {
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
    this.socket.pause();
  }

  private maybeResumeRead(): void {
    if (!this.readPaused || this.bodyPaused || this.queue.length > 0 || this.closed) return;
    this.readPaused = false;
    this.socket.resume();
  }

  // ---------------------------------------------------------------- output

  /** @internal The response of `ex` is written: next pipelined request, keep-alive, or close. */
  responseDone(ex: H1Exchange): void {
    if (this.current !== ex) return;
    this.current = null;
    ex.finish(false);
    if (!this.keepAlive) {
      this.closeAfterWrite();
      return;
    }
    if (this.parsing === ex) {
      // Answered before the request body finished (e.g. a local reply): the rest of the body cannot be skipped
      // reliably, so the connection ends after this response, as Envoy does.
      this.keepAlive = false;
      this.closeAfterWrite();
      return;
    }
    const next = this.queue.shift();
    if (next !== undefined) {
      this.current = next;
      if (next.tooManyHeaders) next.sendLocalReply(Replies.headersTooLarge);
      else runExchange(next);
      if (this.current === null || this.queue.length === 0) this.maybeResumeRead();
      return;
    }
    if (this.timerKind === 0) this.arm(T_IDLE, this.codec.idleTimeoutMs);
    this.maybeResumeRead();
  }

  /** @internal */
  onDrain(): void {
    this.current?.onDownstreamDrain();
  }

  private closeAfterWrite(): void {
    if (this.closed) return;
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
    const inflight = this.parsing ?? this.current ?? undefined;
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
    if (this.parsing !== null || (this.current === null && this.queue.length === 0)) {
      this.destroy();
      return;
    }
    // Half-closed after a complete request: answer it, then close.
    this.keepAlive = false;
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
    const p = this.parser;
    if ((p as Tagged)[kConn] === undefined) return;
    (p as Tagged)[kConn] = undefined;
    this.socket.removeListener('data', onSocketData);
    this.codec.hcm.timers.cancel(this.timer);
    // Never freed synchronously: this may run inside one of the parser's own callbacks.
    setImmediate(closeParser, p);
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
function flushExchange(ex: H1Exchange): void {
  ex.flush();
}

function closeParser(p: LlhttpParser): void {
  p.close();
}

// ---- callbacks without closures (`this` is the parser or the socket)
function onParserMessageBegin(this: Tagged): void {
  this[kConn]?.onMessageBegin();
}
function onParserHeaders(this: Tagged, headers: string[]): void {
  this[kConn]?.onHeaders(headers);
}
function onParserHeadersComplete(
  this: Tagged,
  _vMajor: number,
  vMinor: number,
  headers: string[] | undefined,
  method: number,
  url: string | undefined,
  _status: number,
  _statusMessage: string | undefined,
  upgrade: boolean,
  shouldKeepAlive: boolean,
): number {
  const c = this[kConn];
  if (c === undefined) return 0;
  let h = headers;
  if (h === undefined) {
    h = c.pendingHead ?? [];
    c.pendingHead = null;
  }
  c.onHeadersComplete(vMinor, h, method, url ?? '/', upgrade, shouldKeepAlive);
  return 0;
}
function onParserBody(this: Tagged, chunk: Buffer): void {
  this[kConn]?.onBody(chunk);
}
function onParserMessageComplete(this: Tagged): void {
  this[kConn]?.onMessageComplete();
}
function onSocketData(this: Tagged, chunk: Buffer): void {
  this[kConn]?.data(chunk);
}
function onSocketEnd(this: Tagged): void {
  this[kConn]?.end();
}
function onSocketClose(this: Tagged): void {
  this[kConn]?.onClose();
}
function onSocketDrain(this: Tagged): void {
  this[kConn]?.onDrain();
}

// `date` header value, formatted at most once per second (as node:http caches it).
let dateCache = '';
let dateSecond = 0;
function httpDate(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateCache = new Date(now).toUTCString();
  }
  return dateCache;
}

/** Starts an exchange, turning unexpected exceptions into a 500 / reset instead of a crashed process. */
export function runExchange(ex: Exchange): void {
  try {
    ex.start();
  } catch (err) {
    ex.hcm.onInternalError(err);
    if (!ex.headersSent) ex.sendLocalReply({ status: 500, body: 'internal error', details: 'internal_error' });
    else ex.resetDownstream();
  }
}

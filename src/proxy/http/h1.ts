// HTTP/1.1 downstream exchanges: request heads from the codec (h1-connection.ts) become Exchanges; responses are
// written as one head string plus identity, chunked or close-delimited (HTTP/1.0) body, with HEAD/204/304 bodiless
// and trailers only for clients that sent `te: trailers`.
import { headerLines, statusLine, writeChunk } from '../http1/llhttp.js';
import type { HcmContext } from './context.js';
import { Exchange, type ConnState } from './exchange.js';
import { getHeader, lowerNames } from './headers.js';
import type { H1Connection } from './h1-connection.js';

export { H1Codec, H1Connection, type H1Hooks } from './h1-connection.js';

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

export class H1Exchange extends Exchange {
  readonly protocol: string;
  /** Response framing chosen in writeHead. */
  private chunked = false;
  private noBody = false;
  ended = false;
  /** Pipelined request that exceeded max_headers_count: answered 431 when its turn comes. */
  tooManyHeaders = false;
  /** `expect: 100-continue` with a body: the interim response is sent when the exchange starts. */
  expectContinue = false;

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
    if (!this.keepAlive || c.closesAfter(this)) c.keepAlive = false;
    this.noBody = this.method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
    let head = statusLine(status);
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

/** Largest response output batched into one string write (bigger bodies are written as their own buffers). */
const OUT_MAX = 16 * 1024;

function flushExchange(ex: H1Exchange): void {
  ex.flush();
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

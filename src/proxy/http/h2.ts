// The HTTP/2 downstream (h2c prior knowledge, or h2 after TLS ALPN): a node:http2 server fed sockets, and
// H2Exchange over a ServerHttp2Stream (raw header arrays in, trailers out for gRPC).
import { constants, createServer, type Http2Server, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { HcmContext } from './context.js';
import { Exchange, type ConnState } from './exchange.js';
import { runExchange } from './h1.js';
import { getHeader, toH2Headers, toH2Trailers } from './headers.js';
import { pipeBoth } from './tunnel.js';

const kEx = Symbol('isthmus.h2exchange');
type Stream = ServerHttp2Stream & { [kEx]?: H2Exchange };

export class H2Exchange extends Exchange {
  readonly protocol = 'HTTP/2';
  override readonly downstreamProtocol = 'http2';
  private trailers: string[] | null = null;
  private ended = false;

  constructor(
    hcm: HcmContext,
    conn: ConnState,
    readonly stream: ServerHttp2Stream,
    raw: string[],
  ) {
    super(hcm, conn);
    const h: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      const n = raw[i];
      if (n.charCodeAt(0) !== 58 /* ':' */) {
        h.push(n, raw[i + 1]);
        continue;
      }
      switch (n) {
        case ':method':
          this.method = raw[i + 1];
          break;
        case ':path':
          this.path = raw[i + 1];
          break;
        case ':authority':
          this.authority = raw[i + 1];
          break;
        case ':scheme':
          this.scheme = raw[i + 1];
          break;
        default:
          break; // :protocol (extended CONNECT) is not supported
      }
    }
    this.headers = h;
    if (!this.authority) this.authority = getHeader(h, 'host') ?? '';
    this.hasBody = !stream.endAfterHeaders;
    if (this.hasBody) this.source = stream;
    (stream as Stream)[kEx] = this;
    stream.on('close', onStreamClose);
    stream.on('drain', onStreamDrain);
    stream.on('wantTrailers', onWantTrailers);
    stream.on('error', noop);
  }

  protected writeHead(status: number, headers: string[], end: boolean, trailers: boolean): void {
    const s = this.stream;
    if (s.destroyed || s.closed) return;
    s.respond(toH2Headers(headers, status), { endStream: end, waitForTrailers: trailers && !end });
    if (end) this.ended = true;
  }

  writeBody(chunk: Buffer): boolean {
    const s = this.stream;
    return s.destroyed || s.closed ? true : s.write(chunk);
  }

  endBody(trailers: string[] | null): void {
    if (this.ended) return;
    this.trailers = trailers;
    this.ended = true;
    if (!this.stream.destroyed) this.stream.end();
  }

  sendTrailers(): void {
    const t = this.trailers;
    const s = this.stream;
    if (s.destroyed || s.closed) return;
    // An empty trailers block still ends the stream cleanly (END_STREAM on HEADERS, no RST_STREAM).
    s.sendTrailers(t && t.length ? toH2Trailers(t) : {});
  }

  resetDownstream(): void {
    this.localReset = true;
    this.hcm.stats.rqTxReset.inc();
    if (!this.stream.destroyed) this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  }

  override openTunnel(upstream: Socket): void {
    if (this.stream.destroyed || this.stream.closed) {
      upstream.destroy();
      return;
    }
    this.ended = true;
    pipeBoth(this.stream, upstream);
  }

  onClose(): void {
    this.finish(!this.ended || this.stream.rstCode !== constants.NGHTTP2_NO_ERROR);
  }
}

function noop(): void {}
function onStreamClose(this: Stream): void {
  const ex = this[kEx];
  if (!ex) return;
  this[kEx] = undefined;
  ex.onClose();
}
function onStreamDrain(this: Stream): void {
  this[kEx]?.onDownstreamDrain();
}
function onWantTrailers(this: Stream): void {
  this[kEx]?.sendTrailers();
}

export interface H2Hooks {
  /** The ConnState of the socket a session was created on. */
  conn(socket: Socket): ConnState | undefined;
  onSession(session: ServerHttp2Session, conn: ConnState): void;
}

const kConn = Symbol('isthmus.h2conn');
type Session = ServerHttp2Session & { [kConn]?: ConnState };

export function createH2Server(hcm: HcmContext, hooks: H2Hooks): Http2Server {
  const cfg = hcm.config;
  const maxHeaders = cfg.maxHeadersCount > 0 ? cfg.maxHeadersCount : 100;
  const server = createServer({
    maxHeaderListPairs: maxHeaders + 4,
    settings: {
      maxHeaderListSize: (cfg.maxRequestHeadersKb > 0 ? cfg.maxRequestHeadersKb : 60) * 1024,
      enablePush: false,
    },
  });
  server.on('session', (session: Session) => {
    const socket = (session as unknown as { socket: Socket }).socket;
    const conn = hooks.conn(socket);
    if (!conn) {
      session.destroy();
      return;
    }
    session[kConn] = conn;
    session.on('error', noop);
    hooks.onSession(session, conn);
  });
  server.on('stream', (stream: ServerHttp2Stream, _headers: unknown, _flags: number, raw: string[]) => {
    const conn = (stream.session as Session | undefined)?.[kConn];
    if (!conn) {
      stream.close(constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    conn.inflight++;
    hcm.stats.rqTotal.inc();
    hcm.stats.rqHttp2Total.inc();
    hcm.stats.rqActive.inc();
    const ex = new H2Exchange(hcm, conn, stream, raw);
    if (ex.method === 'CONNECT') ex.isConnect = true;
    runExchange(ex);
  });
  return server;
}

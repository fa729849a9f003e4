// The HTTP/1.1 downstream: a node:http Server fed accepted sockets, its limits (header size and count, header and
// request timeouts, keep-alive idle), codec errors answered 400/408/431, and H1Exchange over IncomingMessage/ServerResponse.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { HcmContext } from './context.js';
import { Exchange, type ConnState } from './exchange.js';
import { getHeader, lowerNames } from './headers.js';
import { Replies } from './local-reply.js';

const kEx = Symbol('isthmus.h1exchange');
type Res = ServerResponse & { [kEx]?: H1Exchange };

/** Fills method, headers, authority (absolute-form URIs route by their authority) and path from an HTTP/1 request. */
export function initFromH1(ex: Exchange, req: IncomingMessage): void {
  ex.method = req.method ?? 'GET';
  ex.headers = lowerNames(req.rawHeaders);
  const url = req.url ?? '/';
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

  constructor(
    hcm: HcmContext,
    conn: ConnState,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
  ) {
    super(hcm, conn);
    this.protocol = req.httpVersionMinor === 0 ? 'HTTP/1.0' : 'HTTP/1.1';
    initFromH1(this, req);
    if (this.hasBody) this.source = req;
    (res as Res)[kEx] = this;
    res.on('close', onResClose);
    res.on('drain', onResDrain);
    res.on('error', noop);
  }

  protected writeHead(status: number, headers: string[], end: boolean): void {
    const res = this.res;
    if (res.destroyed) return;
    if (this.hcm.draining) {
      res.shouldKeepAlive = false;
      this.hcm.stats.rqDrainClose.inc();
    }
    res.writeHead(status, headers);
    if (end) res.end();
  }

  writeBody(chunk: Buffer): boolean {
    const res = this.res;
    return res.destroyed || res.writableEnded ? true : res.write(chunk);
  }

  endBody(trailers: string[] | null): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    if (trailers && trailers.length && this.teTrailers) {
      const t: [string, string][] = [];
      for (let i = 0; i < trailers.length; i += 2) t.push([trailers[i], trailers[i + 1]]);
      this.res.addTrailers(t);
    }
    this.res.end();
  }

  resetDownstream(): void {
    this.localReset = true;
    this.hcm.stats.rqTxReset.inc();
    this.res.destroy();
  }
}

function noop(): void {}
function onResClose(this: Res): void {
  const ex = this[kEx];
  if (!ex) return;
  this[kEx] = undefined;
  ex.finish(!this.writableFinished);
}
function onResDrain(this: Res): void {
  this[kEx]?.onDownstreamDrain();
}

export interface H1Hooks {
  conn(socket: Socket): ConnState | undefined;
  onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void;
  onConnect(req: IncomingMessage, socket: Socket, head: Buffer): void;
  onCodecError(socket: Socket, status: number, details: string, inflight: Exchange | undefined): void;
}

/** The connection's exchange in flight (HTTP/1 serves one request at a time per connection). */
export const kCurrent = Symbol('isthmus.h1current');
type TrackedSocket = Socket & { [kCurrent]?: Exchange };

/** A node:http server that never listens: the handler feeds it sockets with emit('connection'). */
export function createH1Server(hcm: HcmContext, hooks: H1Hooks): Server {
  const cfg = hcm.config;
  const headersTimeout = cfg.requestHeadersTimeoutMs > 0 ? cfg.requestHeadersTimeoutMs : 60_000;
  const requestTimeout = cfg.requestTimeoutMs > 0 ? Math.max(cfg.requestTimeoutMs, headersTimeout) : 0;
  const server = createServer({
    maxHeaderSize: (cfg.maxRequestHeadersKb > 0 ? cfg.maxRequestHeadersKb : 60) * 1024,
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: cfg.idleTimeoutMs > 0 ? cfg.idleTimeoutMs : 3_600_000,
    connectionsCheckingInterval: Math.min(Math.max(Math.floor(headersTimeout / 4), 50), 5000),
    noDelay: true,
    insecureHTTPParser: false,
  });
  const maxHeaders = cfg.maxHeadersCount > 0 ? cfg.maxHeadersCount : 100;
  // One more than allowed so that an over-limit request is visible (node truncates silently).
  server.maxHeadersCount = maxHeaders + 1;
  server.timeout = 0;

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket as TrackedSocket;
    const conn = hooks.conn(socket);
    if (!conn) {
      res.destroy();
      return;
    }
    conn.inflight++;
    hcm.stats.rqTotal.inc();
    hcm.stats.rqHttp1Total.inc();
    hcm.stats.rqActive.inc();
    const ex = new H1Exchange(hcm, conn, req, res);
    socket[kCurrent] = ex;
    if (req.rawHeaders.length > maxHeaders * 2) {
      hcm.stats.rqTooLargeHeaders.inc();
      ex.sendLocalReply(Replies.headersTooLarge);
      return;
    }
    runExchange(ex);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => hooks.onUpgrade(req, socket, head));
  server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => hooks.onConnect(req, socket, head));
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const code = err.code ?? '';
    if (code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    let status = 400;
    let details = 'http1.codec_error';
    if (code === 'HPE_HEADER_OVERFLOW') {
      status = 431;
      details = 'http1.headers_too_large';
      hcm.stats.rqTooLargeHeaders.inc();
    } else if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      status = 408;
      details = 'request_header_timeout';
      hcm.stats.rqHeaderTimeout.inc();
    }
    const cur = (socket as TrackedSocket)[kCurrent];
    hooks.onCodecError(socket, status, details, cur && !cur.done ? cur : undefined);
  });
  // Starts node's connection checker (headersTimeout / requestTimeout enforcement) although the server never listens.
  server.emit('listening');
  return server;
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

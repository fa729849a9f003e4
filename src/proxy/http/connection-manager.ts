// The HTTP connection manager as a NetworkHandler: takes accepted sockets from the listener, picks HTTP/1.1 or
// HTTP/2 (sniffed, ALPN, or a peek for the h2 preface), hands them to its codec servers, and drains them on demand.
import type { Http2Server, ServerHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { logger } from '../../shared/log.js';
import type { ClusterManager, ConfigSource, ConnectionInfo, NetworkHandler } from '../runtime/contracts.js';
import type { HttpConnectionManagerConfig, RouteTable } from '../runtime/types.js';
import type { Stats } from '../telemetry/stats.js';
import { compileAccessLog, type AccessLogFormatter } from './access-log.js';
import type { HcmContext, HttpFilterImpl, NodeInfo } from './context.js';
import type { ConnState, Exchange } from './exchange.js';
import { compileFilters } from './filters/index.js';
import { statusLine } from '../http1/llhttp.js';
import { H1Codec, runExchange, type H1Head } from './h1.js';
import { createH2Server } from './h2.js';
import { ClusterStatsCache, HcmStats } from './http-stats.js';
import { AccessLogSinks, type LineSink } from './log-writer.js';
import { RawExchange } from './raw-exchange.js';
import { TimerWheel } from './timer-wheel.js';

const log = logger('http');

export interface HttpHandlerDeps {
  config: ConfigSource;
  clusters: ClusterManager;
  stats: Stats;
  nodeInfo?: NodeInfo;
  /** Wall clock (epoch ms); default Date.now. */
  now?: () => number;
  /** [0, 1) source for percentages and weighted picks; default Math.random. */
  random?: () => number;
  /** Shared coarse timer; default one per handler. */
  timers?: TimerWheel;
  /** Shared access-log writers; default one registry per handler. */
  logSinks?: AccessLogSinks;
  /** Request body bytes buffered for retries and shadows (default 64 KiB, Envoy's per_request_buffer_limit). */
  bufferLimitBytes?: number;
}

/** The HCM handler: a NetworkHandler plus close() to free its servers once it is no longer used. */
export interface HttpHandler extends NetworkHandler {
  readonly draining: boolean;
  /** Destroys every connection and releases timers now. */
  close(): void;
}

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const kConn = Symbol('isthmus.conn');
type Tracked = Socket & { [kConn]?: ConnState };

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export class HttpConnectionManager implements HttpHandler, HcmContext {
  readonly configSource: ConfigSource;
  readonly clusters: ClusterManager;
  readonly stats: HcmStats;
  readonly clusterStats: ClusterStatsCache;
  readonly filters: readonly HttpFilterImpl[];
  readonly timers: TimerWheel;
  readonly random: () => number;
  readonly now: () => number;
  readonly accessLogs: { format: AccessLogFormatter; sink: LineSink }[] = [];
  readonly serverName: string;
  readonly nodeInfo: NodeInfo;
  readonly bufferLimit: number;
  draining = false;
  private readonly ownTimers: boolean;
  private readonly ownSinks: AccessLogSinks | null;
  private readonly sockets = new Set<Socket>();
  private readonly sessions = new Set<ServerHttp2Session>();
  private readonly h1: H1Codec;
  private readonly h2: Http2Server;
  private nextId = 1;
  private drainWaiters: (() => void)[] = [];
  private drainTimer: NodeJS.Timeout | null = null;
  private lastErrorLog = 0;

  constructor(
    readonly config: HttpConnectionManagerConfig,
    deps: HttpHandlerDeps,
  ) {
    this.configSource = deps.config;
    this.clusters = deps.clusters;
    this.stats = new HcmStats(deps.stats, config.statPrefix);
    this.clusterStats = new ClusterStatsCache(deps.stats);
    this.ownTimers = !deps.timers;
    this.timers = deps.timers ?? new TimerWheel();
    this.random = deps.random ?? Math.random;
    this.now = deps.now ?? Date.now;
    this.serverName = config.serverName || 'envoy';
    this.nodeInfo = deps.nodeInfo ?? {};
    this.bufferLimit = deps.bufferLimitBytes ?? 64 * 1024;
    this.ownSinks = deps.logSinks ? null : new AccessLogSinks();
    const sinks = deps.logSinks ?? this.ownSinks!;
    for (const al of config.accessLog) {
      let format: AccessLogFormatter;
      try {
        format = compileAccessLog(al);
      } catch (err) {
        log.warn('invalid access log format, using the default', { path: al.path, error: String(err) });
        format = compileAccessLog({});
      }
      this.accessLogs.push({ format, sink: sinks.get(al.path) });
    }
    this.filters = compileFilters(config.httpFilters, this, deps.stats);
    this.h1 = new H1Codec(this, {
      conn: (s) => (s as Tracked)[kConn],
      onRaw: (head, socket, rest) => this.onRaw(head, socket, rest),
      onCodecError: (socket, status, details, inflight) => this.onCodecError(socket, status, details, inflight),
    });
    this.h2 = createH2Server(this, {
      conn: (s) => (s as Tracked)[kConn],
      onSession: (session, conn) => this.onSession(session, conn),
    });
  }

  get activeConnections(): number {
    return this.sockets.size;
  }

  routeTable(): RouteTable | undefined {
    if (this.config.routeConfig) return this.config.routeConfig;
    return this.config.rdsName ? this.configSource.current().routes.get(this.config.rdsName) : undefined;
  }

  onInternalError(err: unknown): void {
    const t = Date.now();
    if (t - this.lastErrorLog < 10_000) return;
    this.lastErrorLog = t;
    log.error('unexpected error while handling a request', { statPrefix: this.config.statPrefix, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }

  onConnection(socket: Socket, info: ConnectionInfo): void {
    const conn: ConnState = {
      id: this.nextId++,
      info,
      tls: info.transport === 'tls',
      local: hostPort(info.localAddress, info.localPort),
      remote: hostPort(info.remoteAddress, info.remotePort),
      inflight: 0,
    };
    (socket as Tracked)[kConn] = conn;
    this.sockets.add(socket);
    this.stats.cxTotal.inc();
    this.stats.cxActive.inc();
    socket.once('close', () => this.onSocketClose(socket));
    socket.on('error', noop);
    const codec = this.config.codecType;
    if (codec === 'HTTP1') return this.toH1(socket);
    if (codec === 'HTTP2') return this.toH2(socket);
    if (info.sniffed === 'h2c') return this.toH2(socket);
    if (info.sniffed === 'http1') return this.toH1(socket);
    const alpn = (socket as Partial<TLSSocket>).alpnProtocol;
    if (alpn === 'h2') return this.toH2(socket);
    if (alpn === 'http/1.1' || alpn === 'http/1.0') return this.toH1(socket);
    this.peek(socket);
  }

  private toH1(socket: Socket): void {
    this.stats.cxHttp1Total.inc();
    this.h1.accept(socket);
  }

  private toH2(socket: Socket): void {
    this.stats.cxHttp2Total.inc();
    this.h2.emit('connection', socket);
  }

  /** Reads until the bytes are, or cannot be, the HTTP/2 client preface; puts them back and dispatches. */
  private peek(socket: Socket): void {
    let buf: Buffer = Buffer.alloc(0);
    const onTimeout = (): void => {
      socket.destroy();
    };
    const onEnd = (): void => {
      socket.destroy();
    };
    const onReadable = (): void => {
      for (let c = socket.read() as Buffer | null; c; c = socket.read() as Buffer | null) buf = buf.length ? Buffer.concat([buf, c]) : c;
      const n = Math.min(buf.length, H2_PREFACE.length);
      const h2 = buf.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (h2 && n < H2_PREFACE.length) return;
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      socket.off('timeout', onTimeout);
      socket.setTimeout(0);
      if (buf.length) socket.unshift(buf);
      if (h2) this.toH2(socket);
      else this.toH1(socket);
    };
    socket.setTimeout(this.config.requestHeadersTimeoutMs > 0 ? this.config.requestHeadersTimeoutMs : 60_000);
    socket.on('timeout', onTimeout);
    socket.on('readable', onReadable);
    socket.once('end', onEnd);
  }

  private onSocketClose(socket: Socket): void {
    this.sockets.delete(socket);
    this.stats.cxActive.dec();
    this.stats.cxDestroy.inc();
    if (this.draining && this.sockets.size === 0) this.drained();
  }

  private onSession(session: ServerHttp2Session, conn: ConnState): void {
    this.sessions.add(session);
    session.once('close', () => this.sessions.delete(session));
    const idle = this.config.idleTimeoutMs > 0 ? this.config.idleTimeoutMs : 3_600_000;
    session.setTimeout(idle, () => {
      if (conn.inflight === 0) session.close();
    });
    if (this.draining) session.close();
  }

  /** Upgrade and CONNECT requests: the HTTP/1 codec handed the socket over. */
  private onRaw(req: H1Head, socket: Socket, head: Buffer): void {
    const conn = (socket as Tracked)[kConn];
    if (!conn) {
      socket.destroy();
      return;
    }
    conn.inflight++;
    this.stats.rqTotal.inc();
    this.stats.rqHttp1Total.inc();
    this.stats.rqActive.inc();
    runExchange(new RawExchange(this, conn, req, socket, head));
  }

  private onCodecError(socket: Socket, status: number, details: string, inflight: Exchange | undefined): void {
    const body = status === 431 ? '' : status === 408 ? 'request timeout' : 'Bad Request';
    if (inflight) {
      inflight.addFlag('DPE');
      if (!inflight.headersSent) inflight.sendLocalReply({ status, body, flag: 'DPE', details });
      else inflight.responseCodeDetails = details;
      socket.end();
      setImmediate(destroySocket, socket);
      return;
    }
    socket.end(
      statusLine(status) +
        `content-length: ${body.length}\r\n${body ? 'content-type: text/plain\r\n' : ''}server: ${this.serverName}\r\nconnection: close\r\n\r\n${body}`,
    );
    const conn = (socket as Tracked)[kConn];
    if (conn) this.logCodecError(conn, status, details, body.length);
    this.stats.rqTotal.inc();
    this.stats.response(status);
  }

  private logCodecError(conn: ConnState, status: number, details: string, bytesSent: number): void {
    if (!this.accessLogs.length) return;
    const ctx = codecErrorContext(conn, status, details, bytesSent, this.now());
    for (const l of this.accessLogs) l.sink.write(l.format(ctx));
  }

  /**
   * HTTP/1: `connection: close` on the next response of each connection (idle keep-alive connections stay open until
   * then or the deadline, as in Envoy: closing them now would reset a request already on the wire); HTTP/2: GOAWAY.
   * Resolves when every connection is gone or at the deadline (then closes what is left). deadlineMs: a duration, or
   * an epoch time in ms.
   */
  drain(deadlineMs: number): Promise<void> {
    this.draining = true;
    for (const s of this.sessions) s.close();
    return new Promise((resolve) => {
      if (this.sockets.size === 0) {
        this.drained();
        resolve();
        return;
      }
      this.drainWaiters.push(resolve);
      const ms = deadlineMs > 1e12 ? deadlineMs - Date.now() : deadlineMs;
      if (!this.drainTimer) {
        this.drainTimer = setTimeout(() => this.close(), Math.max(0, ms));
        this.drainTimer.unref();
      }
    });
  }

  private drained(): void {
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = null;
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const f of w) f();
  }

  close(): void {
    this.draining = true;
    for (const s of this.sessions) s.destroy();
    for (const s of [...this.sockets]) s.destroy();
    this.h1.close();
    this.h2.close(noop);
    if (this.ownTimers) this.timers.close();
    this.ownSinks?.close();
    this.drained();
  }
}

function noop(): void {}
function destroySocket(s: Socket): void {
  s.destroy();
}

function codecErrorContext(conn: ConnState, status: number, details: string, bytesSent: number, now: number): import('./access-log.js').AccessLogContext {
  return {
    startTime: now,
    durationMs: 0,
    protocol: 'HTTP/1.1',
    responseCode: status,
    responseFlags: ['DPE'],
    responseCodeDetails: details,
    connectionTerminationDetails: undefined,
    upstreamTransportFailureReason: undefined,
    bytesReceived: 0,
    bytesSent,
    upstreamHost: undefined,
    upstreamCluster: undefined,
    upstreamLocalAddress: undefined,
    downstreamLocalAddress: conn.local,
    downstreamRemoteAddress: conn.remote,
    requestedServerName: conn.info.sni,
    routeName: undefined,
    requestHeader: () => undefined,
    responseHeader: () => undefined,
    responseTrailer: () => undefined,
  };
}

// One HTTP request/response through the connection manager, independent of the downstream codec (HTTP/1, HTTP/2,
// raw upgrade socket): route resolution, the filter chain, local replies, response finalization, access log, stats.
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { ConnectionInfo } from '../runtime/contracts.js';
import type { CorsPolicy, LocalRateLimitConfig, Route, RouteTable, VirtualHost, WeightedCluster } from '../runtime/types.js';
import type { AccessLogContext } from './access-log.js';
import type { HcmContext } from './context.js';
import { applyHeaderOptions, applyMutationLevels, getHeader, setHeader } from './headers.js';
import type { HashInput } from './hash-policy.js';
import { encodeGrpcMessage, grpcMessageOf, grpcStatusOf, Replies, type LocalReply } from './local-reply.js';
import type { BodyOwner } from './request-body.js';
import { normalizePath, prepareRequestHeaders } from './request-prep.js';
import { pickWeighted, selectRoute, type RouteInput } from './route-select.js';
import { TimerNode, type TimerTarget } from './timer-wheel.js';
import { routeRequest } from './route-action.js';
import type { Router } from './router.js';

/** Envoy's response-flag order (StreamInfo::ResponseFlag), used when several are set. */
const FLAG_ORDER = ['LH', 'UH', 'UT', 'LR', 'UR', 'UF', 'UC', 'UO', 'NR', 'DI', 'FI', 'RL', 'UAEX', 'RLSE', 'DC', 'URX', 'SI', 'IH', 'DPE', 'UMSDR', 'NC'];

export const T_FAULT_DELAY = 100;
export const T_STREAM_IDLE = 101;

/** Per-connection state shared by its requests. */
export interface ConnState {
  readonly id: number;
  readonly info: ConnectionInfo;
  readonly tls: boolean;
  /** `address:port` strings, computed once per connection. */
  readonly local: string;
  readonly remote: string;
  /** In-flight requests (HTTP/1: 0 or 1). */
  inflight: number;
}

export abstract class Exchange implements RouteInput, HashInput, AccessLogContext, BodyOwner, TimerTarget {
  // ---- request
  method = 'GET';
  path = '/';
  authority = '';
  scheme = 'http';
  /** The request line carried an absolute URI (HTTP-proxy mode): its authority, not the socket, says where it goes. */
  absoluteForm = false;
  headers: string[] = [];
  abstract readonly protocol: string;
  readonly downstreamProtocol: 'http1' | 'http2' = 'http1';
  /** The request has a body to forward (a Readable of it is `source`). */
  hasBody = false;
  source: Readable | null = null;
  grpc = false;
  /** The client accepts trailers (te: trailers). */
  teTrailers = false;
  /** Upgrade token for HTTP/1 upgrades (websocket), lower-case. */
  upgrade: string | undefined;
  /** A CONNECT request (HTTP-proxy mode tunnels). */
  isConnect = false;
  /** Bytes the downstream sent through a tunnel (upgrade / CONNECT). */
  tunnelBytesReceived = 0;
  private query: Map<string, string> | null = null;

  // ---- route
  routeTable: RouteTable | undefined;
  vhost: VirtualHost | undefined;
  route: Route | undefined;
  weighted: WeightedCluster | undefined;
  filterIndex = 0;
  router: Router | null = null;

  // ---- filter state
  corsPolicy: CorsPolicy | undefined;
  corsOrigin: string | undefined;
  rateLimitHeaders: [number, number, number] | undefined;
  rateLimitConfig: LocalRateLimitConfig | undefined;
  faultActive = false;
  setCookie: string | undefined;
  private timer: TimerNode | null = null;
  private idleTimer: TimerNode | null = null;
  private idleMs = 0;
  /** performance.now() of the last request/response body activity (stream idle timeout). */
  lastActivity = 0;

  // ---- response / log
  readonly startTime: number;
  readonly startMono: number;
  private endMono = 0;
  responseCode = 0;
  responseHeaders: string[] | null = null;
  responseTrailers: string[] | null = null;
  headersSent = false;
  done = false;
  /** The proxy reset the downstream stream itself (upstream reset, timeout after headers): not a DC. */
  protected localReset = false;
  private readonly flags: string[] = [];
  responseCodeDetails: string | undefined;
  connectionTerminationDetails: string | undefined;
  upstreamTransportFailureReason: string | undefined;
  bytesSent = 0;
  upstreamHost: string | undefined;
  upstreamCluster: string | undefined;
  upstreamLocalAddress: string | undefined;
  attemptCount: number | undefined;
  /** Set by the router: resume the upstream after downstream backpressure cleared. */
  pendingResume: (() => void) | null = null;

  constructor(
    readonly hcm: HcmContext,
    readonly conn: ConnState,
  ) {
    this.startTime = hcm.now();
    this.startMono = performance.now();
    this.scheme = conn.tls ? 'https' : 'http';
  }

  // ---- codec hooks
  /** Sends response headers; end = no body follows; trailers = keep the stream open for trailers (HTTP/2). */
  protected abstract writeHead(status: number, headers: string[], end: boolean, trailers: boolean): void;
  /** Writes body bytes; false = downstream is backpressured (onDownstreamDrain follows). */
  abstract writeBody(chunk: Buffer): boolean;
  abstract endBody(trailers: string[] | null): void;
  /** Aborts the downstream stream (response cannot complete). */
  abstract resetDownstream(): void;

  // ---- lifecycle
  /** Runs HCM request processing, route selection and the filter chain. */
  start(): void {
    const cfg = this.hcm.config;
    if (cfg.normalizePath || cfg.mergeSlashes) this.path = normalizePath(this.path, cfg.normalizePath, cfg.mergeSlashes);
    prepareRequestHeaders(cfg, this.hcm.nodeInfo, { headers: this.headers, remoteAddress: this.conn.info.remoteAddress, tls: this.conn.tls, peerPrincipal: this.conn.info.peerPrincipal });
    const ct = getHeader(this.headers, 'content-type');
    this.grpc = ct !== undefined && ct.startsWith('application/grpc');
    const te = getHeader(this.headers, 'te');
    this.teTrailers = te !== undefined && te.includes('trailers');
    this.resolveRoute();
    const a = this.route?.action;
    const idle = a?.type === 'route' && a.idleTimeoutMs > 0 ? a.idleTimeoutMs : cfg.streamIdleTimeoutMs;
    if (idle > 0) {
      this.idleMs = idle;
      this.lastActivity = performance.now();
      this.idleTimer = new TimerNode(this, T_STREAM_IDLE);
      this.hcm.timers.schedule(this.idleTimer, idle);
    }
    this.continueDecoding();
  }

  /** CONNECT is served in HTTP-proxy mode or when upgrade_configs enable CONNECT. */
  connectAllowed(): boolean {
    const cfg = this.hcm.config;
    return cfg.httpProxyMode || cfg.upgradeTypes.includes('connect');
  }

  /** Stops the stream idle timeout (tunnels manage their own lifetime). */
  stopIdleTimer(): void {
    if (this.idleTimer) this.hcm.timers.cancel(this.idleTimer);
  }

  /** Envoy's stream_idle_timeout: no body activity for idleMs → 408 before response headers, reset after. */
  private onIdle(): void {
    const idleFor = performance.now() - this.lastActivity;
    if (idleFor + 1 < this.idleMs) {
      this.hcm.timers.schedule(this.idleTimer!, this.idleMs - idleFor);
      return;
    }
    this.hcm.stats.rqIdleTimeout.inc();
    this.router?.downstreamDone(true);
    if (!this.headersSent) this.sendLocalReply(Replies.streamIdleTimeout);
    else {
      this.addFlag('SI');
      this.responseCodeDetails = 'stream_idle_timeout';
      this.resetDownstream();
    }
  }

  /** (Re)selects the route for the current headers (filters may call it after changing headers). */
  resolveRoute(): void {
    this.routeTable = this.hcm.routeTable();
    const sel = this.routeTable ? selectRoute(this.routeTable, this, this.hcm.random, this.isConnect && this.connectAllowed()) : undefined;
    this.vhost = sel?.vhost;
    this.route = sel?.route;
    this.weighted = undefined;
    const a = this.route?.action;
    if (a?.type === 'route' && a.weightedClusters) this.weighted = pickWeighted(a.weightedClusters.clusters, a.weightedClusters.totalWeight, this.hcm.random);
  }

  /** Runs the remaining filters; a filter that stopped calls this again to resume. */
  continueDecoding(): void {
    const filters = this.hcm.filters;
    while (this.filterIndex < filters.length) {
      const f = filters[this.filterIndex++];
      if (!f.decodeHeaders(this) || this.headersSent || this.done) return;
    }
    if (!this.headersSent && !this.done && !this.router) routeRequest(this);
  }

  /** Pauses the filter chain for delayMs (fault delay), then continues it. */
  delay(delayMs: number): void {
    this.timer ??= new TimerNode(this, T_FAULT_DELAY);
    this.hcm.timers.schedule(this.timer, delayMs);
  }

  onTimer(kind: number): void {
    if (this.done) return;
    if (kind === T_FAULT_DELAY) this.continueDecoding();
    else if (kind === T_STREAM_IDLE) this.onIdle();
  }

  // ---- responses
  addFlag(f: string): void {
    if (!this.flags.includes(f)) this.flags.push(f);
  }

  /**
   * Response headers from upstream or local: adds route response headers (upstream or router-local replies), CORS,
   * rate-limit and hash-cookie headers and `server`, then writes them.
   */
  respond(status: number, headers: string[], end: boolean, trailers: boolean, routeHeaders: boolean): void {
    if (this.headersSent || this.done) return;
    if (routeHeaders && this.route) applyMutationLevels(headers, [this.weighted?.headers, this.route.headers, this.vhost?.headers, this.routeTable?.headers], true, this);
    if (this.corsOrigin !== undefined) {
      const p = this.corsPolicy!;
      setHeader(headers, 'access-control-allow-origin', this.corsOrigin);
      if (p.allowCredentials) setHeader(headers, 'access-control-allow-credentials', 'true');
      if (p.exposeHeaders) setHeader(headers, 'access-control-expose-headers', p.exposeHeaders);
    }
    if (this.rateLimitHeaders) {
      const [limit, remaining, reset] = this.rateLimitHeaders;
      headers.push('x-ratelimit-limit', String(limit), 'x-ratelimit-remaining', String(remaining), 'x-ratelimit-reset', String(reset));
    }
    if (this.setCookie) headers.push('set-cookie', this.setCookie);
    setHeader(headers, 'server', this.hcm.serverName);
    this.responseCode = status;
    this.responseHeaders = headers;
    this.headersSent = true;
    this.writeHead(status, headers, end, trailers);
  }

  /** Sends a locally generated response (HTTP text body, or gRPC trailers-only for gRPC requests). */
  sendLocalReply(reply: LocalReply, fromRouter = false, extra?: string[]): void {
    if (this.done) return;
    if (reply.flag) this.addFlag(reply.flag);
    this.responseCodeDetails = reply.details;
    if (this.headersSent) {
      this.resetDownstream();
      return;
    }
    const h: string[] = [];
    if (this.grpc) {
      h.push('content-type', 'application/grpc', 'grpc-status', String(grpcStatusOf(reply)), 'grpc-message', encodeGrpcMessage(grpcMessageOf(reply)));
      if (extra) for (const x of extra) h.push(x);
      if (this.rateLimitConfig && reply.flag === 'RL') applyHeaderOptions(h, this.rateLimitConfig.responseHeadersToAdd, [], this);
      this.respond(200, h, true, false, fromRouter);
      return;
    }
    const body = this.method === 'HEAD' ? '' : reply.body;
    if (body) h.push('content-type', 'text/plain', 'content-length', String(Buffer.byteLength(body)));
    else h.push('content-length', '0');
    if (extra) for (const x of extra) h.push(x);
    if (this.rateLimitConfig && reply.flag === 'RL') applyHeaderOptions(h, this.rateLimitConfig.responseHeadersToAdd, [], this);
    this.respond(reply.status, h, body === '', false, fromRouter);
    if (body) {
      const b = Buffer.from(body);
      this.bytesSent += b.length;
      this.writeBody(b);
      this.endBody(null);
    }
  }

  /** The upstream switched protocols (101): codecs that can tunnel override this. */
  acceptUpgrade(_status: number, _headers: string[], upstream: Socket): void {
    upstream.destroy();
    this.sendLocalReply(Replies.upgradeFailed);
  }

  /** CONNECT established: pipe the downstream stream and the upstream socket (codecs that can tunnel override). */
  openTunnel(upstream: Socket): void {
    upstream.destroy();
    this.resetDownstream();
  }

  /** Downstream can take more response bytes. */
  onDownstreamDrain(): void {
    const r = this.pendingResume;
    this.pendingResume = null;
    r?.();
  }

  /** The downstream stream is over: complete (response sent) or aborted (client went away / reset). */
  finish(aborted: boolean): void {
    if (this.done) return;
    this.done = true;
    this.endMono = performance.now();
    if (aborted && !this.localReset) this.addFlag('DC');
    if (this.timer) this.hcm.timers.cancel(this.timer);
    if (this.idleTimer) this.hcm.timers.cancel(this.idleTimer);
    this.router?.downstreamDone(aborted);
    if (this.faultActive) {
      this.faultActive = false;
      this.hcm.stats.faultActive.dec();
    }
    this.conn.inflight--;
    const st = this.hcm.stats;
    st.rqActive.dec();
    if (this.responseCode) st.response(this.responseCode);
    if (aborted) st.rqRxReset.inc();
    st.rqTime.record(this.endMono - this.startMono);
    const logs = this.hcm.accessLogs;
    for (let i = 0; i < logs.length; i++) logs[i].sink.write(logs[i].format(this));
  }

  // ---- body owner (request body events through the router's RequestBody)
  onBodyData(): void {
    if (this.idleMs) this.lastActivity = performance.now();
  }
  onBodyEnd(): void {
    this.router?.onRequestEnd();
  }
  onBodyError(_err: Error): void {
    this.addFlag('DC');
    this.router?.downstreamDone(true);
  }

  // ---- RouteInput / HashInput
  pathOnly(): string {
    const q = this.path.indexOf('?');
    return q < 0 ? this.path : this.path.slice(0, q);
  }
  queryParam(name: string): string | undefined {
    if (!this.query) {
      this.query = new Map();
      const q = this.path.indexOf('?');
      if (q >= 0) {
        for (const kv of this.path.slice(q + 1).split('&')) {
          if (!kv) continue;
          const eq = kv.indexOf('=');
          const k = safeDecode(eq < 0 ? kv : kv.slice(0, eq));
          if (!this.query.has(k)) this.query.set(k, eq < 0 ? '' : safeDecode(kv.slice(eq + 1)));
        }
      }
    }
    return this.query.get(name);
  }
  get remoteIp(): string {
    return this.conn.info.remoteAddress;
  }

  // ---- AccessLogContext
  get durationMs(): number | undefined {
    return this.endMono ? Math.round(this.endMono - this.startMono) : undefined;
  }
  get responseFlags(): readonly string[] {
    if (this.flags.length > 1) this.flags.sort((a, b) => FLAG_ORDER.indexOf(a) - FLAG_ORDER.indexOf(b));
    return this.flags;
  }
  get bytesReceived(): number {
    return this.router?.bodyBytes ?? this.tunnelBytesReceived;
  }
  get downstreamLocalAddress(): string {
    return this.conn.local;
  }
  get downstreamRemoteAddress(): string {
    return this.conn.remote;
  }
  get requestedServerName(): string | undefined {
    return this.conn.info.sni;
  }
  get routeName(): string | undefined {
    return this.route?.name || undefined;
  }
  get downstreamPeerUriSan(): string | undefined {
    return this.conn.info.peerPrincipal;
  }
  get connectionId(): number {
    return this.conn.id;
  }
  get hostname(): string | undefined {
    return this.hcm.nodeInfo.hostname;
  }
  requestHeader(name: string): string | undefined {
    switch (name) {
      case ':method':
        return this.method;
      case ':path':
        return this.path;
      case ':authority':
      case 'host':
        return this.authority;
      case ':scheme':
        return this.scheme;
      default:
        return getHeader(this.router?.upstreamHeaders ?? this.headers, name);
    }
  }
  responseHeader(name: string): string | undefined {
    return this.responseHeaders ? getHeader(this.responseHeaders, name) : undefined;
  }
  responseTrailer(name: string): string | undefined {
    return this.responseTrailers ? getHeader(this.responseTrailers, name) : undefined;
  }
}

function safeDecode(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

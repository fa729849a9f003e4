// Interfaces between the proxy's layers (top-down, as linkerd2-proxy splits them):
// listener → network handler (HTTP connection manager | TCP proxy) → router → upstream cluster (LB, pool, breakers).
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { MeshError, ErrorCode } from '../../shared/errors.js';
import type { Cluster, ConfigSnapshot, HttpConnectionManagerConfig, ResponseFlag, SocketAddress, TcpProxyConfig } from './types.js';

/** What the listener learned about a connection before handing it over. */
export interface ConnectionInfo {
  listenerName: string;
  filterChainName: string;
  /** Local side of the accepted socket. */
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** Original destination (iptables REDIRECT / TPROXY, or the bound address for captureMode NONE listeners). */
  originalDst?: SocketAddress;
  /** TLS SNI and ALPN seen by the tls inspector (before termination), if any. */
  sni?: string;
  alpn?: string[];
  transport: 'raw_buffer' | 'tls';
  /** What protocol sniffing found: HTTP/1.x, HTTP/2 prior knowledge (h2c), TLS or opaque TCP. */
  sniffed?: 'http1' | 'h2c' | 'tls' | 'tcp';
  /** Peer certificate identity after downstream mTLS (SPIFFE URI SAN), if any. */
  peerPrincipal?: string;
}

/** Takes over an accepted (and possibly TLS-terminated) socket. Any bytes read while sniffing were unshifted back. */
export interface NetworkHandler {
  onConnection(socket: Socket, info: ConnectionInfo): void;
  /** Stop accepting new streams on existing connections (HTTP: Connection: close / GOAWAY); resolves when all are done. */
  drain(deadlineMs: number): Promise<void>;
  /** Open downstream connections (for stats and drain decisions). */
  readonly activeConnections: number;
}

export interface NetworkHandlerFactory {
  http(config: HttpConnectionManagerConfig): NetworkHandler;
  tcp(config: TcpProxyConfig): NetworkHandler;
}

/** The current ACKed config, and a way to hear when it changes. */
export interface ConfigSource {
  current(): ConfigSnapshot;
  subscribe(fn: (snapshot: ConfigSnapshot) => void): () => void;
}

/** Context for load balancing one request or connection. */
export interface LbContext {
  /** Hash for RING_HASH / MAGLEV, computed by the router from the route's hash policies. */
  hash?: number;
  /** Host keys (`address:port`) to avoid (retry previous_hosts). */
  exclude?: ReadonlySet<string>;
  /** For ORIGINAL_DST clusters: where the connection was going. */
  originalDst?: SocketAddress;
  /** Downstream address, for logs. */
  downstreamAddress?: string;
}

export interface UpstreamRequest extends LbContext {
  method: string;
  /** Path with query, after rewrites. */
  path: string;
  /** Request headers, flat [name, value, name, value, ...], lower-case names, hop-by-hop removed, ':authority' as 'host'. */
  headers: string[];
  body: Readable | null;
  /** Upgrade token (e.g. 'websocket') for HTTP/1.1 upgrades. */
  upgrade?: string;
  /** 'http1' | 'http2': the downstream protocol, for clusters with use_downstream_protocol. */
  downstreamProtocol: 'http1' | 'http2';
  /** Route auto_host_rewrite: replace the `host` header with the chosen host's hostname (or address:port). */
  autoHostRewrite?: boolean;
}

/** Response callbacks, undici Dispatcher-handler style; return false from onHeaders/onData to apply backpressure. */
export interface UpstreamHandler {
  /** The host the request went to (`address:port`), before any byte is sent. */
  onHost?(hostKey: string): void;
  /** `headers`: flat name/value pairs, names lower-cased by the transport (HTTP/2's are by definition). */
  onHeaders(status: number, headers: string[], resume: () => void): boolean;
  onData(chunk: Buffer): boolean;
  onComplete(trailers: string[] | null): void;
  onError(err: UpstreamError): void;
  onUpgrade?(status: number, headers: string[], socket: Socket): void;
}

export interface Abortable {
  abort(reason?: Error): void;
}

/** A failure on the upstream side, carrying Envoy's response flag (UO, UH, UF, UC, UR, UT, NC). */
export class UpstreamError extends MeshError {
  readonly flag: ResponseFlag;
  /** The request never reached a host (overflow, no host, connect failure): safe to retry on another host. */
  readonly beforeRequestSent: boolean;
  constructor(flag: ResponseFlag, message: string, opts: { beforeRequestSent: boolean; cause?: unknown }) {
    super(ErrorCode.Io, message, { cause: opts.cause });
    this.name = 'UpstreamError';
    this.flag = flag;
    this.beforeRequestSent = opts.beforeRequestSent;
  }
}

export interface HostStatus {
  key: string; // address:port
  address: string;
  port: number;
  weight: number;
  locality: string;
  priority: number;
  healthy: boolean;
  ejected: boolean;
  activeRequests: number;
  activeConnections: number;
  totalRequests: number;
  totalErrors: number;
}

/** One upstream cluster: load balancer, connection pools, circuit breakers, outlier detection. */
export interface UpstreamCluster {
  readonly name: string;
  readonly config: Cluster;
  /** HTTP: pick a host and send; errors come back through handler.onError (never thrown). */
  dispatch(req: UpstreamRequest, handler: UpstreamHandler): Abortable;
  /** TCP: pick a host and connect (connect timeout and UF/UH/UO flags applied). */
  connect(ctx: LbContext, cb: (err: UpstreamError | null, socket?: Socket, hostKey?: string) => void): void;
  /** Retry budget (circuit breaker max_retries): take one before retrying; false = overflow. */
  tryAcquireRetry(): boolean;
  releaseRetry(): void;
  /** The upstream answered (for outlier detection): status, or a local-origin failure. */
  hosts(): HostStatus[];
}

export interface ClusterManager {
  get(name: string): UpstreamCluster | undefined;
  /** All clusters, for admin /clusters. */
  all(): UpstreamCluster[];
}

// The proxy's runtime configuration: small, validated, immutable objects decoded from xDS (never raw protos), with
// matchers compiled at config time. Shared contract of xds-client/runtime (producers) and listener/http/upstream/tcp
// (consumers). The proxy learns about the world only through these.

/** Envoy response flags (https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage). */
export type ResponseFlag =
  | 'NR' // no route
  | 'UH' // no healthy upstream
  | 'UF' // upstream connection failure
  | 'UO' // upstream overflow (circuit breaker)
  | 'URX' // upstream retry limit exceeded
  | 'UT' // upstream request timeout
  | 'UC' // upstream connection termination
  | 'UR' // upstream remote reset
  | 'DC' // downstream connection termination
  | 'DI' // delay injected
  | 'FI' // fault injected (abort)
  | 'RL' // rate limited (local)
  | 'NC' // no cluster found
  | 'DPE' // downstream protocol error
  | 'SI' // stream idle timeout
  | 'UAEX' // unauthorized (ext authz)
  | 'RLSE'; // rate limit service error

// ------------------------------------------------------------------ string matching (compiled)

/** A compiled string matcher; `regex` uses RE2 semantics (never JS RegExp for user patterns). */
export interface StringMatcher {
  kind: 'exact' | 'prefix' | 'suffix' | 'contains' | 'regex' | 'any';
  value: string;
  ignoreCase: boolean;
  /** Compiled RE2 matcher for kind 'regex' (full match semantics, as Envoy's safe_regex). */
  test(input: string): boolean;
}

export interface HeaderMatcher {
  /** Lower-case header name; pseudo-headers ':authority', ':method', ':path', ':scheme' allowed. */
  name: string;
  /** Undefined = present_match. */
  matcher?: StringMatcher;
  /** present_match false → header must be absent. */
  present?: boolean;
  invert: boolean;
  /** Range match [start, end) on an integer header value. */
  range?: { start: number; end: number };
  /** treat_missing_header_as_empty: an absent header is matched as "" (else an absent header never matches, except present/absent checks). */
  treatMissingAsEmpty?: boolean;
}

export interface QueryParamMatcher {
  name: string;
  /** Undefined = present. */
  matcher?: StringMatcher;
}

// ------------------------------------------------------------------ listeners

export interface SocketAddress {
  address: string;
  port: number;
}

export interface FilterChainMatch {
  destinationPort?: number;
  /** Exact or wildcard (`*.example.com`) server names; empty = any. */
  serverNames: string[];
  /** 'raw_buffer' | 'tls' | undefined (any). */
  transportProtocol?: string;
  /** ALPN values (e.g. 'h2', 'http/1.1', 'istio-peer-exchange'); empty = any. */
  applicationProtocols: string[];
  /** Destination IP ranges (CIDR); empty = any. */
  prefixRanges: { address: string; prefixLen: number }[];
  sourcePrefixRanges: { address: string; prefixLen: number }[];
}

export interface DownstreamTls {
  /** PEM or file path resolved by the decoder; SDS names resolved through the secret store. */
  certChain?: string;
  privateKey?: string;
  /** SDS secret names, resolved at handshake time. */
  sdsCertificate?: string;
  sdsValidation?: string;
  caCert?: string;
  requireClientCertificate: boolean;
  alpn: string[];
  /** SAN matchers for client certificates. */
  matchSans: StringMatcher[];
  minVersion?: string;
  maxVersion?: string;
}

export interface UpstreamTls {
  sni?: string;
  certChain?: string;
  privateKey?: string;
  caCert?: string;
  sdsCertificate?: string;
  sdsValidation?: string;
  alpn: string[];
  matchSans: StringMatcher[];
  /** No validation context at all (SIMPLE without CA and insecureSkipVerify). */
  skipVerify: boolean;
  autoSni: boolean;
  /** tls_params, in Node's spelling ('TLSv1.2', 'TLSv1.3'). */
  minVersion?: string;
  maxVersion?: string;
}

export interface AccessLogConfig {
  path: string; // '/dev/stdout' or a file
  /** Envoy format string (%START_TIME% ...); undefined = Istio's default TEXT format. */
  format?: string;
  json?: Record<string, string>;
}

export type HttpFilter =
  | { type: 'router'; name: string }
  | { type: 'fault'; name: string; config: FaultConfig | undefined }
  | { type: 'cors'; name: string }
  | { type: 'local_ratelimit'; name: string; config: LocalRateLimitConfig | undefined }
  | { type: 'unknown_optional'; name: string };

export interface HttpConnectionManagerConfig {
  type: 'http';
  statPrefix: string;
  /** Route config by RDS name, or inline. */
  rdsName?: string;
  routeConfig?: RouteTable;
  httpFilters: HttpFilter[];
  codecType: 'AUTO' | 'HTTP1' | 'HTTP2';
  generateRequestId: boolean;
  useRemoteAddress: boolean;
  xffNumTrustedHops: number;
  skipXffAppend: boolean;
  /**
   * internal_address_config: which downstream addresses are internal (x-envoy-internal, x-envoy-* kept). Absent =
   * none, as in Envoy since 1.33; present without ranges = RFC1918, 127.0.0.1, fc00::/7 and ::1.
   */
  internalAddressConfig?: { unixSockets: boolean; cidrRanges: { address: string; prefixLen: number }[] };
  /** 'sanitize' | 'append' | ... forward_client_cert_details */
  forwardClientCertDetails?: string;
  serverName?: string;
  streamIdleTimeoutMs: number;
  requestTimeoutMs: number;
  requestHeadersTimeoutMs: number;
  idleTimeoutMs: number;
  maxRequestHeadersKb: number;
  maxHeadersCount: number;
  accessLog: AccessLogConfig[];
  upgradeTypes: string[]; // e.g. ['websocket']
  normalizePath: boolean;
  mergeSlashes: boolean;
  /** HTTP-proxy mode: accept absolute-URI requests and CONNECT (Istio's HTTP_PROXY egress port). */
  httpProxyMode: boolean;
}

export interface TcpProxyConfig {
  type: 'tcp';
  statPrefix: string;
  cluster?: string;
  weightedClusters?: { name: string; weight: number }[];
  idleTimeoutMs: number;
  accessLog: AccessLogConfig[];
  maxConnectAttempts: number;
}

export type NetworkFilter = HttpConnectionManagerConfig | TcpProxyConfig;

export interface FilterChain {
  name: string;
  match: FilterChainMatch;
  /** The terminal network filter (HCM or tcp_proxy); other network filters (rbac, ...) come later. */
  filter: NetworkFilter;
  tls?: DownstreamTls;
}

export interface Listener {
  name: string;
  address: SocketAddress;
  /** false for Istio's per-port outbound listeners reached via virtualOutbound's original-dst hand-off. */
  bindToPort: boolean;
  useOriginalDst: boolean;
  trafficDirection: 'INBOUND' | 'OUTBOUND' | 'UNSPECIFIED';
  listenerFilters: { tlsInspector: boolean; httpInspector: boolean; originalDst: boolean };
  /** How long listener filters may wait for the first bytes (protocol sniffing), ms. */
  listenerFiltersTimeoutMs: number;
  /** On timeout: use the default chain (true) or close (false). */
  continueOnListenerFiltersTimeout: boolean;
  filterChains: FilterChain[];
  defaultFilterChain?: FilterChain;
  /** Proxyless-style api_listener (not bound); the proxy ignores these. */
  apiListener: boolean;
  /** Hash of the decoded config: an unchanged hash means the running listener is kept as is. */
  hash: string;
}

// ------------------------------------------------------------------ routes

export interface FractionalPercent {
  /** 0..1 probability. */
  fraction: number;
}

export interface HeaderValueOption {
  name: string; // lower-case
  value: string;
  /** 'APPEND_IF_EXISTS_OR_ADD' | 'ADD_IF_ABSENT' | 'OVERWRITE_IF_EXISTS_OR_ADD' | 'OVERWRITE_IF_EXISTS' */
  action: 'append' | 'add_if_absent' | 'overwrite_or_add' | 'overwrite_if_exists';
  /** Value contains %VAR% substitutions to expand per request (e.g. %DOWNSTREAM_REMOTE_ADDRESS%). */
  dynamic: boolean;
}

export interface HeaderMutations {
  requestAdd: HeaderValueOption[];
  requestRemove: string[];
  responseAdd: HeaderValueOption[];
  responseRemove: string[];
}

export interface RetryPolicy {
  /** Envoy retry_on conditions: 5xx, gateway-error, reset, connect-failure, refused-stream, retriable-4xx, retriable-status-codes, envoy-ratelimited, and gRPC: cancelled, deadline-exceeded, internal, resource-exhausted, unavailable. */
  retryOn: ReadonlySet<string>;
  numRetries: number;
  perTryTimeoutMs: number; // 0 = none
  retriableStatusCodes: ReadonlySet<number>;
  backoffBaseMs: number; // default 25
  backoffMaxMs: number; // default 10 * base
  /** retry_host_predicate previous_hosts: avoid hosts already tried. */
  previousHosts: boolean;
  hostSelectionRetryMaxAttempts: number;
}

export interface FaultConfig {
  delay?: { fixedDelayMs: number; percent: FractionalPercent };
  abort?: { httpStatus?: number; grpcStatus?: number; percent: FractionalPercent };
  maxActiveFaults?: number;
}

export interface CorsPolicy {
  allowOrigins: StringMatcher[];
  allowMethods: string; // comma-joined as sent
  allowHeaders: string;
  exposeHeaders: string;
  maxAge: string;
  allowCredentials: boolean;
  /** filter_enabled fraction; 1 = always. */
  enabled: boolean;
}

export interface LocalRateLimitConfig {
  statPrefix: string;
  maxTokens: number;
  tokensPerFill: number;
  fillIntervalMs: number;
  /** filter_enabled / filter_enforced fractions (0..1). */
  enabled: number;
  enforced: number;
  responseHeadersToAdd: HeaderValueOption[];
  /** Status for limited requests (default 429). */
  status: number;
  /** Emit x-ratelimit-limit/remaining/reset headers (Envoy's enable_x_ratelimit_headers DRAFT_VERSION_03). */
  xRateLimitHeaders: boolean;
}

/** Per-route (or vhost) overrides of HTTP filters, keyed by filter type. */
export interface PerFilterConfig {
  fault?: FaultConfig;
  cors?: CorsPolicy;
  localRateLimit?: LocalRateLimitConfig;
}

export interface HashPolicy {
  kind: 'header' | 'cookie' | 'source_ip' | 'query_parameter' | 'filter_state';
  name: string;
  /** Cookie TTL (ms) when the proxy must generate the cookie; path. */
  cookieTtlMs?: number;
  cookiePath?: string;
  terminal: boolean;
}

export interface MirrorPolicy {
  cluster: string;
  fraction: number; // 0..1
}

export interface WeightedCluster {
  name: string;
  weight: number;
  /** host_rewrite_literal of this weighted cluster (Istio sets it per destination). */
  hostRewriteLiteral?: string;
  headers: HeaderMutations;
  perFilter: PerFilterConfig;
}

export interface RouteAction {
  type: 'route';
  cluster?: string;
  weightedClusters?: { clusters: WeightedCluster[]; totalWeight: number };
  /** Cluster from a request header (cluster_header). */
  clusterHeader?: string;
  timeoutMs: number; // 0 = disabled
  idleTimeoutMs: number;
  retry?: RetryPolicy;
  prefixRewrite?: string;
  regexRewrite?: { pattern: StringMatcher; substitution: string; replace(path: string): string };
  hostRewriteLiteral?: string;
  autoHostRewrite: boolean;
  mirrors: MirrorPolicy[];
  hashPolicies: HashPolicy[];
  upgradeTypes: string[];
  /** max_stream_duration / grpc_timeout_header_max (ms), for gRPC deadlines. */
  grpcTimeoutHeaderMaxMs?: number;
}

export interface RedirectAction {
  type: 'redirect';
  scheme?: string;
  host?: string;
  port?: number;
  path?: string;
  prefixRewrite?: string;
  regexRewrite?: { replace(path: string): string };
  /** 301, 302, 303, 307, 308. */
  status: number;
  stripQuery: boolean;
}

export interface DirectResponseAction {
  type: 'direct_response';
  status: number;
  body?: string;
}

export interface RouteMatch {
  path?: { kind: 'exact' | 'prefix' | 'regex' | 'path_separated_prefix'; value: string; test(path: string): boolean };
  caseSensitive: boolean;
  headers: HeaderMatcher[];
  queryParams: QueryParamMatcher[];
  /** runtime_fraction default value (0..1), undefined = always. */
  fraction?: number;
  grpc: boolean;
  /** connect_matcher: matches CONNECT requests only (path is then undefined). */
  connect?: boolean;
}

export interface Route {
  name: string;
  match: RouteMatch;
  action: RouteAction | RedirectAction | DirectResponseAction;
  headers: HeaderMutations;
  perFilter: PerFilterConfig;
  /** filter_metadata.istio.config etc., for logs and debugging. */
  metadata?: Record<string, unknown>;
}

export interface VirtualHost {
  name: string;
  domains: string[];
  routes: Route[];
  requireTls: 'NONE' | 'EXTERNAL_ONLY' | 'ALL';
  retry?: RetryPolicy;
  headers: HeaderMutations;
  perFilter: PerFilterConfig;
  includeAttemptCount: boolean;
}

export interface RouteTable {
  name: string;
  virtualHosts: VirtualHost[];
  /** Domain → virtual host, compiled: exact, then longest suffix wildcard, prefix wildcard, then '*'. */
  findVirtualHost(authority: string): VirtualHost | undefined;
  headers: HeaderMutations;
  ignorePortInHostMatching: boolean;
  validateClusters: boolean;
}

// ------------------------------------------------------------------ clusters and endpoints

export type LbPolicy = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'RING_HASH' | 'MAGLEV' | 'CLUSTER_PROVIDED';
export type DiscoveryType = 'EDS' | 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS' | 'ORIGINAL_DST';

export interface CircuitBreakerThresholds {
  maxConnections: number;
  maxPendingRequests: number;
  maxRequests: number;
  maxRetries: number;
}

export interface OutlierDetectionConfig {
  consecutive5xx: number; // 0 = disabled
  consecutiveGatewayFailure: number;
  consecutiveLocalOriginFailure: number;
  enforcingConsecutive5xx: number; // percent 0..100
  enforcingConsecutiveGatewayFailure: number;
  intervalMs: number;
  baseEjectionTimeMs: number;
  maxEjectionPercent: number;
  splitExternalLocalOriginErrors: boolean;
}

export interface Endpoint {
  address: string;
  port: number;
  weight: number;
  health: 'HEALTHY' | 'UNHEALTHY' | 'DRAINING' | 'UNKNOWN' | 'TIMEOUT' | 'DEGRADED';
  /** filter_metadata.istio.workload etc. */
  metadata?: Record<string, unknown>;
  hostname?: string;
}

export interface LocalityEndpoints {
  /** region/zone/subzone */
  locality: string;
  priority: number;
  weight: number;
  endpoints: Endpoint[];
}

export interface LoadAssignment {
  clusterName: string;
  localities: LocalityEndpoints[];
  /** policy.overprovisioning_factor (default 140). */
  overprovisioningFactor: number;
}

export interface Cluster {
  name: string;
  type: DiscoveryType;
  /** EDS: name to request (eds_cluster_config.service_name or the cluster name). */
  edsServiceName?: string;
  /** STATIC / STRICT_DNS / LOGICAL_DNS: inline endpoints. */
  loadAssignment?: LoadAssignment;
  lbPolicy: LbPolicy;
  ringHash?: { minRingSize: number; maxRingSize: number };
  maglev?: { tableSize: number };
  leastRequest?: { choiceCount: number };
  localityWeighted: boolean;
  connectTimeoutMs: number;
  circuitBreakers: CircuitBreakerThresholds;
  outlierDetection?: OutlierDetectionConfig;
  /** Upstream protocol: 'http1' | 'http2' | 'downstream' (use_downstream_protocol). */
  protocol: 'http1' | 'http2' | 'downstream';
  maxRequestsPerConnection: number; // 0 = unlimited
  idleTimeoutMs: number;
  maxConnectionDurationMs: number;
  tls?: UpstreamTls;
  /** ORIGINAL_DST / inbound passthrough: bind the upstream socket to this source address (127.0.0.6). */
  upstreamBindAddress?: string;
  /** common_lb_config.healthy_panic_threshold in percent (Envoy default 50; Istio sets 0 = never panic with outlier detection). */
  healthyPanicThresholdPercent?: number;
  /** STRICT_DNS / LOGICAL_DNS: dns_refresh_rate (Envoy default 5000 ms) and dns_lookup_family (V4_ONLY, V6_ONLY, AUTO, V4_PREFERRED, ALL). */
  dnsRefreshRateMs?: number;
  dnsLookupFamily?: string;
  /** Hash of the decoded config: unchanged clusters keep their pools and state. */
  hash: string;
}

// ------------------------------------------------------------------ the snapshot

/** One ACKed set of resources per type; swapped atomically as a whole on every accepted update. */
export interface ConfigSnapshot {
  readonly listeners: ReadonlyMap<string, Listener>;
  readonly routes: ReadonlyMap<string, RouteTable>;
  readonly clusters: ReadonlyMap<string, Cluster>;
  readonly endpoints: ReadonlyMap<string, LoadAssignment>;
  /** version_info per type URL as ACKed. */
  readonly versions: ReadonlyMap<string, string>;
}

/** A decoder's result: the runtime object, or every problem with its field path (the joined list is the NACK detail). */
export type Decoded<T> = { ok: true; value: T } | { ok: false; errors: string[] };

// Traffic simulator (after Istio's pilot/pkg/simulation): given the Listeners, RouteConfigurations (and Clusters) a
// proxy received and one request, decide as Envoy would which listener, filter chain, route configuration, virtual
// host and route handle it, and where it goes (cluster, weighted clusters, redirect, direct response, 404).
import type { Claims, ConnectionView, HttpRequestView, Obj } from './matchers.js';
import { regexReplaceAll, routeMatches, selectFilterChain, selectVirtualHost } from './matchers.js';

export interface XdsSnapshot {
  listeners: readonly Obj[];
  routes: readonly Obj[];
  clusters?: readonly Obj[];
}

export interface SimRequest {
  /** Destination port. */
  port: number;
  /** Destination IP (default 0.0.0.0: "no listener for a specific address"). */
  address?: string;
  /**
   * outbound (default): captured by iptables and handed by virtualOutbound to the listener for the original destination;
   * inbound: captured into virtualInbound; direct: connect to a listener bound at address:port (gateways, captureMode
   * NONE). Without virtual listeners, outbound behaves as direct.
   */
  callMode?: 'outbound' | 'inbound' | 'direct';
  /** Pick an API listener by name (proxyless gRPC); overrides callMode. */
  listenerName?: string;
  protocol?: 'http' | 'http2' | 'grpc' | 'tcp' | 'tls';
  /** Authority / Host header (default: address:port). */
  host?: string;
  /** Path with optional query string (default '/'). */
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  /** TLS SNI (implies TLS). */
  sni?: string;
  /** ALPN offered in the TLS handshake. */
  alpn?: string[];
  /** JWT claims for `@request.auth.claims` matches. */
  claims?: Claims;
}

export interface SimResult {
  listener?: string;
  /** Filter chain name, or `#index` when unnamed, or `default` for default_filter_chain. */
  filterChain?: string;
  routeConfig?: string;
  virtualHost?: string;
  /** The matched route's name ('' when unnamed). */
  route?: string;
  routeObj?: Obj;
  cluster?: string;
  weightedClusters?: { name: string; weight: number }[];
  redirect?: Obj;
  directResponse?: { status: number; body?: string };
  /** Status Envoy answers itself: 404 (no virtual host or route), 301 (require_tls), direct_response status. */
  status?: number;
  /** Path the upstream sees after prefix_rewrite / regex_rewrite. */
  upstreamPath?: string;
  hostRewrite?: string;
  /** Handled by tcp_proxy (no HTTP routing). */
  tcp?: boolean;
  /** The cluster the request lands on is not among the snapshot's clusters (when clusters were given). */
  missingCluster?: boolean;
  error?: string;
}

const HCM_TYPE = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const TCP_TYPE = 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';

const isType = (cfg: Obj | undefined, t: string): boolean => typeof cfg?.['@type'] === 'string' && (cfg['@type']).endsWith(t);
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const addr = (l: Obj): { address: string; port: number } => {
  const sa = ((l.address as Obj | undefined)?.socket_address ?? {}) as Obj;
  return { address: str(sa.address), port: Number(sa.port_value ?? 0) };
};
const bound = (l: Obj): boolean => (l.bind_to_port as { value?: boolean } | undefined)?.value !== false && !l.api_listener;
const isHttpProtocol = (p: SimRequest['protocol']): boolean => p === undefined || p === 'http' || p === 'http2' || p === 'grpc';

function findByAddress(listeners: readonly Obj[], ip: string, port: number, filter: (l: Obj) => boolean): Obj | undefined {
  const cands = listeners.filter((l) => filter(l) && addr(l).port === port);
  return cands.find((l) => addr(l).address === ip) ?? cands.find((l) => addr(l).address === '0.0.0.0');
}

function selectListener(snap: XdsSnapshot, req: SimRequest): Obj | undefined {
  const ip = req.address ?? '0.0.0.0';
  if (req.listenerName) return snap.listeners.find((l) => l.name === req.listenerName);
  const mode = req.callMode ?? 'outbound';
  if (mode === 'direct') return findByAddress(snap.listeners, ip, req.port, bound);
  if (mode === 'inbound') return snap.listeners.find((l) => l.name === 'virtualInbound');
  const virtualOutbound = snap.listeners.find((l) => l.name === 'virtualOutbound');
  if (!virtualOutbound) return findByAddress(snap.listeners, ip, req.port, bound);
  // use_original_dst: hand off to the listener for the original destination, whether it binds or not.
  return findByAddress(snap.listeners, ip, req.port, (l) => l !== virtualOutbound && !l.api_listener && l.name !== 'virtualInbound') ?? virtualOutbound;
}

function connectionView(listener: Obj, req: SimRequest): ConnectionView {
  const lfs = ((listener.listener_filters as Obj[] | undefined) ?? []).map((f) => String(f.name));
  const tls = req.protocol === 'tls' || req.sni !== undefined;
  const tlsInspector = lfs.includes('envoy.filters.listener.tls_inspector');
  const httpInspector = lfs.includes('envoy.filters.listener.http_inspector');
  let alpn: string[] = [];
  if (tls && tlsInspector) alpn = req.alpn ?? [];
  else if (!tls && httpInspector && isHttpProtocol(req.protocol)) alpn = req.protocol === 'http2' || req.protocol === 'grpc' ? ['h2c'] : ['http/1.1'];
  const view: ConnectionView = {
    destinationIp: req.address ?? '0.0.0.0',
    destinationPort: req.port,
    transportProtocol: tls && tlsInspector ? 'tls' : 'raw_buffer',
    applicationProtocols: alpn,
  };
  if (tls && tlsInspector && req.sni) view.serverName = req.sni;
  return view;
}

function chainName(listener: Obj, fc: Obj): string {
  if (typeof fc.name === 'string' && fc.name) return fc.name;
  if (fc === listener.default_filter_chain) return 'default';
  return `#${((listener.filter_chains as Obj[] | undefined) ?? []).indexOf(fc)}`;
}

function httpView(req: SimRequest): HttpRequestView {
  const raw = req.path ?? '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
  const tls = req.protocol === 'tls' || req.sni !== undefined;
  headers[':method'] = req.method ?? 'GET';
  headers[':authority'] = req.host ?? `${req.address ?? '0.0.0.0'}:${req.port}`;
  headers[':scheme'] ??= tls ? 'https' : 'http';
  headers[':path'] = raw;
  const view: HttpRequestView = { path, query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)), headers };
  if (req.claims) view.claims = req.claims;
  return view;
}

function applyRoute(out: SimResult, route: Obj, req: HttpRequestView, clusters: readonly Obj[] | undefined): void {
  out.route = typeof route.name === 'string' ? route.name : '';
  out.routeObj = route;
  if (route.redirect) {
    out.redirect = route.redirect as Obj;
    const codes: Record<string, number> = { MOVED_PERMANENTLY: 301, FOUND: 302, SEE_OTHER: 303, TEMPORARY_REDIRECT: 307, PERMANENT_REDIRECT: 308 };
    out.status = codes[str((route.redirect as Obj).response_code) || 'MOVED_PERMANENTLY'] ?? 301;
    return;
  }
  if (route.direct_response) {
    const dr = route.direct_response as Obj;
    const body = (dr.body as Obj | undefined)?.inline_string;
    out.directResponse = { status: Number(dr.status), ...(typeof body === 'string' ? { body } : {}) };
    out.status = Number(dr.status);
    return;
  }
  const action = route.route as Obj | undefined;
  if (!action) {
    out.error = 'route has no action';
    return;
  }
  if (typeof action.cluster === 'string') out.cluster = action.cluster;
  const wc = action.weighted_clusters as { clusters?: Obj[] } | undefined;
  if (wc) out.weightedClusters = (wc.clusters ?? []).map((c) => ({ name: String(c.name), weight: Number((c.weight as { value?: number } | undefined)?.value ?? 0) }));
  // Rewrites as the router applies them.
  const m = route.match as Obj;
  if (typeof action.prefix_rewrite === 'string') {
    const matched = typeof m.prefix === 'string' ? m.prefix : typeof m.path === 'string' ? m.path : '';
    out.upstreamPath = action.prefix_rewrite + req.path.slice(matched.length);
  } else if (action.regex_rewrite) {
    const rr = action.regex_rewrite as Obj;
    const pattern = String((rr.pattern as Obj).regex);
    out.upstreamPath = regexReplaceAll(pattern, req.path, String(rr.substitution));
  }
  if (typeof action.host_rewrite_literal === 'string') out.hostRewrite = action.host_rewrite_literal;
  const names = out.cluster ? [out.cluster] : (out.weightedClusters ?? []).map((c) => c.name);
  if (clusters && names.some((n) => !clusters.some((c) => c.name === n))) out.missingCluster = true;
}

/** Simulates one request against a proxy's configuration. */
export function simulate(snap: XdsSnapshot, req: SimRequest): SimResult {
  const out: SimResult = {};
  const listener = selectListener(snap, req);
  if (!listener) return { error: `no listener for ${req.address ?? '0.0.0.0'}:${req.port}` };
  out.listener = String(listener.name);

  let hcm: Obj | undefined;
  if (listener.api_listener) {
    hcm = (listener.api_listener as Obj).api_listener as Obj;
  } else {
    const fc = selectFilterChain(listener, connectionView(listener, req));
    if (!fc) return { ...out, error: 'no filter chain matched' };
    out.filterChain = chainName(listener, fc);
    const filters = (fc.filters as Obj[] | undefined) ?? [];
    const tcp = filters.find((f) => isType(f.typed_config as Obj, TCP_TYPE));
    hcm = filters.map((f) => f.typed_config as Obj).find((c) => isType(c, HCM_TYPE));
    if (!hcm) {
      if (!tcp) return { ...out, error: 'filter chain has neither an HTTP connection manager nor a tcp_proxy' };
      const cfg = tcp.typed_config as Obj;
      out.tcp = true;
      if (typeof cfg.cluster === 'string') out.cluster = cfg.cluster;
      const wc = cfg.weighted_clusters as { clusters?: Obj[] } | undefined;
      if (wc) out.weightedClusters = (wc.clusters ?? []).map((c) => ({ name: String(c.name), weight: Number(c.weight ?? 0) }));
      if (snap.clusters && out.cluster && !snap.clusters.some((c) => c.name === out.cluster)) out.missingCluster = true;
      return out;
    }
  }

  let rc: Obj | undefined;
  if (hcm.route_config) rc = hcm.route_config as Obj;
  else {
    const name = str(((hcm.rds as Obj | undefined) ?? {}).route_config_name);
    rc = snap.routes.find((r) => r.name === name);
    if (!rc) return { ...out, routeConfig: name, error: `route configuration ${name} not in snapshot` };
  }
  out.routeConfig = str(rc.name);
  const http = httpView(req);
  let host = http.headers[':authority'] ?? '';
  if ((rc.ignore_port_in_host_matching as boolean | undefined) === true) host = host.replace(/:\d+$/, '');
  const vh = selectVirtualHost((rc.virtual_hosts as Obj[] | undefined) ?? [], host);
  if (!vh) return { ...out, status: 404, error: `no virtual host for ${host}` };
  out.virtualHost = String(vh.name);
  const tls = req.protocol === 'tls' || req.sni !== undefined;
  if ((vh.require_tls === 'ALL' || vh.require_tls === 'EXTERNAL_ONLY') && !tls) {
    return { ...out, status: 301, redirect: { scheme_redirect: 'https' } };
  }
  const route = ((vh.routes as Obj[] | undefined) ?? []).find((r) => routeMatches((r.match ?? {}) as Obj, http));
  if (!route) return { ...out, status: 404, error: 'no route matched' };
  applyRoute(out, route, http, snap.clusters);
  return out;
}

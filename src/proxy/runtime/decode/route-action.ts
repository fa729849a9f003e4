// One Route of a virtual host: its match (path, headers, query, runtime fraction, gRPC) and its action (route to a
// cluster with retries, timeouts, rewrites, mirrors and hash policies; redirect; direct response).
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto
import type { DirectResponseAction, HashPolicy, HeaderMatcher, MirrorPolicy, QueryParamMatcher, RedirectAction, RetryPolicy, Route, RouteAction, RouteMatch, WeightedCluster } from '../types.js';
import { headerMutations } from './headers.js';
import { decodeCorsPolicy, perFilterConfig } from './http-filters.js';
import { headerMatcher, queryParamMatcher, regexRewrite, routePath } from './matchers.js';
import type { DecodeContext, Problems, Rec } from './util.js';
import { at, dataSource, durMs, enumStr, filterMetadata, list, msg, num, nums, runtimeFraction, str, unpackAny, wrappedBool, wrappedNum } from './util.js';

/** Envoy's default route timeout when `timeout` is not set. */
export const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;
const PREVIOUS_HOSTS = 'envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate';
const PREVIOUS_PRIORITIES = 'envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig';

const REDIRECT_CODES: Record<string, number> = { MOVED_PERMANENTLY: 301, FOUND: 302, SEE_OTHER: 303, TEMPORARY_REDIRECT: 307, PERMANENT_REDIRECT: 308 };

/** envoy.config.route.v3.RetryPolicy (route or virtual host level). */
export function retryPolicy(r: Rec, path: string, p: Problems): RetryPolicy {
  const retryOn = new Set(
    (str(r, 'retry_on') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  );
  let previousHosts = false;
  list(r, 'retry_host_predicate').forEach((pred, i) => {
    const a = unpackAny(msg(pred, 'typed_config'));
    if (a?.type === PREVIOUS_HOSTS || (!a && str(pred, 'name') === 'envoy.retry_host_predicates.previous_hosts')) previousHosts = true;
    else p.add(`${at(path, 'retry_host_predicate')}[${i}]`, `unsupported retry host predicate ${a?.type ?? str(pred, 'name') ?? ''}`);
  });
  const prio = msg(r, 'retry_priority');
  if (prio) {
    const a = unpackAny(msg(prio, 'typed_config'));
    // previous_priorities only changes which priority a retry prefers; the proxy's locality failover already moves on.
    if (a?.type !== PREVIOUS_PRIORITIES && str(prio, 'name') !== 'envoy.retry_priorities.previous_priorities') {
      p.add(at(path, 'retry_priority'), `unsupported retry priority ${a?.type ?? str(prio, 'name') ?? ''}`);
    }
  }
  const backoff = msg(r, 'retry_back_off');
  const base = backoff ? (durMs(backoff, 'base_interval') ?? 25) : 25;
  const max = backoff ? (durMs(backoff, 'max_interval') ?? base * 10) : base * 10;
  if (backoff && base <= 0) p.add(at(path, 'retry_back_off.base_interval'), 'must be greater than 0');
  if (max < base) p.add(at(path, 'retry_back_off.max_interval'), 'must not be less than base_interval');
  const codes = nums(r, 'retriable_status_codes');
  return {
    retryOn,
    numRetries: wrappedNum(r, 'num_retries') ?? 1,
    perTryTimeoutMs: durMs(r, 'per_try_timeout') ?? 0,
    retriableStatusCodes: new Set(codes),
    backoffBaseMs: base,
    backoffMaxMs: max,
    previousHosts,
    hostSelectionRetryMaxAttempts: num(r, 'host_selection_retry_max_attempts') ?? 1,
  };
}

function routeMatch(m: Rec, path: string, p: Problems): RouteMatch {
  const ps = routePath(m, path, p);
  const headers: HeaderMatcher[] = [];
  list(m, 'headers').forEach((h, i) => {
    const hm = headerMatcher(h, `${at(path, 'headers')}[${i}]`, p);
    if (hm) headers.push(hm);
  });
  const queryParams: QueryParamMatcher[] = [];
  list(m, 'query_parameters').forEach((q, i) => {
    const qm = queryParamMatcher(q, `${at(path, 'query_parameters')}[${i}]`, p);
    if (qm) queryParams.push(qm);
  });
  for (const k of ['tls_context', 'dynamic_metadata', 'filter_state']) {
    const v = m[k];
    if (v !== undefined && !(Array.isArray(v) && v.length === 0)) p.add(at(path, k), 'not supported by the proxy');
  }
  const out: RouteMatch = { caseSensitive: ps.caseSensitive, headers, queryParams, grpc: msg(m, 'grpc') !== undefined };
  if (ps.path) out.path = ps.path;
  if (ps.connect) out.connect = true;
  const fraction = runtimeFraction(m, 'runtime_fraction');
  if (fraction !== undefined) out.fraction = fraction;
  return out;
}

function hashPolicies(items: Rec[], path: string, p: Problems): HashPolicy[] {
  const out: HashPolicy[] = [];
  items.forEach((h, i) => {
    const hp = `${path}[${i}]`;
    const terminal = h.terminal === true;
    const header = msg(h, 'header');
    const cookie = msg(h, 'cookie');
    const query = msg(h, 'query_parameter');
    const fs = msg(h, 'filter_state');
    if (header) {
      if (msg(header, 'regex_rewrite')) p.add(at(hp, 'header.regex_rewrite'), 'not supported by the proxy');
      const name = (str(header, 'header_name') ?? '').toLowerCase();
      if (!name) p.add(at(hp, 'header.header_name'), 'header_name is required');
      out.push({ kind: 'header', name, terminal });
    } else if (cookie) {
      const name = str(cookie, 'name') ?? '';
      if (!name) p.add(at(hp, 'cookie.name'), 'cookie name is required');
      const hpOut: HashPolicy = { kind: 'cookie', name, terminal };
      const ttl = durMs(cookie, 'ttl');
      if (ttl !== undefined) hpOut.cookieTtlMs = ttl;
      const cpath = str(cookie, 'path');
      if (cpath) hpOut.cookiePath = cpath;
      out.push(hpOut);
    } else if (msg(h, 'connection_properties')) {
      if (msg(h, 'connection_properties')?.source_ip === true) out.push({ kind: 'source_ip', name: '', terminal });
    } else if (query) {
      const name = str(query, 'name') ?? '';
      if (!name) p.add(at(hp, 'query_parameter.name'), 'query parameter name is required');
      out.push({ kind: 'query_parameter', name, terminal });
    } else if (fs) {
      out.push({ kind: 'filter_state', name: str(fs, 'key') ?? '', terminal });
    } else {
      p.add(hp, 'unsupported hash policy');
    }
  });
  return out;
}

function weightedClusters(wc: Rec, path: string, p: Problems): { clusters: WeightedCluster[]; totalWeight: number } {
  const clusters: WeightedCluster[] = [];
  const items = list(wc, 'clusters');
  if (items.length === 0) p.add(at(path, 'clusters'), 'at least one weighted cluster is required');
  items.forEach((c, i) => {
    const cp = `${at(path, 'clusters')}[${i}]`;
    const name = str(c, 'name') ?? '';
    if (!name) p.add(at(cp, 'name'), c.cluster_header !== undefined ? 'cluster_header in weighted clusters is not supported' : 'cluster name is required');
    const w: WeightedCluster = { name, weight: wrappedNum(c, 'weight') ?? 0, headers: headerMutations(c, cp, p), perFilter: perFilterConfig(c, cp, p) };
    const host = str(c, 'host_rewrite_literal');
    if (host) w.hostRewriteLiteral = host;
    clusters.push(w);
  });
  const sum = clusters.reduce((s, c) => s + c.weight, 0);
  const total = wrappedNum(wc, 'total_weight') ?? sum;
  if (total <= 0) p.add(at(path, 'clusters'), 'the sum of weights must be greater than 0');
  else if (total !== sum) p.add(at(path, 'total_weight'), `total_weight ${total} differs from the sum of weights ${sum}`);
  return { clusters, totalWeight: total };
}

function routeAction(r: Rec, path: string, p: Problems): RouteAction {
  const out: RouteAction = {
    type: 'route',
    timeoutMs: durMs(r, 'timeout') ?? DEFAULT_ROUTE_TIMEOUT_MS,
    idleTimeoutMs: durMs(r, 'idle_timeout') ?? 0,
    autoHostRewrite: wrappedBool(r, 'auto_host_rewrite') ?? false,
    mirrors: [],
    hashPolicies: hashPolicies(list(r, 'hash_policy'), at(path, 'hash_policy'), p),
    upgradeTypes: [],
  };
  const cluster = str(r, 'cluster');
  const header = str(r, 'cluster_header');
  const wc = msg(r, 'weighted_clusters');
  if (cluster !== undefined) {
    if (!cluster) p.add(at(path, 'cluster'), 'cluster name is required');
    out.cluster = cluster;
  } else if (header !== undefined) {
    if (!header) p.add(at(path, 'cluster_header'), 'header name is required');
    out.clusterHeader = header.toLowerCase();
  } else if (wc) {
    out.weightedClusters = weightedClusters(wc, at(path, 'weighted_clusters'), p);
  } else if (r.cluster_specifier_plugin !== undefined || r.inline_cluster_specifier_plugin !== undefined) {
    p.add(path, 'cluster specifier plugins are not supported');
  } else {
    p.add(path, 'no cluster specifier (cluster, cluster_header or weighted_clusters)');
  }
  const rp = msg(r, 'retry_policy');
  if (rp) out.retry = retryPolicy(rp, at(path, 'retry_policy'), p);
  if (r.retry_policy_typed_config !== undefined) p.add(at(path, 'retry_policy_typed_config'), 'not supported by the proxy');
  const prefix = str(r, 'prefix_rewrite');
  const rr = msg(r, 'regex_rewrite');
  if (prefix !== undefined && rr) p.add(path, 'prefix_rewrite and regex_rewrite are both set');
  if (prefix !== undefined) out.prefixRewrite = prefix;
  if (rr) {
    const rw = regexRewrite(rr, at(path, 'regex_rewrite'), p);
    if (rw) out.regexRewrite = rw;
  }
  if (r.path_rewrite_policy !== undefined) p.add(at(path, 'path_rewrite_policy'), 'URI template rewrites are not supported');
  const host = str(r, 'host_rewrite_literal');
  if (host !== undefined) out.hostRewriteLiteral = host;
  for (const k of ['host_rewrite_header', 'host_rewrite_path_regex']) if (r[k] !== undefined) p.add(at(path, k), 'not supported by the proxy');
  list(r, 'request_mirror_policies').forEach((m, i) => {
    const mp = `${at(path, 'request_mirror_policies')}[${i}]`;
    const name = str(m, 'cluster') ?? '';
    if (!name) {
      p.add(at(mp, 'cluster'), m.cluster_header !== undefined ? 'cluster_header mirrors are not supported' : 'cluster name is required');
      return;
    }
    const mirror: MirrorPolicy = { cluster: name, fraction: runtimeFraction(m, 'runtime_fraction') ?? 1 };
    out.mirrors.push(mirror);
  });
  list(r, 'upgrade_configs').forEach((u) => {
    if (wrappedBool(u, 'enabled') === false) return;
    const t = (str(u, 'upgrade_type') ?? '').toLowerCase();
    if (t) out.upgradeTypes.push(t);
  });
  const msd = msg(r, 'max_stream_duration');
  const headerMax = msd ? durMs(msd, 'grpc_timeout_header_max') : undefined;
  const legacyMax = durMs(r, 'max_grpc_timeout');
  if (headerMax !== undefined) out.grpcTimeoutHeaderMaxMs = headerMax;
  else if (legacyMax !== undefined) out.grpcTimeoutHeaderMaxMs = legacyMax;
  return out;
}

function redirectAction(r: Rec, path: string, p: Problems): RedirectAction {
  const code = enumStr(r, 'response_code', 'MOVED_PERMANENTLY');
  const status = REDIRECT_CODES[code];
  if (status === undefined) p.add(at(path, 'response_code'), `unknown redirect response code ${code}`);
  const out: RedirectAction = { type: 'redirect', status: status ?? 301, stripQuery: r.strip_query === true };
  const scheme = str(r, 'scheme_redirect');
  if (scheme !== undefined) out.scheme = scheme;
  else if (r.https_redirect === true) out.scheme = 'https';
  const host = str(r, 'host_redirect');
  if (host !== undefined) out.host = host;
  const port = num(r, 'port_redirect');
  if (port !== undefined) {
    if (port > 65535) p.add(at(path, 'port_redirect'), `${port} is not a port`);
    out.port = port;
  }
  const pathRedirect = str(r, 'path_redirect');
  const prefix = str(r, 'prefix_rewrite');
  const rr = msg(r, 'regex_rewrite');
  if ([pathRedirect, prefix, rr].filter((x) => x !== undefined).length > 1) p.add(path, 'only one of path_redirect, prefix_rewrite and regex_rewrite may be set');
  if (pathRedirect !== undefined) out.path = pathRedirect;
  if (prefix !== undefined) out.prefixRewrite = prefix;
  if (rr) {
    const rw = regexRewrite(rr, at(path, 'regex_rewrite'), p);
    if (rw) out.regexRewrite = rw;
  }
  return out;
}

function directResponse(r: Rec, path: string, p: Problems, ctx: DecodeContext): DirectResponseAction {
  const status = num(r, 'status') ?? 0;
  if (status < 200 || status >= 600) p.add(at(path, 'status'), `${status} is not in [200, 600)`);
  const out: DirectResponseAction = { type: 'direct_response', status };
  const body = dataSource(msg(r, 'body'), at(path, 'body'), p, ctx);
  if (body !== undefined && body !== '') out.body = body;
  return out;
}

/** envoy.config.route.v3.Route. */
export function decodeRoute(r: Rec, path: string, p: Problems, ctx: DecodeContext): Route | undefined {
  const match = msg(r, 'match');
  if (!match) {
    p.add(at(path, 'match'), 'match is required');
    return undefined;
  }
  let action: Route['action'] | undefined;
  const ra = msg(r, 'route');
  const redirect = msg(r, 'redirect');
  const dr = msg(r, 'direct_response');
  if (ra) action = routeAction(ra, at(path, 'route'), p);
  else if (redirect) action = redirectAction(redirect, at(path, 'redirect'), p);
  else if (dr) action = directResponse(dr, at(path, 'direct_response'), p, ctx);
  else if (r.non_forwarding_action !== undefined) p.add(at(path, 'non_forwarding_action'), 'only proxyless gRPC servers take non-forwarding routes');
  else if (r.filter_action !== undefined) p.add(at(path, 'filter_action'), 'not supported by the proxy');
  else p.add(path, 'no action (route, redirect or direct_response)');
  const m = routeMatch(match, at(path, 'match'), p);
  if (!action) return undefined;
  const out: Route = { name: str(r, 'name') ?? '', match: m, action, headers: headerMutations(r, path, p), perFilter: perFilterConfig(r, path, p) };
  const legacyCors = ra ? msg(ra, 'cors') : undefined;
  if (legacyCors && !out.perFilter.cors) out.perFilter.cors = decodeCorsPolicy(legacyCors, at(path, 'route.cors'), p);
  const md = filterMetadata(r);
  if (md) out.metadata = md;
  return out;
}

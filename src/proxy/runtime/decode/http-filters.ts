// HTTP filter configurations the proxy implements: fault (HTTPFault), CORS (CorsPolicy) and local rate limit
// (LocalRateLimit), for the HCM filter chain and for typed_per_filter_config overrides; and the per-filter registry
// keyed by message type. https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/
import type { CorsPolicy, FaultConfig, LocalRateLimitConfig, PerFilterConfig, StringMatcher } from '../types.js';
import { protoRoot } from '../../../xds/proto.js';
import { headerValueOptions } from './headers.js';
import { stringMatcher } from './matchers.js';
import type { Problems, Rec } from './util.js';
import { at, durMs, enumStr, fractionOf, list, msg, num, rec, runtimeFraction, str, unpackAny, wrappedBool, wrappedNum } from './util.js';

export const HttpFilterType = {
  Router: 'envoy.extensions.filters.http.router.v3.Router',
  Fault: 'envoy.extensions.filters.http.fault.v3.HTTPFault',
  Cors: 'envoy.extensions.filters.http.cors.v3.Cors',
  CorsPolicy: 'envoy.extensions.filters.http.cors.v3.CorsPolicy',
  LocalRateLimit: 'envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
  FilterConfig: 'envoy.config.route.v3.FilterConfig',
} as const;

/** envoy.extensions.filters.http.fault.v3.HTTPFault. */
export function decodeFault(f: Rec, path: string, p: Problems): FaultConfig {
  const out: FaultConfig = {};
  for (const k of ['headers', 'downstream_nodes', 'upstream_cluster', 'response_rate_limit']) {
    const v = f[k];
    if (v !== undefined && !(Array.isArray(v) && v.length === 0)) p.add(at(path, k), 'not supported by the proxy');
  }
  const delay = msg(f, 'delay');
  if (delay) {
    const dp = at(path, 'delay');
    if (delay.header_delay !== undefined) p.add(at(dp, 'header_delay'), 'header-controlled delays are not supported');
    const ms = durMs(delay, 'fixed_delay');
    if (ms === undefined && delay.header_delay === undefined) p.add(at(dp, 'fixed_delay'), 'fixed_delay is required');
    else if (ms !== undefined && ms < 0) p.add(at(dp, 'fixed_delay'), 'must not be negative');
    out.delay = { fixedDelayMs: ms ?? 0, percent: { fraction: fractionOf(msg(delay, 'percentage')) ?? 0 } };
  }
  const abort = msg(f, 'abort');
  if (abort) {
    const ap = at(path, 'abort');
    const http = num(abort, 'http_status');
    const grpc = num(abort, 'grpc_status');
    if (abort.header_abort !== undefined) p.add(at(ap, 'header_abort'), 'header-controlled aborts are not supported');
    else if (http === undefined && grpc === undefined) p.add(ap, 'http_status or grpc_status is required');
    if (http !== undefined && (http < 200 || http >= 600)) p.add(at(ap, 'http_status'), `${http} is not in [200, 600)`);
    out.abort = {
      ...(http !== undefined ? { httpStatus: http } : {}),
      ...(grpc !== undefined ? { grpcStatus: grpc } : {}),
      percent: { fraction: fractionOf(msg(abort, 'percentage')) ?? 0 },
    };
  }
  const maxActive = wrappedNum(f, 'max_active_faults');
  if (maxActive !== undefined) out.maxActiveFaults = maxActive;
  return out;
}

function origins(items: Rec[], path: string, p: Problems): StringMatcher[] {
  const out: StringMatcher[] = [];
  items.forEach((m, i) => {
    const sm = stringMatcher(m, `${path}[${i}]`, p);
    if (sm) out.push(sm);
  });
  return out;
}

/** envoy.extensions.filters.http.cors.v3.CorsPolicy, or the route-level envoy.config.route.v3.CorsPolicy. */
export function decodeCorsPolicy(c: Rec, path: string, p: Problems): CorsPolicy {
  const enabled = runtimeFraction(c, 'filter_enabled') ?? 1;
  return {
    allowOrigins: origins(list(c, 'allow_origin_string_match'), at(path, 'allow_origin_string_match'), p),
    allowMethods: str(c, 'allow_methods') ?? '',
    allowHeaders: str(c, 'allow_headers') ?? '',
    exposeHeaders: str(c, 'expose_headers') ?? '',
    maxAge: str(c, 'max_age') ?? '',
    allowCredentials: wrappedBool(c, 'allow_credentials') ?? false,
    enabled: enabled > 0,
  };
}

/** envoy.type.v3.HttpStatus: its StatusCode enum comes as a name ('TooManyRequests') or a number. */
function statusCode(s: Rec | undefined): number | undefined {
  if (!s) return undefined;
  const n = num(s, 'code');
  if (n !== undefined) return n;
  const name = str(s, 'code');
  if (name === undefined) return undefined;
  return protoRoot().lookupEnum('envoy.type.v3.StatusCode').values[name];
}

/**
 * envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit; undefined when it has no token bucket (a listener-
 * level filter that only takes effect through per-route configs).
 */
export function decodeLocalRateLimit(c: Rec, path: string, p: Problems): LocalRateLimitConfig | undefined {
  const statPrefix = str(c, 'stat_prefix') ?? '';
  if (!statPrefix) p.add(at(path, 'stat_prefix'), 'stat_prefix is required');
  if (list(c, 'descriptors').length > 0) p.add(at(path, 'descriptors'), 'descriptor-based local rate limits are not supported');
  if (c.local_rate_limit_per_downstream_connection === true) p.add(at(path, 'local_rate_limit_per_downstream_connection'), 'per-connection token buckets are not supported');
  const tb = msg(c, 'token_bucket');
  if (!tb) return undefined;
  const tp = at(path, 'token_bucket');
  const maxTokens = num(tb, 'max_tokens') ?? 0;
  const tokensPerFill = wrappedNum(tb, 'tokens_per_fill') ?? 1;
  const fillIntervalMs = durMs(tb, 'fill_interval');
  if (maxTokens <= 0) p.add(at(tp, 'max_tokens'), 'must be greater than 0');
  if (tokensPerFill <= 0) p.add(at(tp, 'tokens_per_fill'), 'must be greater than 0');
  if (fillIntervalMs === undefined) p.add(at(tp, 'fill_interval'), 'fill_interval is required');
  else if (fillIntervalMs < 50) p.add(at(tp, 'fill_interval'), 'must be at least 50ms');
  const status = statusCode(msg(c, 'status'));
  if (status !== undefined && (status < 400 || status >= 600)) p.add(at(path, 'status.code'), `${status} is not in [400, 600)`);
  return {
    statPrefix,
    maxTokens,
    tokensPerFill,
    fillIntervalMs: fillIntervalMs ?? 0,
    enabled: runtimeFraction(c, 'filter_enabled') ?? 0,
    enforced: runtimeFraction(c, 'filter_enforced') ?? 0,
    responseHeadersToAdd: headerValueOptions(list(c, 'response_headers_to_add'), at(path, 'response_headers_to_add'), p),
    status: status ?? 429,
    xRateLimitHeaders: enumStr(c, 'enable_x_ratelimit_headers', 'OFF') === 'DRAFT_VERSION_03',
  };
}

/**
 * typed_per_filter_config (a map from filter name to Any) → overrides by filter kind. Unknown message types are refused
 * (Envoy has no factory for them) unless wrapped in a FilterConfig with is_optional.
 */
export function perFilterConfig(o: Rec, path: string, p: Problems): PerFilterConfig {
  const map = rec(o.typed_per_filter_config);
  const out: PerFilterConfig = {};
  if (!map) return out;
  for (const [name, anyV] of Object.entries(map)) {
    const fp = `${at(path, 'typed_per_filter_config')}[${name}]`;
    let a = unpackAny(rec(anyV));
    let optional = false;
    if (a?.type === HttpFilterType.FilterConfig && a.fields) {
      optional = a.fields.is_optional === true;
      if (a.fields.disabled === true) continue; // disables the filter for this route: nothing to override
      a = unpackAny(rec(a.fields.config));
    }
    if (!a) {
      p.add(fp, 'missing typed config');
      continue;
    }
    if (a.error) {
      p.add(fp, a.error);
      continue;
    }
    const f = a.fields ?? {};
    if (a.type === HttpFilterType.Fault && a.fields) out.fault = decodeFault(f, fp, p);
    else if (a.type === HttpFilterType.CorsPolicy && a.fields) out.cors = decodeCorsPolicy(f, fp, p);
    else if (a.type === HttpFilterType.LocalRateLimit && a.fields) {
      const rl = decodeLocalRateLimit(f, fp, p);
      if (rl) out.localRateLimit = rl;
      else p.add(at(fp, 'token_bucket'), 'a per-route local rate limit needs a token bucket');
    } else if (!optional) p.add(fp, `unsupported per-filter config type ${a.type}`);
  }
  return out;
}

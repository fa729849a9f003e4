// Per-route policies as Istio builds them: retries (retry.ConvertPolicy), fault (TranslateFault), CORS
// (TranslateCORSPolicy), mirroring (MirrorPercent*) and header operations (TranslateHeadersOperations).
import type { CorsPolicy, HTTPFaultInjection, HTTPMirrorPolicy, HTTPRetry, HTTPRoute, Headers, HeaderOperations } from '../../../api/types/networking.js';
import { parseDuration } from '../../../api/duration.js';
import type { Obj } from './util.js';
import { TYPE, integerToFraction, percentToFraction, protoDuration } from './util.js';
import { stringMatcher } from './match.js';

/** Istio's default HTTP retry policy (meshConfig.defaultHttpRetryPolicy unset). */
export const DEFAULT_RETRY_ON = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';
export const DEFAULT_RETRY_ATTEMPTS = 2;

const PREVIOUS_HOSTS: Obj = { name: 'envoy.retry_host_predicates.previous_hosts', typed_config: { '@type': TYPE.PreviousHosts } };

/** HTTP status codes Go's http.StatusText knows (Istio only treats those numbers as status codes in retryOn). */
const KNOWN_STATUS = new Set([
  100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308, 400, 401, 402, 403, 404,
  405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501,
  502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

function defaultRetry(consistentHash: boolean): Obj {
  const out: Obj = {
    retry_on: DEFAULT_RETRY_ON,
    num_retries: { value: DEFAULT_RETRY_ATTEMPTS },
    retriable_status_codes: [503],
    host_selection_retry_max_attempts: 5,
  };
  // With consistent hashing, retries must stay on the hashed host.
  if (!consistentHash) out.retry_host_predicate = [PREVIOUS_HOSTS];
  return out;
}

/**
 * VirtualService retries → envoy RetryPolicy. Unset → Istio's default; attempts 0 → no retries (undefined).
 * https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPRetry
 */
export function retryPolicy(retries: HTTPRetry | undefined, consistentHash: boolean): Obj | undefined {
  const out = defaultRetry(consistentHash);
  if (!retries) return out;
  if (!retries.attempts || retries.attempts <= 0) return undefined;
  out.num_retries = { value: retries.attempts };
  if (retries.retryOn) {
    const codes: number[] = [];
    const on: string[] = [];
    for (const raw of retries.retryOn.split(',')) {
      const part = raw.trim();
      if (part === '') continue;
      const n = Number(part);
      if (/^\d+$/.test(part) && KNOWN_STATUS.has(n)) codes.push(n);
      else on.push(part);
    }
    let retryOn = on.join(',');
    if (codes.length > 0 && !retryOn.includes('retriable-status-codes')) retryOn = retryOn ? `${retryOn},retriable-status-codes` : 'retriable-status-codes';
    out.retry_on = retryOn;
    out.retriable_status_codes = codes;
  }
  const perTry = protoDuration(retries.perTryTimeout);
  if (perTry) out.per_try_timeout = perTry;
  if (retries.retryIgnorePreviousHosts !== undefined) {
    if (retries.retryIgnorePreviousHosts) out.retry_host_predicate = [PREVIOUS_HOSTS];
    else delete out.retry_host_predicate;
  }
  if (retries.retryRemoteLocalities) {
    out.retry_priority = { name: 'envoy.retry_priorities.previous_priorities', typed_config: { '@type': TYPE.PreviousPriorities, update_frequency: 2 } };
  }
  const backoff = protoDuration(retries.backoff);
  if (backoff && (backoff.seconds > 0 || backoff.nanos > 0)) out.retry_back_off = { base_interval: backoff };
  if (Array.isArray(out.retriable_status_codes) && out.retriable_status_codes.length === 0) delete out.retriable_status_codes;
  return out;
}

/** gRPC status names Istio accepts in fault.abort.grpcStatus (grpc.SupportedGRPCStatus). */
export const GRPC_CODES: Readonly<Record<string, number>> = {
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14,
  DATA_LOSS: 15, UNAUTHENTICATED: 16,
};

/**
 * fault → envoy.extensions.filters.http.fault.v3.HTTPFault (per-route typed config); undefined when nothing applies.
 * An abort without a percentage gets an explicit 0% (Envoy's default for an unset FractionalPercent), so that clients
 * which require the field (gRPC) accept it.
 */
export function translateFault(fault: HTTPFaultInjection | undefined): Obj | undefined {
  if (!fault) return undefined;
  const out: Obj = { '@type': TYPE.Fault };
  if (fault.delay) {
    const d = fault.delay;
    const fixed = protoDuration(d.fixedDelay);
    if (fixed) {
      out.delay = {
        fixed_delay: fixed,
        percentage: d.percentage ? percentToFraction(d.percentage) : integerToFraction(d.percent ?? 0),
      };
    }
    // exponentialDelay: Istio logs "not yet supported" and drops the delay.
  }
  if (fault.abort) {
    const a = fault.abort;
    const percentage = a.percentage ? percentToFraction(a.percentage) : { numerator: 0, denominator: 'HUNDRED' };
    if (a.httpStatus !== undefined) out.abort = { http_status: a.httpStatus, percentage };
    else if (a.grpcStatus !== undefined && GRPC_CODES[a.grpcStatus] !== undefined) out.abort = { grpc_status: GRPC_CODES[a.grpcStatus], percentage };
    // http2Error: not supported by Istio either.
  }
  return out.delay || out.abort ? out : undefined;
}

/** corsPolicy → envoy.extensions.filters.http.cors.v3.CorsPolicy (per-route typed config). */
export function translateCors(cors: CorsPolicy | undefined): Obj | undefined {
  if (!cors) return undefined;
  const out: Obj = { '@type': TYPE.CorsPolicy };
  out.forward_not_matching_preflights = { value: cors.unmatchedPreflights !== 'IGNORE' };
  if (cors.allowOrigins) out.allow_origin_string_match = cors.allowOrigins.map((m) => stringMatcher(m)).filter((m) => m !== undefined);
  else if (cors.allowOrigin) out.allow_origin_string_match = cors.allowOrigin.map((exact) => ({ exact }));
  out.filter_enabled = { default_value: { numerator: 100, denominator: 'HUNDRED' } };
  if (cors.allowCredentials !== undefined) out.allow_credentials = { value: cors.allowCredentials };
  if (cors.allowHeaders?.length) out.allow_headers = cors.allowHeaders.join(',');
  if (cors.allowMethods?.length) out.allow_methods = cors.allowMethods.join(',');
  if (cors.exposeHeaders?.length) out.expose_headers = cors.exposeHeaders.join(',');
  if (cors.maxAge !== undefined) {
    const ms = parseDuration(cors.maxAge);
    if (ms !== undefined) out.max_age = String(Math.floor(ms / 1000));
  }
  return out;
}

/** RuntimeFractionalPercent of the legacy `mirror` field, or undefined when mirroring is explicitly 0% (MirrorPercent). */
export function mirrorFraction(route: HTTPRoute): Obj | undefined {
  if (route.mirrorPercentage) return (route.mirrorPercentage.value ?? 0) > 0 ? { default_value: percentToFraction(route.mirrorPercentage) } : undefined;
  if (route.mirrorPercent !== undefined) return route.mirrorPercent > 0 ? { default_value: integerToFraction(route.mirrorPercent) } : undefined;
  return { default_value: integerToFraction(100) };
}

/** RuntimeFractionalPercent of one `mirrors` entry (MirrorPercentByPolicy). */
export function mirrorPolicyFraction(m: HTTPMirrorPolicy): Obj | undefined {
  if (m.percentage) return (m.percentage.value ?? 0) > 0 ? { default_value: percentToFraction(m.percentage) } : undefined;
  return { default_value: integerToFraction(100) };
}

export interface HeaderOps {
  request_headers_to_add?: Obj[];
  request_headers_to_remove?: string[];
  response_headers_to_add?: Obj[];
  response_headers_to_remove?: string[];
  /** An `:authority`/`host` set or add becomes a host rewrite instead of a header. */
  authority?: string;
}

const isInternal = (k: string): boolean => k.startsWith(':') || k.toLowerCase() === 'host';
const isAuthority = (k: string): boolean => k.toLowerCase() === ':authority' || k.toLowerCase() === 'host';

function appendHeaders(headers: Record<string, string> | undefined, append: boolean): { opts: Obj[]; authority: string } {
  let authority = '';
  const opts: Obj[] = [];
  for (const [key, value] of Object.entries(headers ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (isAuthority(key)) authority = value;
    if (isInternal(key)) continue;
    opts.push({ header: { key, value }, append_action: append ? 'APPEND_IF_EXISTS_OR_ADD' : 'OVERWRITE_IF_EXISTS_OR_ADD' });
  }
  return { opts, authority };
}

function ops(o: HeaderOperations | undefined): { add: Obj[]; remove: string[]; authority: string } {
  const set = appendHeaders(o?.set, false);
  const add = appendHeaders(o?.add, true);
  return { add: [...set.opts, ...add.opts], remove: (o?.remove ?? []).filter((k) => !isInternal(k)), authority: set.authority || add.authority };
}

/** headers → Envoy header mutations (set = OVERWRITE_IF_EXISTS_OR_ADD, add = APPEND_IF_EXISTS_OR_ADD, remove). */
export function translateHeaders(h: Headers | undefined): HeaderOps {
  if (!h) return {};
  const req = ops(h.request);
  const resp = ops(h.response);
  const out: HeaderOps = {};
  if (req.add.length) out.request_headers_to_add = req.add;
  if (req.remove.length) out.request_headers_to_remove = req.remove;
  if (resp.add.length) out.response_headers_to_add = resp.add;
  if (resp.remove.length) out.response_headers_to_remove = resp.remove;
  if (req.authority) out.authority = req.authority;
  return out;
}

/** Appends header mutations to a Route or ClusterWeight object. */
export function applyHeaderOps(target: Obj, o: HeaderOps): void {
  const push = (k: keyof HeaderOps): void => {
    const v = o[k];
    if (!Array.isArray(v) || v.length === 0) return;
    target[k] = [...((target[k] as unknown[] | undefined) ?? []), ...v];
  };
  push('request_headers_to_add');
  push('request_headers_to_remove');
  push('response_headers_to_add');
  push('response_headers_to_remove');
}

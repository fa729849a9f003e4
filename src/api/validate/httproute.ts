// Istio's rules for one VirtualService HTTP route: conflicts, matches, destinations and weights, redirect, rewrite,
// retries, fault, mirrors, CORS, header operations (pkg/config/validation/virtualservice.go, validation.go).
import { parseDuration } from '../duration.js';
import { joinPath, sub, type ErrorList } from '../errors.js';
import type { CorsPolicy, Destination, HTTPFaultInjection, HTTPRetry, HTTPRoute, HTTPRouteDestination, Headers, Percent, RouteDestination, StringMatch } from '../types/networking.js';
import { checkDurationAtLeast, checkPort, checkPercent, each, isIstioLabel, re2Error, wildcardDomainError } from './common.js';
import { checkGatewayNames, checkLabels, headerNameError, headerOperationNameError, headerSetNameError, headerValueError, isClaimRoute } from './rules.js';

/** Envoy's retry_on policies (x-envoy-retry-on and x-envoy-retry-grpc-on). */
const RETRY_ON = new Set([
  '5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'retriable-4xx', 'refused-stream', 'retriable-status-codes',
  'retriable-headers', 'envoy-ratelimited', 'http3-post-connect-failure', 'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
]);

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE']);

/** gRPC status names Istio accepts for abort.grpcStatus (and their numeric forms). */
export const GRPC_STATUS = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
] as const;

const MAX_REGEX = 1024;

export function checkRegexString(re: string, path: string, errs: ErrorList): void {
  if (re.length > MAX_REGEX) {
    errs.add(path, `regex is too large, max length allowed is ${MAX_REGEX}`);
    return;
  }
  const e = re2Error(re);
  if (e !== undefined) errs.add(path, `invalid regex ${JSON.stringify(re)}: ${e}; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)`);
}

/** A StringMatch (oneof already checked by the schema): regexes must be non-empty RE2. */
export function checkStringMatch(sm: StringMatch | undefined, path: string, errs: ErrorList, opts: { emptyOk?: boolean; noRegex?: string } = {}): void {
  if (!sm) return;
  if (sm.regex !== undefined) {
    if (opts.noRegex) errs.add(joinPath(path, 'regex'), `${opts.noRegex} match does not support regex match for delegating`);
    if (sm.regex === '') errs.add(joinPath(path, 'regex'), 'regex string match should not be empty');
    else checkRegexString(sm.regex, joinPath(path, 'regex'), errs);
  }
  if (!opts.emptyOk && sm.exact === undefined && sm.prefix === undefined && sm.regex === undefined) {
    errs.warn(path, 'empty match: set one of exact, prefix, regex');
  }
}

export function checkDestination(d: Destination | undefined, path: string, errs: ErrorList): void {
  if (!d) return;
  if (d.host !== undefined) {
    if (d.host === '*') errs.add(joinPath(path, 'host'), `invalid destination host ${d.host}`);
    else {
      const e = wildcardDomainError(d.host);
      if (e) errs.add(joinPath(path, 'host'), e);
    }
  }
  if (d.subset !== undefined) {
    if (d.subset === '') errs.add(joinPath(path, 'subset'), 'subset name cannot be empty');
    else if (!isIstioLabel(d.subset)) errs.add(joinPath(path, 'subset'), `subset name is invalid: ${d.subset}`);
  }
  if (d.port) checkPort(d.port.number ?? 0, sub(path, 'port.number'), errs);
}

export function checkHeaderOperations(h: Headers | undefined, path: string, errs: ErrorList): void {
  if (!h) return;
  const req = h.request;
  const resp = h.response;
  for (const [opName, ops, nameCheck] of [
    ['request', req, headerSetNameError],
    ['response', resp, headerOperationNameError],
  ] as const) {
    if (!ops) continue;
    const p = joinPath(path, opName);
    for (const kind of ['set', 'add'] as const) {
      for (const [name, value] of Object.entries(ops[kind] ?? {})) {
        const np = joinPath(joinPath(p, kind), name);
        const e = nameCheck(name);
        if (e) errs.add(np, e);
        const ve = headerValueError(value);
        if (ve) errs.add(np, ve);
      }
    }
    ops.remove?.forEach((name, i) => {
      const e = headerOperationNameError(name);
      if (e) errs.add(joinPath(joinPath(p, 'remove'), i), e);
    });
  }
}

/** Weights: each 0..100; with more than one destination they must sum to 100 (a single one is implicitly 100). */
export function checkWeights(routes: readonly (HTTPRouteDestination | RouteDestination)[] | undefined, path: string, errs: ErrorList): void {
  if (!routes || routes.length === 0) return;
  let total = 0;
  routes.forEach((r, i) => {
    const w = r.weight ?? 0;
    if (w < 0 || w > 100) errs.add(joinPath(joinPath(path, i), 'weight'), `weight ${w} must be in range 0..100`);
    total += w;
  });
  if (routes.length > 1) {
    // Istio takes weights as relative proportions (weight / sum); only a zero total is an error.
    if (total === 0) errs.add(path, 'total destination weight = 0: set a weight on each destination');
    else if (total !== 100) errs.warn(path, `weights sum to ${total}, not 100: traffic is split in proportion to them`);
  }
}

function percentageError(p: Percent | undefined): string | undefined {
  const v = p?.value;
  if (v === undefined) return undefined;
  if (v < 0 || v > 100 || (v > 0 && v < 0.0001)) return `percentage ${v} is neither 0.0, nor in range [0.0001, 100.0]`;
  return undefined;
}

function checkFault(f: HTTPFaultInjection | undefined, path: string, errs: ErrorList): void {
  if (!f) return;
  if (!f.abort && !f.delay) errs.add(path, 'HTTP fault injection must have an abort and/or a delay');
  if (f.abort) {
    const p = joinPath(path, 'abort');
    const pe = percentageError(f.abort.percentage);
    if (pe) errs.add(sub(p, 'percentage.value'), pe);
    const a = f.abort;
    if (a.grpcStatus !== undefined) {
      if (!(GRPC_STATUS as readonly string[]).includes(a.grpcStatus) && !/^(1[0-6]|[0-9])$/.test(a.grpcStatus)) {
        errs.add(joinPath(p, 'grpcStatus'), `gRPC status ${JSON.stringify(a.grpcStatus)} is not supported. See https://github.com/grpc/grpc/blob/master/doc/statuscodes.md for a list of supported codes, for example 'NOT_FOUND'`);
      }
    } else if (a.http2Error !== undefined) {
      errs.add(joinPath(p, 'http2Error'), 'HTTP/2 abort fault injection not supported yet');
    } else if (a.httpStatus !== undefined) {
      if (a.httpStatus < 200 || a.httpStatus > 599) errs.add(joinPath(p, 'httpStatus'), `HTTP status ${a.httpStatus} is not in range 200-599`);
    } else {
      errs.add(p, 'abort must set one of httpStatus, grpcStatus');
    }
  }
  if (f.delay) {
    const p = joinPath(path, 'delay');
    const pe = percentageError(f.delay.percentage);
    if (pe) errs.add(sub(p, 'percentage.value'), pe);
    checkPercent(f.delay.percent, joinPath(p, 'percent'), errs);
    if (f.delay.exponentialDelay !== undefined) errs.add(joinPath(p, 'exponentialDelay'), 'exponentialDelay not supported yet');
    else if (f.delay.fixedDelay === undefined) errs.add(p, 'delay must set fixedDelay');
    else checkDurationAtLeast(f.delay.fixedDelay, 1, joinPath(p, 'fixedDelay'), errs);
  }
}

function checkRetries(r: HTTPRetry | undefined, path: string, errs: ErrorList): void {
  if (!r) return;
  const attempts = r.attempts ?? 0;
  if (attempts < 0) errs.add(joinPath(path, 'attempts'), 'attempts cannot be negative');
  if (attempts === 0 && (r.perTryTimeout !== undefined || r.retryOn !== undefined || r.retryRemoteLocalities !== undefined)) {
    errs.add(path, 'http retry policy configured when attempts are set to 0 (disabled)');
  }
  checkDurationAtLeast(r.perTryTimeout, 1, joinPath(path, 'perTryTimeout'), errs);
  checkDurationAtLeast(r.backoff, 1, joinPath(path, 'backoff'), errs);
  if (r.retryOn !== undefined && r.retryOn !== '') {
    for (const policy of r.retryOn.split(',')) {
      const p = policy.trim();
      if (RETRY_ON.has(p)) continue;
      if (/^[1-5][0-9][0-9]$/.test(p)) continue;
      errs.add(joinPath(path, 'retryOn'), `${JSON.stringify(p)} is not a valid retryOn policy`);
    }
  }
}

function checkCors(c: CorsPolicy | undefined, path: string, errs: ErrorList): void {
  if (!c) return;
  each(c.allowOrigins, joinPath(path, 'allowOrigins'), (o, p) => {
    const m = o.exact ?? o.prefix ?? o.regex ?? '';
    if (m === '') errs.add(p, `'' is not a valid match type for CORS allow origins`);
    else checkStringMatch(o, p, errs);
  });
  each(c.allowMethods, joinPath(path, 'allowMethods'), (m, p) => {
    if (!HTTP_METHODS.has(m)) errs.add(p, `${JSON.stringify(m)} is not a supported HTTP method`);
  });
  for (const f of ['allowHeaders', 'exposeHeaders'] as const) {
    each(c[f], joinPath(path, f), (h, p) => {
      if (h === '*') return;
      const e = headerNameError(h);
      if (e) errs.add(p, e);
    });
  }
  if (c.maxAge !== undefined) {
    checkDurationAtLeast(c.maxAge, 1, joinPath(path, 'maxAge'), errs);
    const ms = parseDuration(c.maxAge) ?? 0;
    if (ms % 1000 !== 0) errs.add(joinPath(path, 'maxAge'), 'max_age duration is accurate only to seconds precision');
  }
}

/** `delegate` says whether the route belongs to a delegate VirtualService (one without hosts). */
export function checkHTTPRoute(r: HTTPRoute, path: string, errs: ErrorList, ctx: { delegateVS: boolean; boundToGateway: boolean }): void {
  const isRoot = r.delegate !== undefined && !ctx.delegateVS;
  if (isRoot) {
    const what = r.name ? `root HTTP route ${r.name}` : 'root HTTP route';
    if (r.redirect) errs.add(joinPath(path, 'redirect'), `${what} must not specify redirect`);
    if (r.route) errs.add(joinPath(path, 'route'), `${what} must not specify route`);
    if (r.directResponse) errs.add(joinPath(path, 'directResponse'), `${what} must not specify direct response`);
    if (r.delegate && !r.delegate.name) errs.add(sub(path, 'delegate.name'), 'delegate name is required');
    if (r.delegate?.namespace !== undefined && !isIstioLabel(r.delegate.namespace)) errs.add(sub(path, 'delegate.namespace'), `invalid delegate namespace ${JSON.stringify(r.delegate.namespace)}`);
  } else {
    if (ctx.delegateVS && r.delegate) errs.add(joinPath(path, 'delegate'), 'delegate HTTP route cannot contain delegate');
    const hasRoute = (r.route?.length ?? 0) > 0;
    if (r.redirect) {
      if (hasRoute) errs.add(path, 'HTTP route cannot contain both route and redirect');
      if (r.fault) errs.add(path, 'HTTP route cannot contain both fault and redirect');
      if (r.rewrite) errs.add(path, 'HTTP route rule cannot contain both rewrite and redirect');
      if (r.directResponse) errs.add(path, 'HTTP route cannot contain both redirect and direct response');
    } else if (r.directResponse) {
      if (hasRoute) errs.add(path, 'HTTP route cannot contain both route and direct response');
      if (r.fault) errs.add(path, 'HTTP route cannot contain both fault and direct response');
      if (r.rewrite) errs.add(path, 'HTTP route rule cannot contain both rewrite and direct response');
    } else if (!hasRoute) {
      errs.add(path, 'HTTP route, redirect, direct response or delegate is required');
    }
  }

  each(r.match, joinPath(path, 'match'), (m, p) => {
    const delegating = isRoot || ctx.delegateVS;
    for (const f of ['uri', 'scheme', 'method', 'authority'] as const) {
      checkStringMatch(m[f], joinPath(p, f), errs, delegating ? { noRegex: f === 'uri' ? 'url' : f } : {});
    }
    for (const f of ['headers', 'withoutHeaders', 'queryParams'] as const) {
      for (const [name, sm] of Object.entries(m[f] ?? {})) {
        const np = joinPath(joinPath(p, f), name);
        if (f !== 'queryParams') {
          const e = headerNameError(name, true);
          if (e) errs.add(np, e);
          if (isClaimRoute(name) && !ctx.boundToGateway) errs.add(np, `JWT claim based routing (key: ${name}) is only supported for gateway, found no gateways`);
        }
        const what = f === 'queryParams' ? `query param match ${name}` : f === 'headers' ? `header match ${name}` : `withoutHeaders match ${name}`;
        checkStringMatch(sm, np, errs, delegating ? { emptyOk: true, noRegex: what } : { emptyOk: true });
      }
    }
    if (m.port !== undefined) checkPort(m.port, joinPath(p, 'port'), errs);
    checkLabels(m.sourceLabels, joinPath(p, 'sourceLabels'), errs);
    checkGatewayNames(m.gateways, joinPath(p, 'gateways'), errs);
    if (m.sourceNamespace !== undefined && !isIstioLabel(m.sourceNamespace)) errs.add(joinPath(p, 'sourceNamespace'), `sourceNamespace match ${m.sourceNamespace} is invalid`);
  });

  checkHeaderOperations(r.headers, joinPath(path, 'headers'), errs);
  checkCors(r.corsPolicy, joinPath(path, 'corsPolicy'), errs);
  checkFault(r.fault, joinPath(path, 'fault'), errs);

  if (r.mirrorPercent !== undefined && r.mirrorPercent > 100) errs.add(joinPath(path, 'mirrorPercent'), `mirror_percent must have a max value of 100 (it has ${r.mirrorPercent})`);
  const mp = r.mirrorPercentage?.value;
  if (mp !== undefined && (mp < 0 || mp > 100)) errs.add(sub(path, 'mirrorPercentage.value'), `mirror_percentage must be in range 0..100 (it has ${mp})`);
  if (r.mirror && (r.mirrors?.length ?? 0) > 0) errs.add(path, 'only one of mirror or mirrors can be specified');
  checkDestination(r.mirror, joinPath(path, 'mirror'), errs);
  each(r.mirrors, joinPath(path, 'mirrors'), (m, p) => {
    checkDestination(m.destination, joinPath(p, 'destination'), errs);
    const v = m.percentage?.value;
    if (v !== undefined && (v < 0 || v > 100)) errs.add(sub(p, 'percentage.value'), `mirror percentage must be in range 0..100 (it has ${v})`);
  });

  if (r.redirect) {
    const d = r.redirect;
    const p = joinPath(path, 'redirect');
    if (d.uri === undefined && d.authority === undefined && d.port === undefined && d.derivePort === undefined && d.scheme === undefined) {
      errs.add(p, 'redirect must specify URI, authority, scheme, or port');
    }
    if (d.redirectCode !== undefined && d.redirectCode !== 0 && (d.redirectCode < 300 || d.redirectCode > 399)) errs.add(joinPath(p, 'redirectCode'), `${d.redirectCode} is not a valid redirect code, must be 3xx`);
    if (d.scheme !== undefined && d.scheme !== 'http' && d.scheme !== 'https') errs.add(joinPath(p, 'scheme'), 'invalid redirect scheme, must be "http" or "https"');
    if (d.port !== undefined) checkPort(d.port, joinPath(p, 'port'), errs);
  }

  if (r.directResponse) {
    const p = joinPath(path, 'directResponse');
    const s = r.directResponse.status;
    if (s !== undefined && (s < 200 || s > 599)) errs.add(joinPath(p, 'status'), `HTTP status ${s} is not in range 200-599`);
    const body = r.directResponse.body;
    const size = body?.string !== undefined ? Buffer.byteLength(body.string) : body?.bytes !== undefined ? Math.floor((body.bytes.length * 3) / 4) : 0;
    if (size > 1024 * 1024) errs.add(joinPath(p, 'body'), 'large direct_responses may impact control plane performance, must be less than 1MB');
    else if (size > 100 * 1024) errs.warn(joinPath(p, 'body'), 'large direct_responses may impact control plane performance');
  }

  if (r.rewrite) {
    const w = r.rewrite;
    const p = joinPath(path, 'rewrite');
    if (w.uri !== undefined && w.uriRegexRewrite !== undefined) errs.add(p, 'rewrite may only contain one of URI or UriRegexRewrite');
    if (w.uri === undefined && w.uriRegexRewrite === undefined && w.authority === undefined) {
      errs.add(p, 'rewrite must specify at least one of URI, UriRegexRewrite, or authority. Only one of URI or UriRegexRewrite may be specified');
    }
    const rr = w.uriRegexRewrite;
    if (rr) {
      const rp = joinPath(p, 'uriRegexRewrite');
      if (!rr.match || rr.rewrite === undefined || rr.rewrite === '') errs.add(rp, 'UriRegexRewrite requires both Rewrite and Match fields to be specified');
      if (rr.match) checkRegexString(rr.match, joinPath(rp, 'match'), errs);
    }
  }
  // Authority may be rewritten in only one place.
  let authority = r.rewrite?.authority ?? '';
  for (const kind of ['set', 'add'] as const) {
    for (const [k, v] of Object.entries(r.headers?.request?.[kind] ?? {})) {
      const lk = k.toLowerCase();
      if (lk !== ':authority' && lk !== 'host') continue;
      if (authority !== '') errs.add(joinPath(joinPath(sub(path, 'headers.request'), kind), k), `authority header cannot be set multiple times: have ${JSON.stringify(authority)}, attempting to set ${JSON.stringify(v)}`);
      authority = v;
    }
  }

  checkRetries(r.retries, joinPath(path, 'retries'), errs);
  checkDurationAtLeast(r.timeout, 1, joinPath(path, 'timeout'), errs, 'timeout');

  each(r.route, joinPath(path, 'route'), (d, p) => {
    checkDestination(d.destination, joinPath(p, 'destination'), errs);
    checkHeaderOperations(d.headers, joinPath(p, 'headers'), errs);
  });
  checkWeights(r.route, joinPath(path, 'route'), errs);
}

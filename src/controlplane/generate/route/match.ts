// VirtualService HTTPMatchRequest → envoy.config.route.v3.RouteMatch, as Istio translates it (route.TranslateRouteMatch).
// https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPMatchRequest
import type { HTTPMatchRequest, StringMatch } from '../../../api/types/networking.js';
import type { Obj } from './util.js';

/** StringMatch → envoy.type.matcher.v3.StringMatcher (util.ConvertToEnvoyMatch); undefined for an empty match. */
export function stringMatcher(m: StringMatch | undefined, ignoreCase = false): Obj | undefined {
  if (!m) return undefined;
  const ic = ignoreCase ? { ignore_case: true } : {};
  if (m.exact !== undefined) return { exact: m.exact, ...ic };
  if (m.prefix !== undefined) return { prefix: m.prefix, ...ic };
  if (m.regex !== undefined) return { safe_regex: { regex: m.regex } };
  return undefined;
}

/** Istio turns an empty match and the regex "*" (not RE2; a metacharacter) into present_match. */
function isPresentMatch(m: StringMatch | undefined): boolean {
  if (!m) return true;
  if (m.exact === undefined && m.prefix === undefined && m.regex === undefined) return true;
  return m.regex === '*';
}

export function headerMatcher(name: string, m: StringMatch | undefined): Obj {
  if (isPresentMatch(m)) return { name, present_match: true };
  return { name, string_match: stringMatcher(m) };
}

function queryParamMatcher(name: string, m: StringMatch | undefined): Obj {
  if (isPresentMatch(m)) return { name, present_match: true };
  return { name, string_match: stringMatcher(m) };
}

const CLAIM_PREFIX = '@request.auth.claims';

/**
 * `@request.auth.claims.a.b` or `@request.auth.claims[a][b]` → claim path, or undefined when the header is a plain header
 * (Istio's jwt.ToRoutingClaim).
 */
export function routingClaim(name: string): string[] | undefined {
  if (!name.startsWith(CLAIM_PREFIX)) return undefined;
  const rest = name.slice(CLAIM_PREFIX.length);
  if (rest.startsWith('.')) {
    const parts = rest.slice(1).split('.');
    return parts.every((p) => p !== '') ? parts : undefined;
  }
  if (rest.startsWith('[') && rest.endsWith(']')) {
    const parts = rest.slice(1, -1).split('][');
    return parts.every((p) => p !== '' && !p.includes('[') && !p.includes(']')) ? parts : undefined;
  }
  return undefined;
}

/** Dynamic metadata matcher on JWT claims set by the authn filter (authz.MetadataMatcherForJWTClaims). */
function claimMatcher(claims: string[], m: StringMatch | undefined): Obj {
  const value = stringMatcher(m) ?? { safe_regex: { regex: '.+' } };
  return {
    filter: 'istio_authn',
    path: [{ key: 'request.auth.claims' }, ...claims.map((key) => ({ key }))],
    value: { list_match: { one_of: { string_match: value } } },
  };
}

function sortedEntries<V>(rec: Record<string, V> | undefined): [string, V][] {
  return Object.entries(rec ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The RouteMatch of one HTTPMatchRequest; `undefined` match is the catch-all prefix "/". */
export function translateRouteMatch(match: HTTPMatchRequest | undefined): Obj {
  const out: Obj = { prefix: '/' };
  if (!match) return out;

  const headers: Obj[] = [];
  const dynamicMetadata: Obj[] = [];
  for (const [name, sm] of sortedEntries(match.headers)) {
    const claims = routingClaim(name);
    if (claims) dynamicMetadata.push(claimMatcher(claims, sm));
    else headers.push(headerMatcher(name, sm));
  }
  for (const [name, sm] of sortedEntries(match.withoutHeaders)) {
    const claims = routingClaim(name);
    if (claims) {
      dynamicMetadata.push({ ...claimMatcher(claims, sm), invert: true });
      continue;
    }
    const h = headerMatcher(name, sm);
    h.invert_match = true;
    // treat_missing_header_as_empty conflicts with present_match.
    if (!isPresentMatch(sm)) h.treat_missing_header_as_empty = true;
    headers.push(h);
  }
  headers.sort((a, b) => (String(a.name) < String(b.name) ? -1 : String(a.name) > String(b.name) ? 1 : 0));

  if (match.uri) {
    delete out.prefix;
    if (match.uri.exact !== undefined) out.path = match.uri.exact;
    else if (match.uri.prefix !== undefined) out.prefix = match.uri.prefix;
    else if (match.uri.regex !== undefined) out.safe_regex = { regex: match.uri.regex };
    else out.prefix = '/';
  }
  out.case_sensitive = { value: !match.ignoreUriCase };

  if (match.method) headers.push(headerMatcher(':method', match.method));
  if (match.authority) headers.push(headerMatcher(':authority', match.authority));
  if (match.scheme) headers.push(headerMatcher(':scheme', match.scheme));
  if (headers.length > 0) out.headers = headers;

  const qp = sortedEntries(match.queryParams).map(([name, sm]) => queryParamMatcher(name, sm));
  if (qp.length > 0) out.query_parameters = qp;
  if (dynamicMetadata.length > 0) out.dynamic_metadata = dynamicMetadata;
  return out;
}

/** A route that matches everything: prefix "/" (or regex ".*") with no header, query or metadata match (IsCatchAllRoute). */
export function isCatchAllRoute(route: Obj): boolean {
  const m = (route.match ?? {}) as Obj;
  const pathAll = m.prefix === '/' || m.path_separated_prefix === '/' || (m.safe_regex as Obj | undefined)?.regex === '.*';
  const none = (k: string): boolean => !Array.isArray(m[k]) || (m[k] as unknown[]).length === 0;
  return pathAll && none('headers') && none('query_parameters') && none('dynamic_metadata');
}

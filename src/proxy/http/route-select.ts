// Route selection: virtual host by authority, then the first route whose match (path, headers, query parameters,
// runtime fraction, gRPC, CONNECT) accepts the request; matchers come compiled from the runtime config (Envoy semantics:
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-routematch).
import { headerMatches, queryParamMatches } from '../runtime/match.js';
import type { Route, RouteMatch, RouteTable, VirtualHost, WeightedCluster } from '../runtime/types.js';
import { getHeaderJoined } from './headers.js';

/** What route matching reads from a request. */
export interface RouteInput {
  readonly method: string;
  /** :path including the query string. */
  readonly path: string;
  readonly authority: string;
  readonly scheme: string;
  /** Lower-case flat headers, without pseudo-headers. */
  readonly headers: readonly string[];
  /** :path without the query string. */
  pathOnly(): string;
  /** First value of a query parameter ('' when present without value), undefined when absent. */
  queryParam(name: string): string | undefined;
  readonly grpc: boolean;
}

export interface RouteSelection {
  vhost: VirtualHost;
  route: Route;
}

function headerValue(input: RouteInput, name: string): string | undefined {
  if (name.charCodeAt(0) === 58 /* ':' */) {
    switch (name) {
      case ':method':
        return input.method;
      case ':path':
        return input.path;
      case ':authority':
        return input.authority;
      case ':scheme':
        return input.scheme;
      default:
        return undefined;
    }
  }
  if (name === 'host') return input.authority;
  return getHeaderJoined(input.headers, name);
}

/** Does the request satisfy a route's match? CONNECT requests only match connect_matcher routes and vice versa. */
export function routeMatches(match: RouteMatch, input: RouteInput, random: () => number): boolean {
  if ((match.connect === true) !== (input.method === 'CONNECT')) return false;
  const p = match.path;
  if (p && !p.test(input.pathOnly())) return false;
  if (match.grpc && !input.grpc) return false;
  for (let i = 0; i < match.headers.length; i++) {
    const m = match.headers[i];
    if (!headerMatches(m, headerValue(input, m.name))) return false;
  }
  for (let i = 0; i < match.queryParams.length; i++) {
    const q = match.queryParams[i];
    if (!queryParamMatches(q, input.queryParam(q.name))) return false;
  }
  if (match.fraction !== undefined && !(random() < match.fraction)) return false;
  return true;
}

/**
 * Virtual host by authority, then the first matching route; undefined = no route (404 NR). In HTTP-proxy mode a
 * CONNECT without connect_matcher routes tunnels through the first route that would match a plain request.
 */
export function selectRoute(table: RouteTable, input: RouteInput, random: () => number, proxyMode = false): RouteSelection | undefined {
  const vhost = table.findVirtualHost(input.authority);
  if (!vhost) return undefined;
  const routes = vhost.routes;
  for (let i = 0; i < routes.length; i++) if (routeMatches(routes[i].match, input, random)) return { vhost, route: routes[i] };
  if (proxyMode && input.method === 'CONNECT') {
    for (let i = 0; i < routes.length; i++) {
      const m = routes[i].match;
      if (!m.connect && m.headers.length === 0 && m.queryParams.length === 0 && (!m.path || m.path.test('/'))) return { vhost, route: routes[i] };
    }
  }
  return undefined;
}

/** Weighted random choice among weighted clusters. */
export function pickWeighted(clusters: readonly WeightedCluster[], totalWeight: number, random: () => number): WeightedCluster | undefined {
  if (clusters.length === 1) return clusters[0];
  let total = totalWeight;
  if (!(total > 0)) total = clusters.reduce((s, c) => s + c.weight, 0);
  let r = random() * total;
  for (const c of clusters) {
    if (r < c.weight) return c;
    r -= c.weight;
  }
  for (let i = clusters.length - 1; i >= 0; i--) if (clusters[i].weight > 0) return clusters[i];
  return undefined;
}

/** Splits `host:port` / `[v6]:port` into its host part (no port). */
export function hostOf(authority: string): string {
  if (authority.startsWith('[')) {
    const e = authority.indexOf(']');
    return e > 0 ? authority.slice(0, e + 1) : authority;
  }
  const i = authority.lastIndexOf(':');
  return i >= 0 && authority.indexOf(':') === i ? authority.slice(0, i) : authority;
}

export function portOf(authority: string): number | undefined {
  const h = hostOf(authority);
  if (h.length === authority.length) return undefined;
  const p = Number(authority.slice(h.length + 1));
  return Number.isInteger(p) && p > 0 && p < 65536 ? p : undefined;
}

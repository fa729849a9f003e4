// VirtualService HTTP routes → Envoy routes for one listener port and set of gateway names, as Istio's
// BuildHTTPRoutesForVirtualService / translateRoute do (match, action, policies, per-filter config, metadata).
// https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPRoute
import type { Config } from '../../../api/config.js';
import type { Destination, HTTPMatchRequest, HTTPRedirect, HTTPRoute, HTTPRouteDestination, VirtualService } from '../../../api/types/networking.js';
import { clusterName, parseClusterName } from '../../../xds/types.js';
import type { Proxy, PushContext, Service } from '../../model/types.js';
import { expandHost, selectorMatches } from '../../registry/hosts.js';
import { hashPolicyFor } from '../cluster/lb.js';
import { isCatchAllRoute, translateRouteMatch } from './match.js';
import {
  applyHeaderOps, mirrorFraction, mirrorPolicyFraction, retryPolicy, translateCors, translateFault, translateHeaders,
} from './policies.js';
import type { Obj } from './util.js';
import { NAME, ZERO_DURATION, configMetadata, protoDuration } from './util.js';

export interface RouteContext {
  proxy: Proxy;
  push: PushContext;
  /** The port of the listener the routes serve (service port on sidecars, server port on gateways). */
  listenPort: number;
  /** 'mesh' for sidecars, `ns/name` of the Gateway for routers. */
  gatewayNames: ReadonlySet<string>;
  /** The service behind a destination host, used to pick the destination port when the VirtualService names none. */
  lookupService(host: string): Service | undefined;
  /** The listener terminates TLS (redirect scheme default https). */
  isTLS?: boolean;
}

/** Istio's GetDestinationCluster: `outbound|PORT|SUBSET|HOST`, port from the destination, a single-port service, or the listener. */
export function destinationCluster(dest: Destination, host: string, svc: Service | undefined, listenPort: number): string {
  let port = listenPort;
  if (dest.port?.number) port = dest.port.number;
  else if (svc && svc.ports.length === 1) port = svc.ports[0].port;
  return clusterName('outbound', port, dest.subset ?? '', host);
}

/** sourceMatchHTTP: gateways in the match, else sourceLabels ⊆ proxy labels and sourceNamespace. */
function sourceMatches(match: HTTPMatchRequest | undefined, ctx: RouteContext): boolean {
  if (!match) return true;
  if (match.gateways && match.gateways.length > 0) return match.gateways.some((g) => ctx.gatewayNames.has(g));
  if (!selectorMatches(match.sourceLabels, ctx.proxy.labels)) return false;
  return !match.sourceNamespace || match.sourceNamespace === ctx.proxy.namespace;
}

function redirectAction(r: HTTPRedirect, listenPort: number, isTLS: boolean): Obj | undefined {
  const out: Obj = {};
  if (r.authority) out.host_redirect = r.authority;
  if (r.uri) out.path_redirect = r.uri;
  if (r.scheme) out.scheme_redirect = r.scheme;
  if (r.port !== undefined || r.derivePort !== undefined) {
    let port = 0;
    if (r.port !== undefined) port = r.port;
    else if (r.derivePort === 'FROM_REQUEST_PORT') port = listenPort;
    const scheme = r.scheme || (isTLS ? 'https' : 'http');
    if ((port === 80 && scheme === 'http') || (port === 443 && scheme === 'https')) port = 0;
    if (port) out.port_redirect = port;
  }
  const codes: Record<number, string> = { 301: 'MOVED_PERMANENTLY', 302: 'FOUND', 303: 'SEE_OTHER', 307: 'TEMPORARY_REDIRECT', 308: 'PERMANENT_REDIRECT' };
  const code = codes[r.redirectCode ?? 301];
  if (!code) return undefined; // Istio: unsupported redirect code → route without action.
  out.response_code = code;
  return out;
}

function directResponse(route: HTTPRoute): Obj {
  const dr = route.directResponse!;
  const out: Obj = { status: dr.status };
  if (dr.body?.string !== undefined) out.body = { inline_string: dr.body.string };
  else if (dr.body?.bytes !== undefined) out.body = { inline_bytes: dr.body.bytes };
  return out;
}

/** Sets the route timeout the way Istio's setTimeout does (proxyless gRPC reads max_stream_duration instead). */
export function setTimeout(action: Obj, timeout: string | undefined, proxy: Proxy): void {
  const t = protoDuration(timeout) ?? ZERO_DURATION;
  action.timeout = t;
  if (proxy.isGrpc) action.max_stream_duration = { max_stream_duration: t };
  else action.max_grpc_timeout = t;
}

function routeAction(route: HTTPRoute, out: Obj, vs: Config<VirtualService>, ctx: RouteContext, authority: string | undefined): void {
  const action: Obj = {};
  const host = (d: Destination): string => expandHost(d.host, vs.meta.namespace, ctx.push.domainSuffix);
  const cluster = (d: Destination): string => {
    const h = host(d);
    return destinationCluster(d, h, ctx.lookupService(h), ctx.listenPort);
  };
  if (route.rewrite?.uriRegexRewrite) {
    action.regex_rewrite = { pattern: { regex: route.rewrite.uriRegexRewrite.match ?? '' }, substitution: route.rewrite.uriRegexRewrite.rewrite ?? '' };
  } else if (route.rewrite?.uri) {
    action.prefix_rewrite = route.rewrite.uri;
  }
  const hostRewrite = route.rewrite?.authority || authority;

  const mirrors: Obj[] = [];
  if (route.mirror) {
    const f = mirrorFraction(route);
    if (f) mirrors.push({ cluster: cluster(route.mirror), runtime_fraction: f, trace_sampled: { value: false } });
  }
  for (const m of route.mirrors ?? []) {
    const f = mirrorPolicyFraction(m);
    if (f && m.destination) mirrors.push({ cluster: cluster(m.destination), runtime_fraction: f, trace_sampled: { value: false } });
  }

  const dests = route.route ?? [];
  const hashPolicies: Obj[] = [];
  // The hash policy of the cluster the route targets, from the same merged DestinationRule policy as the cluster.
  const hashFor = (d: HTTPRouteDestination): Obj | undefined => {
    const h = host(d.destination);
    const port = parseClusterName(destinationCluster(d.destination, h, ctx.lookupService(h), ctx.listenPort))?.port ?? ctx.listenPort;
    return hashPolicyFor(ctx.push.destinationRule(ctx.proxy, h)?.spec, d.destination.subset, port);
  };
  let consistentHash = false;
  let destAuthority: string | undefined;
  if (dests.length === 1) {
    const d = dests[0];
    action.cluster = cluster(d.destination);
    const ops = translateHeaders(d.headers);
    applyHeaderOps(out, ops);
    destAuthority = ops.authority;
    const hp = hashFor(d);
    if (hp) hashPolicies.push(hp);
    consistentHash = hp !== undefined;
  } else {
    const clusters: Obj[] = [];
    for (const d of dests) {
      if (!d.weight) continue; // zero-weight destinations are dropped when there are others
      const cw: Obj = { name: cluster(d.destination), weight: { value: d.weight } };
      const ops = translateHeaders(d.headers);
      applyHeaderOps(cw, ops);
      if (ops.authority) cw.host_rewrite_literal = ops.authority;
      clusters.push(cw);
      const hp = hashFor(d);
      if (hp) hashPolicies.push(hp);
    }
    action.weighted_clusters = { clusters };
  }
  // Route-level authority wins; a single destination's authority applies only when the route sets none.
  if (hostRewrite) action.host_rewrite_literal = hostRewrite;
  else if (destAuthority) action.host_rewrite_literal = destAuthority;
  setTimeout(action, route.timeout, ctx.proxy);
  if (mirrors.length > 0) action.request_mirror_policies = mirrors;
  if (hashPolicies.length > 0) action.hash_policy = hashPolicies;
  const retry = retryPolicy(route.retries, consistentHash);
  if (retry) action.retry_policy = retry;
  out.route = action;
}

/** Decorator operation: `host:port/path` for a single subset-key cluster, else `vsName:port/path` (GetRouteOperation). */
function operation(out: Obj, vsName: string, port: number): string {
  const m = out.match as Obj;
  let path = '/*';
  if (typeof m.prefix === 'string') path = `${m.prefix}*`;
  else if (typeof m.path === 'string') path = m.path;
  else if (m.safe_regex) path = String((m.safe_regex as Obj).regex);
  const c = (out.route as Obj | undefined)?.cluster;
  const parsed = typeof c === 'string' ? parseClusterName(c) : undefined;
  return parsed ? `${parsed.host}:${parsed.port}${path}` : `${vsName}:${port}${path}`;
}

function translateRoute(route: HTTPRoute, match: HTTPMatchRequest | undefined, vs: Config<VirtualService>, ctx: RouteContext): Obj | undefined {
  if (match?.port && match.port !== ctx.listenPort) return undefined;
  if (!sourceMatches(match, ctx)) return undefined;
  const out: Obj = {};
  const name = match?.name ? `${route.name ?? ''}.${match.name}` : route.name;
  if (name) out.name = name;
  out.match = translateRouteMatch(match);
  out.metadata = configMetadata(vs);
  if (match?.statPrefix) out.stat_prefix = match.statPrefix;

  const ops = translateHeaders(route.headers);
  applyHeaderOps(out, ops);

  if (route.redirect) {
    const r = redirectAction(route.redirect, ctx.listenPort, ctx.isTLS ?? false);
    if (r) out.redirect = r;
  } else if (route.directResponse) {
    out.direct_response = directResponse(route);
  } else {
    routeAction(route, out, vs, ctx, ops.authority);
  }
  out.decorator = { operation: operation(out, vs.meta.name, ctx.listenPort) };

  const perFilter: Obj = {};
  const fault = translateFault(route.fault);
  if (fault) perFilter[NAME.Fault] = fault;
  const cors = translateCors(route.corsPolicy);
  if (cors) perFilter[NAME.Cors] = cors;
  if (Object.keys(perFilter).length > 0) out.typed_per_filter_config = perFilter;
  return out;
}

/**
 * All Envoy routes of a (delegate-resolved) VirtualService for `ctx`. Stops after a catch-all route, as Istio does,
 * since later routes could never match. Empty when no match applies to this proxy/port/gateway.
 */
export function buildHTTPRoutes(vs: Config<VirtualService>, ctx: RouteContext): Obj[] {
  const out: Obj[] = [];
  for (const route of vs.spec.http ?? []) {
    if (route.delegate) continue; // unresolved delegate: nothing to route to
    let catchAll = false;
    if (!route.match || route.match.length === 0) {
      const r = translateRoute(route, undefined, vs, ctx);
      if (r) out.push(r);
      catchAll = true;
    } else {
      for (const m of route.match) {
        const r = translateRoute(route, m, vs, ctx);
        if (!r) continue;
        out.push(r);
        if (isCatchAllRoute(r)) {
          catchAll = true;
          break;
        }
      }
    }
    if (catchAll) break;
  }
  return out;
}

/** The route of a service without a VirtualService: prefix "/" → `outbound|PORT||HOST` with the default retry policy. */
export function defaultRoute(cluster: string, operationName: string, hash: Obj | undefined, proxy: Proxy): Obj {
  const action: Obj = { cluster };
  setTimeout(action, undefined, proxy);
  const retry = retryPolicy(undefined, hash !== undefined);
  if (retry) action.retry_policy = retry;
  if (hash) action.hash_policy = [hash];
  return { name: 'default', match: { prefix: '/' }, decorator: { operation: operationName }, route: action };
}

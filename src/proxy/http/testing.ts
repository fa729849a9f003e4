// Test helpers for the HTTP layer: hand-built runtime objects (route tables, routes, matchers, HCM configs) and a
// small real UpstreamCluster/ClusterManager over undici pools, so the handler is tested without the decoders.
import type { ConfigSnapshot, HttpConnectionManagerConfig, HeaderMutations, RetryPolicy, Route, RouteAction, RouteMatch, RouteTable, StringMatcher, VirtualHost } from '../runtime/types.js';
import type { ConfigSource } from '../runtime/contracts.js';

export { TestCluster, TestClusterManager, type FlowCounters, type TestHost } from './testing-cluster.js';

/** A StringMatcher (JS RegExp for 'regex': test code only; the decoders compile RE2). */
export function matcher(kind: StringMatcher['kind'], value: string, ignoreCase = false): StringMatcher {
  const v = ignoreCase ? value.toLowerCase() : value;
  const re = kind === 'regex' ? new RegExp(`^(?:${value})$`, ignoreCase ? 'i' : '') : null;
  return {
    kind,
    value,
    ignoreCase,
    test(input: string): boolean {
      const s = ignoreCase ? input.toLowerCase() : input;
      switch (kind) {
        case 'exact':
          return s === v;
        case 'prefix':
          return s.startsWith(v);
        case 'suffix':
          return s.endsWith(v);
        case 'contains':
          return s.includes(v);
        case 'regex':
          return re!.test(input);
        default:
          return true;
      }
    },
  };
}

export function pathMatch(kind: NonNullable<RouteMatch['path']>['kind'], value: string, caseSensitive = true): NonNullable<RouteMatch['path']> {
  const re = kind === 'regex' ? new RegExp(`^(?:${value})$`, caseSensitive ? '' : 'i') : null;
  const v = caseSensitive ? value : value.toLowerCase();
  return {
    kind,
    value,
    test(path: string): boolean {
      const p = caseSensitive ? path : path.toLowerCase();
      switch (kind) {
        case 'exact':
          return p === v;
        case 'prefix':
          return p.startsWith(v);
        case 'path_separated_prefix':
          return p === v || p.startsWith(v.endsWith('/') ? v : v + '/');
        case 'regex':
          return re!.test(path);
      }
    },
  };
}

export function noMutations(m: Partial<HeaderMutations> = {}): HeaderMutations {
  return { requestAdd: [], requestRemove: [], responseAdd: [], responseRemove: [], ...m };
}

export function routeMatch(m: Partial<RouteMatch> = {}): RouteMatch {
  return { path: pathMatch('prefix', '/'), caseSensitive: true, headers: [], queryParams: [], grpc: false, ...m };
}

export function routeAction(a: Partial<RouteAction> = {}): RouteAction {
  return { type: 'route', timeoutMs: 0, idleTimeoutMs: 0, autoHostRewrite: false, mirrors: [], hashPolicies: [], upgradeTypes: [], ...a };
}

export function route(r: Partial<Route> & { action: Route['action'] }): Route {
  return { name: '', match: routeMatch(), headers: noMutations(), perFilter: {}, ...r };
}

export function vhost(v: Partial<VirtualHost> & { routes: Route[] }): VirtualHost {
  return { name: 'vh', domains: ['*'], requireTls: 'NONE', headers: noMutations(), perFilter: {}, includeAttemptCount: false, ...v };
}

export function retryPolicy(p: Omit<Partial<RetryPolicy>, 'retryOn'> & { retryOn: string[] }): RetryPolicy {
  const { retryOn, ...rest } = p;
  return {
    numRetries: 1,
    perTryTimeoutMs: 0,
    retriableStatusCodes: new Set(),
    backoffBaseMs: 1,
    backoffMaxMs: 5,
    previousHosts: false,
    hostSelectionRetryMaxAttempts: 1,
    ...rest,
    retryOn: new Set(retryOn),
  };
}

/** Domain lookup as Envoy does: exact, longest suffix wildcard, longest prefix wildcard, then '*'; port stripped on miss. */
export function routeTable(virtualHosts: VirtualHost[], t: Partial<Omit<RouteTable, 'findVirtualHost' | 'virtualHosts'>> = {}): RouteTable {
  const specific = (host: string): VirtualHost | undefined => {
    let best: VirtualHost | undefined;
    let bestScore = -1;
    for (const vh of virtualHosts) {
      for (const raw of vh.domains) {
        const d = raw.toLowerCase();
        let score = -1;
        if (d === host) score = 3_000_000;
        else if (d.length > 1 && d.startsWith('*') && host.endsWith(d.slice(1))) score = 2_000_000 + d.length;
        else if (d.length > 1 && d.endsWith('*') && host.startsWith(d.slice(0, -1))) score = 1_000_000 + d.length;
        if (score > bestScore) {
          bestScore = score;
          best = vh;
        }
      }
    }
    return best;
  };
  return {
    name: 'test-routes',
    virtualHosts,
    headers: noMutations(),
    ignorePortInHostMatching: false,
    validateClusters: false,
    ...t,
    findVirtualHost(authority: string): VirtualHost | undefined {
      const a = authority.toLowerCase();
      const i = a.lastIndexOf(':');
      const hostOnly = i > 0 && !a.endsWith(']') ? a.slice(0, i) : a;
      return specific(a) ?? (hostOnly !== a ? specific(hostOnly) : undefined) ?? virtualHosts.find((vh) => vh.domains.includes('*'));
    },
  };
}

/** A simple catch-all route table sending everything to one cluster. */
export function simpleRoutes(cluster: string, a: Partial<RouteAction> = {}, r: Partial<Route> = {}): RouteTable {
  return routeTable([vhost({ routes: [route({ name: 'default', ...r, action: routeAction({ cluster, ...a }) })] })]);
}

export function hcmConfig(c: Partial<HttpConnectionManagerConfig> = {}): HttpConnectionManagerConfig {
  return {
    type: 'http',
    statPrefix: 'test',
    httpFilters: [{ type: 'router', name: 'envoy.filters.http.router' }],
    codecType: 'AUTO',
    generateRequestId: true,
    useRemoteAddress: false,
    xffNumTrustedHops: 0,
    skipXffAppend: false,
    streamIdleTimeoutMs: 0,
    requestTimeoutMs: 0,
    requestHeadersTimeoutMs: 0,
    idleTimeoutMs: 0,
    maxRequestHeadersKb: 60,
    maxHeadersCount: 100,
    accessLog: [],
    upgradeTypes: [],
    normalizePath: false,
    mergeSlashes: false,
    httpProxyMode: false,
    ...c,
  };
}

/** A ConfigSource over a fixed (replaceable) snapshot. */
export class StaticConfigSource implements ConfigSource {
  private listeners = new Set<(s: ConfigSnapshot) => void>();
  constructor(private snapshot: ConfigSnapshot) {}
  static routes(tables: RouteTable[]): StaticConfigSource {
    return new StaticConfigSource({ listeners: new Map(), routes: new Map(tables.map((t) => [t.name, t])), clusters: new Map(), endpoints: new Map(), versions: new Map() });
  }
  current(): ConfigSnapshot {
    return this.snapshot;
  }
  set(s: ConfigSnapshot): void {
    this.snapshot = s;
    for (const l of this.listeners) l(s);
  }
  subscribe(fn: (s: ConfigSnapshot) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

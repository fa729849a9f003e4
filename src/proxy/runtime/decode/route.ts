// RouteConfiguration → RouteTable: virtual hosts with their routes, and the compiled domain index behind
// findVirtualHost (exact > longest suffix wildcard > longest prefix wildcard > '*', as Envoy's RouteMatcher).
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-virtualhost
import { TypeUrl } from '../../../xds/types.js';
import type { Decoded, Route, RouteTable, VirtualHost } from '../types.js';
import { headerMutations } from './headers.js';
import { decodeCorsPolicy, perFilterConfig } from './http-filters.js';
import { decodeRoute, retryPolicy } from './route-action.js';
import type { DecodeContext, Rec } from './util.js';
import { Problems, at, decodeView, defaultDecodeContext, enumStr, list, msg, str, strs, wrappedBool } from './util.js';

interface WildcardLevel {
  len: number;
  hosts: Map<string, VirtualHost>;
}

function addWildcard(levels: WildcardLevel[], key: string, vh: VirtualHost): void {
  let level = levels.find((l) => l.len === key.length);
  if (!level) {
    level = { len: key.length, hosts: new Map() };
    levels.push(level);
    levels.sort((a, b) => b.len - a.len);
  }
  level.hosts.set(key, vh);
}

/** Lower-cases ASCII only when needed (no allocation for the usual lower-case authority). */
function lowerHost(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return s.toLowerCase();
  }
  return s;
}

/** `host:port` → `host`, `[v6]:port` → `[v6]`; anything else unchanged. */
export function stripPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end > 0 && host.charCodeAt(end + 1) === 58 ? host.slice(0, end + 1) : host;
  }
  const colon = host.lastIndexOf(':');
  if (colon < 0 || host.indexOf(':') !== colon) return host;
  for (let i = colon + 1; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c < 48 || c > 57) return host;
  }
  return host.slice(0, colon);
}

class Table implements RouteTable {
  private readonly exact = new Map<string, VirtualHost>();
  private readonly suffixes: WildcardLevel[] = [];
  private readonly prefixes: WildcardLevel[] = [];
  private dflt: VirtualHost | undefined;

  constructor(
    readonly name: string,
    readonly virtualHosts: VirtualHost[],
    readonly headers: RouteTable['headers'],
    readonly ignorePortInHostMatching: boolean,
    readonly validateClusters: boolean,
  ) {}

  /** Indexes one domain; returns false when another virtual host already has it. */
  add(domain: string, vh: VirtualHost): boolean {
    const d = domain.toLowerCase();
    if (d === '*') {
      if (this.dflt) return false;
      this.dflt = vh;
    } else if (d.startsWith('*')) {
      const key = d.slice(1);
      if (this.suffixes.some((l) => l.hosts.has(key))) return false;
      addWildcard(this.suffixes, key, vh);
    } else if (d.endsWith('*')) {
      const key = d.slice(0, -1);
      if (this.prefixes.some((l) => l.hosts.has(key))) return false;
      addWildcard(this.prefixes, key, vh);
    } else {
      if (this.exact.has(d)) return false;
      this.exact.set(d, vh);
    }
    return true;
  }

  findVirtualHost(authority: string): VirtualHost | undefined {
    let host = lowerHost(authority);
    if (this.ignorePortInHostMatching) host = stripPort(host);
    const e = this.exact.get(host);
    if (e) return e;
    // A wildcard matches at least one character: only keys shorter than the host.
    for (const l of this.suffixes) {
      if (l.len >= host.length) continue;
      const vh = l.hosts.get(host.slice(host.length - l.len));
      if (vh) return vh;
    }
    for (const l of this.prefixes) {
      if (l.len >= host.length) continue;
      const vh = l.hosts.get(host.slice(0, l.len));
      if (vh) return vh;
    }
    return this.dflt;
  }
}

function virtualHost(v: Rec, path: string, p: Problems, ctx: DecodeContext): VirtualHost {
  const name = str(v, 'name') ?? '';
  if (!name) p.add(at(path, 'name'), 'virtual host name is required');
  const domains = strs(v, 'domains');
  if (domains.length === 0) p.add(at(path, 'domains'), 'at least one domain is required');
  const routes: Route[] = [];
  list(v, 'routes').forEach((r, i) => {
    const route = decodeRoute(r, `${at(path, 'routes')}[${i}]`, p, ctx);
    if (route) routes.push(route);
  });
  const requireTls = enumStr(v, 'require_tls', 'NONE');
  if (requireTls !== 'NONE' && requireTls !== 'EXTERNAL_ONLY' && requireTls !== 'ALL') p.add(at(path, 'require_tls'), `unknown value ${requireTls}`);
  if (msg(v, 'vhds') !== undefined) p.add(at(path, 'vhds'), 'on-demand virtual hosts are not supported');
  const out: VirtualHost = {
    name,
    domains,
    routes,
    requireTls: requireTls as VirtualHost['requireTls'],
    headers: headerMutations(v, path, p),
    perFilter: perFilterConfig(v, path, p),
    includeAttemptCount: v.include_request_attempt_count === true,
  };
  const rp = msg(v, 'retry_policy');
  if (rp) out.retry = retryPolicy(rp, at(path, 'retry_policy'), p);
  const cors = msg(v, 'cors');
  if (cors && !out.perFilter.cors) out.perFilter.cors = decodeCorsPolicy(cors, at(path, 'cors'), p);
  return out;
}

/** A RouteConfiguration object (from RDS, or inline in an HCM at `path`) → RouteTable. */
export function routeTableFromObject(o: Rec, path: string, p: Problems, ctx: DecodeContext): RouteTable {
  const vhosts: VirtualHost[] = [];
  list(o, 'virtual_hosts').forEach((v, i) => vhosts.push(virtualHost(v, `${at(path, 'virtual_hosts')}[${i}]`, p, ctx)));
  if (msg(o, 'vhds')) p.add(at(path, 'vhds'), 'on-demand virtual hosts (VHDS) are not supported');
  if (list(o, 'cluster_specifier_plugins').length > 0) p.add(at(path, 'cluster_specifier_plugins'), 'not supported by the proxy');
  const table = new Table(str(o, 'name') ?? '', vhosts, headerMutations(o, path, p), o.ignore_port_in_host_matching === true, wrappedBool(o, 'validate_clusters') ?? false);
  vhosts.forEach((vh, i) => {
    vh.domains.forEach((d, j) => {
      if (!table.add(d, vh)) p.add(`${at(path, 'virtual_hosts')}[${i}].domains[${j}]`, `duplicate domain "${d}" (only unique domains are permitted)`);
    });
  });
  return table;
}

/** RDS: RouteConfiguration bytes → RouteTable, or every problem as `route <name>: <path>: <reason>`. */
export function decodeRouteConfiguration(bytes: Uint8Array, ctx: DecodeContext = defaultDecodeContext): Decoded<RouteTable> {
  const view = decodeView(TypeUrl.RouteConfiguration, bytes);
  if ('error' in view) return { ok: false, errors: [`route: ${view.error}`] };
  const name = str(view.obj, 'name') ?? '';
  const p = new Problems(`route ${name || '(unnamed)'}`);
  if (!name) p.add('name', 'route configuration name is required');
  const table = routeTableFromObject(view.obj, '', p, ctx);
  return p.ok ? { ok: true, value: table } : { ok: false, errors: p.list };
}

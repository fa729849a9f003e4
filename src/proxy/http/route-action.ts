// The router filter's entry (Envoy's envoy.filters.http.router): no route → 404, require_tls, redirects and direct
// responses, cluster choice (static, weighted, cluster_header), upgrade and CONNECT checks, then the upstream Router.
import type { DirectResponseAction, RedirectAction } from '../runtime/types.js';
import type { Exchange } from './exchange.js';
import { getHeader } from './headers.js';
import { Replies } from './local-reply.js';
import { hostOf, portOf } from './route-select.js';
import { Router } from './router.js';
import { startTunnel } from './tunnel.js';

/** Entry point of the router filter for one request. */
export function routeRequest(ex: Exchange): void {
  const route = ex.route;
  const st = ex.hcm.stats;
  if (!route) {
    st.noRoute.inc();
    ex.sendLocalReply(Replies.noRoute);
    return;
  }
  const vh = ex.vhost;
  if (vh && vh.requireTls !== 'NONE' && !ex.conn.tls && (vh.requireTls === 'ALL' || getHeader(ex.headers, 'x-envoy-internal') !== 'true')) {
    sendRedirect(ex, { type: 'redirect', scheme: 'https', status: 301, stripQuery: false });
    return;
  }
  const a = route.action;
  if (a.type === 'redirect') {
    sendRedirect(ex, a);
    return;
  }
  if (a.type === 'direct_response') {
    sendDirect(ex, a);
    return;
  }
  const name = ex.weighted?.name ?? a.cluster ?? (a.clusterHeader ? getHeader(ex.headers, a.clusterHeader) : undefined);
  const cluster = name ? ex.hcm.clusters.get(name) : undefined;
  if (!cluster) {
    st.noCluster.inc();
    ex.upstreamCluster = name;
    ex.sendLocalReply(a.clusterHeader && !a.cluster && !a.weightedClusters ? Replies.noClusterFromHeader : Replies.noCluster);
    return;
  }
  ex.upstreamCluster = cluster.name;
  if (ex.isConnect) {
    if (ex.connectAllowed() || a.upgradeTypes.includes('connect')) startTunnel(ex, cluster);
    else {
      st.noRoute.inc();
      ex.sendLocalReply(Replies.noRoute);
    }
    return;
  }
  if (ex.upgrade && !a.upgradeTypes.includes(ex.upgrade) && !ex.hcm.config.upgradeTypes.includes(ex.upgrade)) {
    st.rqWsOnNonWsRoute.inc();
    ex.sendLocalReply(Replies.upgradeFailed);
    return;
  }
  const r = new Router(ex, a, cluster);
  ex.router = r;
  r.start();
}

function sendRedirect(ex: Exchange, a: RedirectAction): void {
  ex.hcm.stats.rqRedirect.inc();
  const scheme = a.scheme ?? ex.scheme;
  let host = a.host ?? hostOf(ex.authority);
  const origPort = portOf(ex.authority);
  if (a.port) host += `:${a.port}`;
  else if (origPort !== undefined && !(a.scheme && a.scheme !== ex.scheme && (origPort === 80 || origPort === 443))) host += `:${origPort}`;
  const q = ex.path.indexOf('?');
  const pathOnly = q >= 0 ? ex.path.slice(0, q) : ex.path;
  let query = q >= 0 && !a.stripQuery ? ex.path.slice(q) : '';
  let path = pathOnly;
  if (a.path !== undefined) {
    path = a.path;
    const pq = path.indexOf('?');
    if (pq >= 0) {
      query = path.slice(pq);
      path = path.slice(0, pq);
    }
  } else if (a.prefixRewrite !== undefined) {
    const m = ex.route?.match.path;
    path = m && (m.kind === 'prefix' || m.kind === 'path_separated_prefix') ? a.prefixRewrite + pathOnly.slice(m.value.length) : a.prefixRewrite;
  } else if (a.regexRewrite) path = a.regexRewrite.replace(pathOnly);
  ex.sendLocalReply({ status: a.status, body: '', details: 'direct_response' }, true, ['location', `${scheme}://${host}${path}${query}`]);
}

function sendDirect(ex: Exchange, a: DirectResponseAction): void {
  ex.hcm.stats.rqDirectResponse.inc();
  ex.sendLocalReply({ status: a.status, body: a.body ?? '', details: 'direct_response' }, true);
}

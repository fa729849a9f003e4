// Routing through the HTTP handler over real sockets: virtual hosts, matches, weighted clusters, redirects,
// direct responses, missing route/cluster, rewrites, header mutations, x-* headers, access log.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { get, startProxy, startUpstream, type Upstream } from './testing-harness.js';
import { TestClusterManager, hcmConfig, matcher, noMutations, pathMatch, route, routeAction, routeMatch, routeTable, simpleRoutes, vhost, StaticConfigSource } from './testing.js';

describe('http routing', () => {
  let a: Upstream;
  let b: Upstream;
  const clusters = new TestClusterManager();
  before(async () => {
    a = await startUpstream('a');
    b = await startUpstream('b');
    clusters.add('a', [{ address: '127.0.0.1', port: a.port }]);
    clusters.add('b', [{ address: '127.0.0.1', port: b.port }]);
  });
  after(async () => {
    await clusters.close();
    await a.close();
    await b.close();
  });

  test('forwards to the cluster of the matching route; headers and x-envoy-* set', async () => {
    const p = await startProxy(hcmConfig({ routeConfig: simpleRoutes('a') }), clusters);
    try {
      const r = await get(p.port, '/hello?x=1', { headers: { 'x-custom': 'v', connection: 'keep-alive', te: 'gzip' } });
      assert.equal(r.status, 200);
      const e = JSON.parse(r.body);
      assert.equal(e.server, 'a');
      assert.equal(e.url, '/hello?x=1');
      assert.equal(e.headers['x-custom'], 'v');
      assert.equal(e.headers.host, 'svc');
      assert.match(e.headers['x-request-id'], /^[0-9a-f-]{36}$/);
      assert.equal(e.headers['x-forwarded-proto'], 'http');
      assert.equal(e.headers.te, undefined);
      assert.equal(r.headers.server, 'envoy');
      assert.match(String(r.headers['x-envoy-upstream-service-time']), /^\d+$/);
      assert.equal(p.stats.get('http.test.downstream_rq_total'), 1);
      assert.equal(p.stats.get('cluster.a.upstream_rq_total'), 1);
      assert.equal(p.stats.get('cluster.a.upstream_rq_200'), 1);
    } finally {
      await p.close();
    }
  });

  test('virtual hosts by authority; route matches on path kinds, headers, query params; first match wins', async () => {
    const table = routeTable([
      vhost({
        name: 'reviews',
        domains: ['reviews', 'reviews:9080'],
        routes: [
          route({ name: 'exact', match: routeMatch({ path: pathMatch('exact', '/exact') }), action: routeAction({ cluster: 'b' }) }),
          route({ name: 'hdr', match: routeMatch({ headers: [{ name: 'end-user', matcher: matcher('exact', 'jason'), invert: false }] }), action: routeAction({ cluster: 'b' }) }),
          route({ name: 'absent', match: routeMatch({ headers: [{ name: 'x-absent', present: false, invert: false }], path: pathMatch('prefix', '/absent') }), action: routeAction({ cluster: 'b' }) }),
          route({ name: 'query', match: routeMatch({ queryParams: [{ name: 'v', matcher: matcher('exact', '2') }] }), action: routeAction({ cluster: 'b' }) }),
          route({ name: 'ci', match: routeMatch({ path: pathMatch('prefix', '/CI', false), caseSensitive: false }), action: routeAction({ cluster: 'b' }) }),
          route({ name: 'regex', match: routeMatch({ path: pathMatch('regex', '/re/[0-9]+') }), action: routeAction({ cluster: 'b' }) }),
          route({ name: 'method', match: routeMatch({ headers: [{ name: ':method', matcher: matcher('exact', 'DELETE'), invert: false }] }), action: routeAction({ cluster: 'b' }) }),
          route({ name: 'rest', action: routeAction({ cluster: 'a' }) }),
        ],
      }),
    ]);
    const p = await startProxy(hcmConfig({ rdsName: 'test-routes' }), clusters, { source: StaticConfigSource.routes([table]) });
    try {
      const server = async (path: string, opts: Parameters<typeof get>[2] = {}): Promise<string> => {
        const r = await get(p.port, path, { host: 'reviews:9080', ...opts });
        return r.status === 200 ? (JSON.parse(r.body) as { server: string }).server : String(r.status);
      };
      assert.equal(await server('/exact'), 'b');
      assert.equal(await server('/exact?q=1'), 'b', 'exact ignores the query');
      assert.equal(await server('/exact/more'), 'a');
      assert.equal(await server('/x', { headers: { 'end-user': 'jason' } }), 'b');
      assert.equal(await server('/x', { headers: { 'end-user': 'bob' } }), 'a');
      assert.equal(await server('/absent'), 'b');
      assert.equal(await server('/absent', { headers: { 'x-absent': '1' } }), 'a');
      assert.equal(await server('/q?a=1&v=2'), 'b');
      assert.equal(await server('/q?v=3'), 'a');
      assert.equal(await server('/ci/x'), 'b');
      assert.equal(await server('/cI/x'), 'b');
      assert.equal(await server('/re/123'), 'b');
      assert.equal(await server('/re/12a'), 'a');
      assert.equal(await server('/m', { method: 'DELETE' }), 'b');
      assert.equal(await server('/x', { host: 'other' }), '404', 'no virtual host → 404');
      await p.waitLogs(0);
      assert.equal(p.stats.get('http.test.no_route'), 1);
    } finally {
      await p.close();
    }
  });

  test('no route → 404 NR, missing cluster → 503 NC, cluster_header → 404 when missing; access log lines', async () => {
    const table = routeTable([
      vhost({
        routes: [
          route({ name: 'nc', match: routeMatch({ path: pathMatch('prefix', '/nc') }), action: routeAction({ cluster: 'missing' }) }),
          route({ name: 'ch', match: routeMatch({ path: pathMatch('prefix', '/ch') }), action: routeAction({ clusterHeader: 'x-cluster' }) }),
          route({ name: 'a', match: routeMatch({ path: pathMatch('prefix', '/a') }), action: routeAction({ cluster: 'a' }) }),
        ],
      }),
    ]);
    const p = await startProxy(hcmConfig({ routeConfig: table, accessLog: [{ path: '/tmp/isthmus-test.log' }] }), clusters);
    try {
      assert.equal((await get(p.port, '/zzz')).status, 404);
      assert.equal((await get(p.port, '/nc')).status, 503);
      assert.equal((await get(p.port, '/ch')).status, 404);
      const ok = await get(p.port, '/ch', { headers: { 'x-cluster': 'b' } });
      assert.equal(JSON.parse(ok.body).server, 'b');
      await get(p.port, '/a/p', { headers: { 'user-agent': 'ua-test', 'x-request-id': 'rid-1' } });
      const logs = await p.waitLogs(5);
      assert.match(logs[0], /^\[\d{4}-\d\d-\d\dT[^\]]+Z\] "GET \/zzz HTTP\/1\.1" 404 NR route_not_found - "-" 0 0 \d+ - "-" "-" "[0-9a-f-]{36}" "svc" "-" - - 127\.0\.0\.1:\d+ 127\.0\.0\.1:\d+ - -$/);
      assert.match(logs[1], /" 503 NC cluster_not_found .* missing /);
      assert.match(logs[4], /"GET \/a\/p HTTP\/1\.1" 200 - via_upstream - "-" 0 \d+ \d+ \d+ "-" "ua-test" "rid-1" "svc" "127\.0\.0\.1:\d+" a - 127\.0\.0\.1:\d+ 127\.0\.0\.1:\d+ - a$/);
    } finally {
      await p.close();
    }
  });

  test('weighted clusters split traffic by weight', async () => {
    let i = 0;
    const seq = [0.1, 0.5, 0.9, 0.2, 0.8];
    const table = simpleRoutes('unused', {
      cluster: undefined,
      weightedClusters: {
        totalWeight: 100,
        clusters: [
          { name: 'a', weight: 30, headers: noMutations({ requestAdd: [{ name: 'x-w', value: 'a', action: 'overwrite_or_add', dynamic: false }] }), perFilter: {} },
          { name: 'b', weight: 70, headers: noMutations(), perFilter: {} },
        ],
      },
    });
    const p = await startProxy(hcmConfig({ routeConfig: table }), clusters, { deps: { random: () => seq[i++ % seq.length] } });
    try {
      const got: string[] = [];
      for (let k = 0; k < 5; k++) {
        const e = JSON.parse((await get(p.port, '/')).body) as { server: string; headers: Record<string, string> };
        got.push(e.server + (e.headers['x-w'] ?? ''));
      }
      assert.deepEqual(got, ['aa', 'b', 'b', 'aa', 'b']);
    } finally {
      await p.close();
    }
  });

  test('redirects, direct responses and require TLS', async () => {
    const table = routeTable([
      vhost({
        domains: ['secure.example'],
        requireTls: 'ALL',
        routes: [route({ action: routeAction({ cluster: 'a' }) })],
      }),
      vhost({
        routes: [
          route({ match: routeMatch({ path: pathMatch('prefix', '/old') }), action: { type: 'redirect', prefixRewrite: '/new', status: 301, stripQuery: false } }),
          route({ match: routeMatch({ path: pathMatch('prefix', '/moved') }), action: { type: 'redirect', host: 'other.example', scheme: 'https', path: '/landing', status: 302, stripQuery: true } }),
          route({ match: routeMatch({ path: pathMatch('prefix', '/direct') }), action: { type: 'direct_response', status: 418, body: 'teapot' } }),
        ],
      }),
    ]);
    const p = await startProxy(hcmConfig({ routeConfig: table }), clusters);
    try {
      const r1 = await get(p.port, '/old/page?q=1', { host: 'svc:8080' });
      assert.equal(r1.status, 301);
      assert.equal(r1.headers.location, 'http://svc:8080/new/page?q=1');
      const r2 = await get(p.port, '/moved?q=1');
      assert.equal(r2.status, 302);
      assert.equal(r2.headers.location, 'https://other.example/landing');
      const r3 = await get(p.port, '/direct');
      assert.deepEqual([r3.status, r3.body, r3.headers['content-type']], [418, 'teapot', 'text/plain']);
      const r4 = await get(p.port, '/x?y', { host: 'secure.example' });
      assert.equal(r4.status, 301);
      assert.equal(r4.headers.location, 'https://secure.example/x?y');
      assert.equal(p.stats.get('http.test.rq_redirect'), 3);
      assert.equal(p.stats.get('http.test.rq_direct_response'), 1);
    } finally {
      await p.close();
    }
  });

  test('rewrites (prefix, regex, host) and header mutations in Envoy order', async () => {
    const add = (name: string, value: string, action: 'append' | 'overwrite_or_add' | 'add_if_absent' | 'overwrite_if_exists' = 'overwrite_or_add', dynamic = false) => ({ name, value, action, dynamic });
    const table = routeTable(
      [
        vhost({
          headers: noMutations({ requestAdd: [add('x-level', 'vhost'), add('x-vhost', 'yes')], responseAdd: [add('x-resp-vh', '1')] }),
          routes: [
            route({
              match: routeMatch({ path: pathMatch('prefix', '/api/') }),
              headers: noMutations({ requestAdd: [add('x-level', 'route'), add('x-client', '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%', 'overwrite_or_add', true), add('x-app', 'extra', 'append')], requestRemove: ['x-secret'], responseAdd: [add('x-resp', 'r')], responseRemove: ['x-upstream'] }),
              action: routeAction({ cluster: 'a', prefixRewrite: '/v2/', hostRewriteLiteral: 'rewritten.host' }),
            }),
            route({
              match: routeMatch({ path: pathMatch('regex', '/re/.*') }),
              action: routeAction({ cluster: 'a', regexRewrite: { pattern: matcher('regex', '^/re/(.*)$'), substitution: '/\\1', replace: (s: string) => s.replace(/^\/re\/(.*)$/, '/x/$1') } }),
            }),
          ],
        }),
      ],
      { headers: noMutations({ requestAdd: [add('x-level', 'table')] }) },
    );
    const p = await startProxy(hcmConfig({ routeConfig: table }), clusters);
    try {
      const r = await get(p.port, '/api/items?id=3', { headers: { 'x-secret': 's', 'x-app': 'orig' } });
      const e = JSON.parse(r.body) as { url: string; headers: Record<string, string> };
      assert.equal(e.url, '/v2/items?id=3');
      assert.equal(e.headers.host, 'rewritten.host');
      assert.equal(e.headers['x-envoy-original-path'], '/api/items?id=3', 'Envoy records the whole :path, query included');
      assert.equal(e.headers['x-secret'], undefined);
      assert.equal(e.headers['x-level'], 'table', 'least specific level applied last wins');
      assert.equal(e.headers['x-vhost'], 'yes');
      assert.equal(e.headers['x-client'], '127.0.0.1');
      assert.equal(e.headers['x-app'], 'orig, extra');
      assert.equal(r.headers['x-resp'], 'r');
      assert.equal(r.headers['x-resp-vh'], '1');
      assert.equal(r.headers['x-upstream'], undefined);
      const r2 = await get(p.port, '/re/a/b');
      assert.equal((JSON.parse(r2.body) as { url: string }).url, '/x/a/b');
    } finally {
      await p.close();
    }
  });

  test('runtime fraction gates a route; auto host rewrite asks the cluster for the host name', async () => {
    let r = 0.7;
    const table = routeTable([
      vhost({
        routes: [
          route({ name: 'canary', match: routeMatch({ fraction: 0.5 }), action: routeAction({ cluster: 'b', autoHostRewrite: true }) }),
          route({ name: 'rest', action: routeAction({ cluster: 'a' }) }),
        ],
      }),
    ]);
    const p = await startProxy(hcmConfig({ routeConfig: table }), clusters, { deps: { random: () => r } });
    try {
      assert.equal((JSON.parse((await get(p.port, '/')).body) as { server: string }).server, 'a');
      r = 0.2;
      const e = JSON.parse((await get(p.port, '/')).body) as { server: string; headers: Record<string, string> };
      assert.equal(e.server, 'b');
      assert.equal(e.headers.host, `127.0.0.1:${b.port}`);
    } finally {
      await p.close();
    }
  });

  test('x-forwarded-for appended with use_remote_address; absolute-form URIs route by their authority', async () => {
    const table = routeTable([
      vhost({ domains: ['reviews:9080'], routes: [route({ action: routeAction({ cluster: 'b' }) })] }),
      vhost({ domains: ['*'], routes: [route({ action: routeAction({ cluster: 'a' }) })] }),
    ]);
    const p = await startProxy(hcmConfig({ routeConfig: table, useRemoteAddress: true, httpProxyMode: true }), clusters);
    try {
      const r = await get(p.port, '/', { headers: { 'x-forwarded-for': '10.0.0.1' } });
      const e = JSON.parse(r.body) as { server: string; headers: Record<string, string> };
      assert.equal(e.headers['x-forwarded-for'], '10.0.0.1,127.0.0.1');
      const r2 = await get(p.port, 'http://reviews:9080/path?q=1');
      const e2 = JSON.parse(r2.body) as { server: string; url: string; headers: Record<string, string> };
      assert.equal(e2.server, 'b');
      assert.equal(e2.url, '/path?q=1');
      assert.equal(e2.headers.host, 'reviews:9080');
    } finally {
      await p.close();
    }
  });
});

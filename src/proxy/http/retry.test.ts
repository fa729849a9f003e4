// Router resilience over real sockets: retries (5xx, connect-failure, status codes, gRPC status, budgets),
// backoff, per-try and route timeouts, body replay, reset after response start, shadows, hash policies.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { get, startProxy, startUpstream, echo, type Upstream } from './testing-harness.js';
import { TestClusterManager, hcmConfig, pathMatch, retryPolicy, route, routeAction, routeMatch, routeTable, simpleRoutes, vhost, type TestCluster } from './testing.js';

async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('router retries and timeouts', () => {
  let up: Upstream;
  let shadow: Upstream;
  const counts = new Map<string, number>();
  const clusters = new TestClusterManager();
  let dead: number;
  before(async () => {
    up = await startUpstream('up', (req, res, body, u) => {
      const key = `${req.headers['x-test-id'] ?? ''}${req.url}`;
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      const path = (req.url ?? '').split('?')[0];
      const attempt = String(req.headers['x-envoy-attempt-count'] ?? '');
      switch (path) {
        case '/flaky': // 503 once, then OK
          if (n === 1) return void res.writeHead(503, { 'content-type': 'text/plain' }).end('busy');
          return echo(req, res, body, u);
        case '/always503':
          return void res.writeHead(503).end('nope');
        case '/teapot':
          if (n === 1) return void res.writeHead(418).end();
          return echo(req, res, body, u);
        case '/conflict':
          if (n === 1) return void res.writeHead(409).end();
          return echo(req, res, body, u);
        case '/grpc-unavailable':
          if (n === 1) return void res.writeHead(200, { 'content-type': 'application/grpc', 'grpc-status': '14' }).end();
          return echo(req, res, body, u);
        case '/slow':
          return void setTimeout(() => echo(req, res, body, u), 400);
        case '/hang-first':
          if (n === 1) return void setTimeout(() => echo(req, res, body, u), 1000);
          return echo(req, res, body, u);
        case '/reset-mid-body':
          res.writeHead(200, { 'content-length': '100' });
          res.write('partial');
          return void setTimeout(() => res.destroy(), 20);
        default:
          res.setHeader('x-attempt', attempt);
          return echo(req, res, body, u);
      }
    });
    shadow = await startUpstream('shadow');
    dead = await deadPort();
    clusters.add('up', [{ address: '127.0.0.1', port: up.port }]);
    clusters.add('shadow', [{ address: '127.0.0.1', port: shadow.port }]);
    clusters.add('dead', [{ address: '127.0.0.1', port: dead }]);
    clusters.add('half', [
      { address: '127.0.0.1', port: dead },
      { address: '127.0.0.1', port: up.port },
    ]);
    clusters.add('empty', []);
    clusters.add('two', [
      { address: '127.0.0.1', port: up.port },
      { address: '127.0.0.1', port: shadow.port },
    ]);
  });
  after(async () => {
    await clusters.close();
    await up.close();
    await shadow.close();
  });

  const id = (): Record<string, string> => ({ 'x-test-id': Math.random().toString(36).slice(2) });

  test('retries a 5xx and counts retry stats', async () => {
    const p = await startProxy(hcmConfig({ routeConfig: simpleRoutes('up', { retry: retryPolicy({ retryOn: ['5xx'], numRetries: 2 }) }), accessLog: [{ path: 'x' }] }), clusters);
    try {
      const r = await get(p.port, '/flaky', { headers: id() });
      assert.equal(r.status, 200);
      assert.equal(p.stats.get('cluster.up.upstream_rq_retry'), 1);
      assert.equal(p.stats.get('cluster.up.upstream_rq_retry_success'), 1);
      assert.equal(p.stats.get('cluster.up.upstream_rq_503'), 1);
      assert.equal(p.stats.get('cluster.up.upstream_rq_200'), 1);
      assert.equal(p.stats.get('cluster.up.upstream_rq_total'), 2);
      const r2 = await get(p.port, '/always503', { headers: id() });
      assert.equal(r2.status, 503);
      assert.equal(r2.body, 'nope');
      assert.equal(p.stats.get('cluster.up.upstream_rq_retry_limit_exceeded'), 1);
      const logs = await p.waitLogs(2);
      assert.match(logs[1], /" 503 URX via_upstream /);
    } finally {
      await p.close();
    }
  });

  test('retriable-status-codes, retriable-4xx and gRPC status retries; attempt count header', async () => {
    const table = routeTable([
      vhost({
        includeAttemptCount: true,
        routes: [route({ action: routeAction({ cluster: 'up', retry: retryPolicy({ retryOn: ['retriable-status-codes', 'retriable-4xx', 'unavailable'], retriableStatusCodes: new Set([418]), numRetries: 1 }) }) })],
      }),
    ]);
    const p = await startProxy(hcmConfig({ routeConfig: table }), clusters);
    try {
      for (const path of ['/teapot', '/conflict', '/grpc-unavailable']) {
        const r = await get(p.port, path, { headers: id() });
        assert.equal(r.status, 200, path);
        assert.equal((JSON.parse(r.body) as { headers: Record<string, string> }).headers['x-envoy-attempt-count'], '2', path);
      }
      const r = await get(p.port, '/plain', { headers: id() });
      assert.equal(r.headers['x-attempt'], '1');
      assert.equal(p.stats.get('cluster.up.upstream_rq_retry'), 3);
    } finally {
      await p.close();
    }
  });

  test('connect failure: 503 UF with Envoy body; connect-failure retry goes to another host (previous_hosts)', async () => {
    const p = await startProxy(
      hcmConfig({
        routeConfig: routeTable([
          vhost({
            routes: [
              route({ match: routeMatch({ path: pathMatch('prefix', '/dead') }), action: routeAction({ cluster: 'dead' }) }),
              route({ match: routeMatch({ path: pathMatch('prefix', '/empty') }), action: routeAction({ cluster: 'empty' }) }),
              route({ action: routeAction({ cluster: 'half', retry: retryPolicy({ retryOn: ['connect-failure'], numRetries: 1, previousHosts: true }) }) }),
            ],
          }),
        ]),
        accessLog: [{ path: 'x' }],
      }),
      clusters,
    );
    try {
      const r = await get(p.port, '/dead');
      assert.equal(r.status, 503);
      assert.equal(r.body, 'upstream connect error or disconnect/reset before headers. reset reason: connection failure');
      const e = await get(p.port, '/empty');
      assert.deepEqual([e.status, e.body], [503, 'no healthy upstream']);
      for (let i = 0; i < 4; i++) assert.equal((await get(p.port, '/ok')).status, 200);
      const logs = await p.waitLogs(6);
      assert.match(logs[0], /" 503 UF upstream_reset_before_response_started\{connection_failure\} /);
      assert.match(logs[1], /" 503 UH no_healthy_upstream /);
      const half = clusters.get('half') as TestCluster;
      const retried = half.requests.filter((q) => q.exclude && q.exclude.size > 0);
      assert.ok(retried.length >= 1, 'retries carry the previous host in exclude');
    } finally {
      await p.close();
    }
  });

  test('route timeout → 504 UT; per-try timeout retried', async () => {
    const table = routeTable([
      vhost({
        routes: [
          route({ match: routeMatch({ path: pathMatch('prefix', '/slow') }), action: routeAction({ cluster: 'up', timeoutMs: 100 }) }),
          route({ action: routeAction({ cluster: 'up', timeoutMs: 3000, retry: retryPolicy({ retryOn: ['5xx'], numRetries: 1, perTryTimeoutMs: 150 }) }) }),
        ],
      }),
    ]);
    const p = await startProxy(hcmConfig({ routeConfig: table, accessLog: [{ path: 'x' }] }), clusters);
    try {
      const t0 = Date.now();
      const r = await get(p.port, '/slow', { headers: id() });
      const took = Date.now() - t0;
      assert.deepEqual([r.status, r.body], [504, 'upstream request timeout']);
      assert.ok(took >= 90 && took < 390, `timed out after ${took} ms`);
      assert.equal(p.stats.get('cluster.up.upstream_rq_timeout'), 1);
      const r2 = await get(p.port, '/hang-first', { headers: id() });
      assert.equal(r2.status, 200);
      assert.equal(p.stats.get('cluster.up.upstream_rq_per_try_timeout'), 1);
      const e = JSON.parse(r2.body) as { headers: Record<string, string> };
      assert.equal(e.headers['x-envoy-expected-rq-timeout-ms'], '150');
      const logs = await p.waitLogs(1);
      assert.match(logs[0], /" 504 UT response_timeout /);
    } finally {
      await p.close();
    }
  });

  test('retry budget overflow: no retry, counted', async () => {
    const c = clusters.get('up') as TestCluster;
    c.maxRetries = 0;
    const p = await startProxy(hcmConfig({ routeConfig: simpleRoutes('up', { retry: retryPolicy({ retryOn: ['5xx'], numRetries: 3 }) }) }), clusters);
    try {
      const r = await get(p.port, '/flaky', { headers: id() });
      assert.equal(r.status, 503);
      assert.equal(p.stats.get('cluster.up.upstream_rq_retry_overflow'), 1);
      assert.equal(p.stats.get('cluster.up.upstream_rq_retry'), 0);
    } finally {
      c.maxRetries = Infinity;
      await p.close();
    }
    assert.equal(c.retriesOutstanding, 0);
  });

  test('circuit-breaker overflow: 503 UO with x-envoy-overloaded: true (Envoy marks dropped requests)', async () => {
    const c = clusters.get('up') as TestCluster;
    c.maxRequests = 0;
    const p = await startProxy(hcmConfig({ routeConfig: simpleRoutes('up') }), clusters);
    try {
      const r = await get(p.port, '/x', { headers: id() });
      assert.equal(r.status, 503);
      assert.equal(r.headers['x-envoy-overloaded'], 'true');
    } finally {
      c.maxRequests = Infinity;
      await p.close();
    }
    const ok = await startProxy(hcmConfig({ routeConfig: simpleRoutes('dead') }), clusters);
    try {
      const r = await get(ok.port, '/x', { headers: id() });
      assert.equal(r.status, 503);
      assert.equal(r.headers['x-envoy-overloaded'], undefined, 'only overflow, not connect failure');
    } finally {
      await ok.close();
    }
  });

  test('request bodies are buffered and replayed on retry', async () => {
    const p = await startProxy(hcmConfig({ routeConfig: simpleRoutes('up', { retry: retryPolicy({ retryOn: ['5xx'], numRetries: 1 }) }) }), clusters);
    try {
      const body = 'payload-'.repeat(1000);
      const r = await get(p.port, '/flaky', { method: 'POST', body, headers: id() });
      assert.equal(r.status, 200);
      assert.equal((JSON.parse(r.body) as { body: string }).body, body);
      const c = clusters.get('up') as TestCluster;
      assert.equal(c.retriesOutstanding, 0, 'retry budget released');
    } finally {
      await p.close();
    }
  });

  test('upstream reset after response headers resets the downstream (UC)', async () => {
    const p = await startProxy(hcmConfig({ routeConfig: simpleRoutes('up'), accessLog: [{ path: 'x' }] }), clusters);
    try {
      await assert.rejects(get(p.port, '/reset-mid-body'));
      const logs = await p.waitLogs(1);
      assert.match(logs[0], /" 200 UC via_upstream upstream_reset_after_response_started /);
    } finally {
      await p.close();
    }
  });

  test('mirroring: shadow gets the request with -shadow authority; response discarded; a dead shadow is harmless', async () => {
    const p = await startProxy(
      hcmConfig({
        routeConfig: simpleRoutes('up', {
          mirrors: [
            { cluster: 'shadow', fraction: 1 },
            { cluster: 'dead', fraction: 1 },
          ],
        }),
      }),
      clusters,
    );
    try {
      const before = shadow.seen.length;
      const r = await get(p.port, '/mirror', { method: 'POST', body: 'mirrored-body', host: 'reviews:9080' });
      assert.equal(r.status, 200);
      assert.equal((JSON.parse(r.body) as { server: string }).server, 'up');
      while (shadow.seen.length === before) await new Promise((res) => setTimeout(res, 5));
      const s = shadow.seen[shadow.seen.length - 1];
      assert.equal(s.headers.host, 'reviews-shadow:9080');
      assert.equal(s.body, 'mirrored-body');
    } finally {
      await p.close();
    }
  });

  test('hash policies: same header → same hash and host; cookie generated when absent', async () => {
    const table = simpleRoutes('two', {
      hashPolicies: [
        { kind: 'header', name: 'x-user', terminal: false },
        { kind: 'cookie', name: 'sticky', cookieTtlMs: 60_000, cookiePath: '/', terminal: false },
      ],
    });
    const p = await startProxy(hcmConfig({ routeConfig: table }), clusters);
    try {
      const two = clusters.get('two') as TestCluster;
      const n0 = two.requests.length;
      const servers: string[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await get(p.port, '/h', { headers: { 'x-user': 'jason', cookie: 'a=b; sticky="abc"' } });
        servers.push((JSON.parse(r.body) as { server: string }).server);
        assert.equal(r.headers['set-cookie'], undefined);
      }
      const hashes = two.requests.slice(n0).map((q) => q.hash);
      assert.equal(typeof hashes[0], 'number');
      assert.deepEqual(new Set(hashes).size, 1);
      assert.deepEqual(new Set(servers).size, 1);
      const rc = await get(p.port, '/c', { headers: { 'x-user': 'jason' } });
      assert.match(String(rc.headers['set-cookie']), /^sticky="[0-9a-f]{16}"; Max-Age=60; Path=\/; HttpOnly$/);
    } finally {
      await p.close();
    }
  });
});

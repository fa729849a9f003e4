// HTTP filters through the handler: fault injection (delay/abort, per-route override, percentages), CORS
// (preflight and actual requests), local rate limiting (token bucket, 429, x-ratelimit-* headers, stats).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CorsPolicy, LocalRateLimitConfig } from '../../runtime/types.js';
import { get, startProxy, startUpstream, type Upstream } from '../testing-harness.js';
import { TestClusterManager, hcmConfig, matcher, pathMatch, route, routeAction, routeMatch, routeTable, vhost } from '../testing.js';

const ROUTER = { type: 'router' as const, name: 'envoy.filters.http.router' };

describe('http filters', () => {
  let up: Upstream;
  const clusters = new TestClusterManager();
  before(async () => {
    up = await startUpstream('up');
    clusters.add('up', [{ address: '127.0.0.1', port: up.port }]);
  });
  after(async () => {
    await clusters.close();
    await up.close();
  });

  test('fault: per-route delay (DI) and abort (FI) with HTTP and gRPC status; 0% never fires', async () => {
    const table = routeTable([
      vhost({
        routes: [
          route({ match: routeMatch({ path: pathMatch('prefix', '/delay') }), perFilter: { fault: { delay: { fixedDelayMs: 200, percent: { fraction: 1 } } } }, action: routeAction({ cluster: 'up' }) }),
          route({ match: routeMatch({ path: pathMatch('prefix', '/abort') }), perFilter: { fault: { abort: { httpStatus: 418, percent: { fraction: 1 } } } }, action: routeAction({ cluster: 'up' }) }),
          route({ match: routeMatch({ path: pathMatch('prefix', '/grpc') }), perFilter: { fault: { abort: { grpcStatus: 14, percent: { fraction: 1 } } } }, action: routeAction({ cluster: 'up' }) }),
          route({ match: routeMatch({ path: pathMatch('prefix', '/never') }), perFilter: { fault: { abort: { httpStatus: 500, percent: { fraction: 0 } } } }, action: routeAction({ cluster: 'up' }) }),
          route({ action: routeAction({ cluster: 'up' }) }),
        ],
      }),
    ]);
    const p = await startProxy(hcmConfig({ routeConfig: table, httpFilters: [{ type: 'fault', name: 'envoy.filters.http.fault', config: undefined }, ROUTER], accessLog: [{ path: 'x' }] }), clusters);
    try {
      const t0 = Date.now();
      const d = await get(p.port, '/delay');
      const took = Date.now() - t0;
      assert.equal(d.status, 200);
      assert.ok(took >= 190, `delayed ${took} ms`);
      const a = await get(p.port, '/abort');
      assert.deepEqual([a.status, a.body], [418, 'fault filter abort']);
      const g = await get(p.port, '/grpc', { headers: { 'content-type': 'application/grpc' } });
      assert.equal(g.status, 200);
      assert.equal(g.headers['grpc-status'], '14');
      assert.equal(g.headers['grpc-message'], 'fault filter abort');
      assert.equal((await get(p.port, '/never')).status, 200);
      assert.equal(p.stats.get('http.test.fault.delays_injected'), 1);
      assert.equal(p.stats.get('http.test.fault.aborts_injected'), 2);
      const logs = await p.waitLogs(3);
      assert.match(logs[0], /" 200 DI via_upstream /);
      assert.match(logs[1], /" 418 FI fault_filter_abort /);
    } finally {
      await p.close();
    }
  });

  test('fault: filter-level config applies when the route has none; delay then abort', async () => {
    const table = routeTable([vhost({ routes: [route({ action: routeAction({ cluster: 'up' }) })] })]);
    const fault = { delay: { fixedDelayMs: 50, percent: { fraction: 1 } }, abort: { httpStatus: 503, percent: { fraction: 1 } } };
    const p = await startProxy(hcmConfig({ routeConfig: table, httpFilters: [{ type: 'fault', name: 'f', config: fault }, ROUTER], accessLog: [{ path: 'x' }] }), clusters);
    try {
      const r = await get(p.port, '/');
      assert.equal(r.status, 503);
      const logs = await p.waitLogs(1);
      assert.match(logs[0], /" 503 DI,FI fault_filter_abort /);
      assert.equal(p.stats.get('http.test.fault.active_faults'), 0);
    } finally {
      await p.close();
    }
  });

  test('cors: preflight answered locally; actual requests get allow-origin for allowed origins only', async () => {
    const cors: CorsPolicy = {
      allowOrigins: [matcher('exact', 'https://app.example'), matcher('suffix', '.trusted.example')],
      allowMethods: 'GET,POST',
      allowHeaders: 'x-custom',
      exposeHeaders: 'x-exposed',
      maxAge: '600',
      allowCredentials: true,
      enabled: true,
    };
    const table = routeTable([vhost({ routes: [route({ perFilter: { cors }, action: routeAction({ cluster: 'up' }) })] })]);
    const p = await startProxy(hcmConfig({ routeConfig: table, httpFilters: [{ type: 'cors', name: 'envoy.filters.http.cors' }, ROUTER] }), clusters);
    try {
      const before = up.seen.length;
      const pre = await get(p.port, '/x', { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
      assert.equal(pre.status, 200);
      assert.equal(pre.headers['access-control-allow-origin'], 'https://app.example');
      assert.equal(pre.headers['access-control-allow-methods'], 'GET,POST');
      assert.equal(pre.headers['access-control-allow-headers'], 'x-custom');
      assert.equal(pre.headers['access-control-max-age'], '600');
      assert.equal(pre.headers['access-control-allow-credentials'], 'true');
      assert.equal(up.seen.length, before, 'preflight not forwarded');
      const ok = await get(p.port, '/x', { headers: { origin: 'https://a.trusted.example' } });
      assert.equal(ok.headers['access-control-allow-origin'], 'https://a.trusted.example');
      assert.equal(ok.headers['access-control-expose-headers'], 'x-exposed');
      const bad = await get(p.port, '/x', { headers: { origin: 'https://evil.example' } });
      assert.equal(bad.status, 200);
      assert.equal(bad.headers['access-control-allow-origin'], undefined);
      assert.equal(p.stats.get('http.test.cors.origin_invalid'), 1);
    } finally {
      await p.close();
    }
  });

  test('local rate limit: token bucket per route override, 429 + RL + x-ratelimit headers, refill from the clock', async () => {
    let now = 1_000_000;
    const rl = (maxTokens: number, prefix: string): LocalRateLimitConfig => ({
      statPrefix: prefix,
      maxTokens,
      tokensPerFill: maxTokens,
      fillIntervalMs: 1000,
      enabled: 1,
      enforced: 1,
      responseHeadersToAdd: [{ name: 'x-local-rate-limit', value: 'true', action: 'overwrite_or_add', dynamic: false }],
      status: 429,
      xRateLimitHeaders: true,
    });
    const table = routeTable([
      vhost({
        routes: [
          route({ match: routeMatch({ path: pathMatch('prefix', '/tight') }), perFilter: { localRateLimit: rl(1, 'tight') }, action: routeAction({ cluster: 'up' }) }),
          route({ action: routeAction({ cluster: 'up' }) }),
        ],
      }),
    ]);
    const p = await startProxy(hcmConfig({ routeConfig: table, httpFilters: [{ type: 'local_ratelimit', name: 'envoy.filters.http.local_ratelimit', config: rl(3, 'listener') }, ROUTER], accessLog: [{ path: 'x' }] }), clusters, {
      deps: { now: () => now },
    });
    try {
      const t1 = await get(p.port, '/tight');
      assert.equal(t1.status, 200);
      assert.equal(t1.headers['x-ratelimit-limit'], '1');
      assert.equal(t1.headers['x-ratelimit-remaining'], '0');
      const t2 = await get(p.port, '/tight');
      assert.deepEqual([t2.status, t2.body], [429, 'local_rate_limited']);
      assert.equal(t2.headers['x-local-rate-limit'], 'true');
      assert.equal(t2.headers['x-ratelimit-reset'], '1');
      now += 1000;
      assert.equal((await get(p.port, '/tight')).status, 200, 'refilled after the fill interval');
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) codes.push((await get(p.port, '/other')).status);
      assert.deepEqual(codes, [200, 200, 200, 429]);
      assert.equal(p.stats.get('tight.http_local_rate_limit.rate_limited'), 1);
      assert.equal(p.stats.get('listener.http_local_rate_limit.rate_limited'), 1);
      const logs = await p.waitLogs(2);
      assert.match(logs[1], /" 429 RL local_rate_limited /);
    } finally {
      await p.close();
    }
  });
});

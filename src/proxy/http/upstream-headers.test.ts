// The router's x-envoy-* request headers through a real proxy: each hop replaces x-envoy-attempt-count,
// x-envoy-original-path and x-envoy-expected-rq-timeout-ms only when it sets them itself, as Envoy's router does.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HttpConnectionManagerConfig } from '../runtime/types.js';
import { get, startProxy, startUpstream, type Upstream } from './testing-harness.js';
import { TestClusterManager, hcmConfig, pathMatch, route, routeAction, routeMatch, routeTable, vhost } from './testing.js';

describe('x-envoy-* request headers at the router', () => {
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

  /** Headers the upstream saw for one request through a proxy with `cfg`. */
  async function seen(cfg: HttpConnectionManagerConfig, path: string, headers: Record<string, string>, host = 'svc'): Promise<Record<string, string | string[] | undefined>> {
    const p = await startProxy(cfg, clusters);
    try {
      const r = await get(p.port, path, { headers, host });
      assert.equal(r.status, 200, r.body);
      return (JSON.parse(r.body) as { headers: Record<string, string | string[] | undefined> }).headers;
    } finally {
      await p.close();
    }
  }

  const table = routeTable([
    vhost({ name: 'counts', domains: ['counts'], includeAttemptCount: true, routes: [route({ action: routeAction({ cluster: 'up' }) })] }),
    vhost({
      name: 'plain',
      domains: ['*'],
      routes: [
        route({ match: routeMatch({ path: pathMatch('prefix', '/old') }), action: routeAction({ cluster: 'up', prefixRewrite: '/new' }) }),
        route({ match: routeMatch({ path: pathMatch('prefix', '/timed') }), action: routeAction({ cluster: 'up', timeoutMs: 1500 }) }),
        route({ action: routeAction({ cluster: 'up' }) }),
      ],
    }),
  ]);
  // x-envoy-expected-rq-timeout-ms from a client only survives the connection manager when the client is internal.
  const trusting = hcmConfig({ routeConfig: table, internalAddressConfig: { unixSockets: false, cidrRanges: [] } });
  const internalClient = { 'x-forwarded-for': '10.0.0.1' };

  test('x-envoy-attempt-count: set (replacing the caller\'s) where include_request_attempt_count is on, passed on elsewhere', async () => {
    assert.equal((await seen(trusting, '/', { 'x-envoy-attempt-count': '3' }, 'counts'))['x-envoy-attempt-count'], '1');
    assert.equal((await seen(trusting, '/', {}, 'counts'))['x-envoy-attempt-count'], '1');
    assert.equal((await seen(trusting, '/', { 'x-envoy-attempt-count': '3' }))['x-envoy-attempt-count'], '3');
    assert.equal((await seen(trusting, '/', {}))['x-envoy-attempt-count'], undefined, 'never invented');
  });

  test('x-envoy-original-path: set on a rewrite, otherwise the caller\'s value travels on', async () => {
    const rewritten = await seen(trusting, '/old/x?q=1', { 'x-envoy-original-path': '/forged' });
    assert.equal(rewritten['x-envoy-original-path'], '/old/x?q=1');
    assert.equal((await seen(trusting, '/other', { 'x-envoy-original-path': '/kept' }))['x-envoy-original-path'], '/kept');
  });

  test('x-envoy-expected-rq-timeout-ms: the route timeout replaces it; without one an internal caller\'s value stays', async () => {
    assert.equal((await seen(trusting, '/timed', { ...internalClient, 'x-envoy-expected-rq-timeout-ms': '99' }))['x-envoy-expected-rq-timeout-ms'], '1500');
    assert.equal((await seen(trusting, '/other', { ...internalClient, 'x-envoy-expected-rq-timeout-ms': '99' }))['x-envoy-expected-rq-timeout-ms'], '99');
    assert.equal((await seen(trusting, '/other', { 'x-envoy-expected-rq-timeout-ms': '99' }))['x-envoy-expected-rq-timeout-ms'], undefined, 'external caller: dropped');
  });
});

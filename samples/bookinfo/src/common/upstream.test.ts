// Tests for targetsFromEnv and UpstreamClient: HTTP_PROXY with absolute-URI request lines, direct overrides, timeouts and failures.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fakeServer, forwardProxy, json } from './test-support.js';
import { targetsFromEnv } from './targets.js';
import { UpstreamClient } from './upstream.js';

test('targetsFromEnv: service names by default, <SVC>_URL overrides go direct, hostname/port/domain parts', () => {
  const t = targetsFromEnv(['details', 'reviews', 'ratings'], {
    REVIEWS_URL: 'http://127.0.0.1:4000/',
    RATINGS_HOSTNAME: 'ratings-alt',
    RATINGS_SERVICE_PORT: '9081',
    SERVICES_DOMAIN: 'default.svc.cluster.local',
  });
  assert.deepEqual(t, {
    details: { baseUrl: 'http://details.default.svc.cluster.local:9080', viaProxy: true },
    reviews: { baseUrl: 'http://127.0.0.1:4000', viaProxy: false },
    ratings: { baseUrl: 'http://ratings-alt.default.svc.cluster.local:9081', viaProxy: true },
  });
});

test('with a proxy, calls by service name go through it with the absolute URI on the request line', async (t) => {
  const reviews = await fakeServer((_r, res) => json(res, 200, { ok: true }));
  const proxy = await forwardProxy({ reviews: reviews.url });
  const client = new UpstreamClient({ proxy: proxy.url, targets: targetsFromEnv(['reviews'], {}) });
  t.after(async () => {
    await client.close();
    await proxy.close();
    await reviews.close();
  });
  const r = await client.getJson('reviews', '/reviews/0', { headers: { 'end-user': 'jason' }, timeoutMs: 2000 });
  assert.deepEqual(r, { ok: true, status: 200, body: { ok: true } });
  assert.equal(proxy.requests.length, 1);
  assert.equal(proxy.requests[0]?.target, 'http://reviews:9080/reviews/0');
  assert.equal(proxy.requests[0]?.headers.host, 'reviews:9080');
  assert.equal(proxy.requests[0]?.headers['end-user'], 'jason');
  assert.equal(reviews.requests[0]?.target, '/reviews/0');
});

test('a <SVC>_URL override bypasses the proxy', async (t) => {
  const details = await fakeServer((_r, res) => json(res, 200, { id: 0 }));
  const proxy = await forwardProxy({});
  const client = new UpstreamClient({ proxy: proxy.url, targets: targetsFromEnv(['details'], { DETAILS_URL: details.url }) });
  t.after(async () => {
    await client.close();
    await proxy.close();
    await details.close();
  });
  const r = await client.getJson('details', '/details/0', { timeoutMs: 2000 });
  assert.equal(r.ok, true);
  assert.equal(proxy.requests.length, 0);
  assert.equal(details.requests.length, 1);
});

test('failures are results, not exceptions: HTTP status, bad JSON, timeout, refused connection', async (t) => {
  let mode = 'status';
  const s = await fakeServer((_r, res) => {
    if (mode === 'status') json(res, 503, { error: 'x' });
    else if (mode === 'text') res.end('not json');
    // 'hang': never answer (closed by s.close())
  });
  const client = new UpstreamClient({ targets: { svc: { baseUrl: s.url, viaProxy: true }, gone: { baseUrl: 'http://127.0.0.1:1', viaProxy: false } } });
  t.after(async () => {
    await client.close();
    await s.close();
  });
  assert.deepEqual(await client.getJson('svc', '/', { timeoutMs: 2000 }), { ok: false, status: 503, error: 'svc answered 503' });
  mode = 'text';
  assert.deepEqual(await client.getJson('svc', '/', { timeoutMs: 2000 }), { ok: false, status: 200, error: 'svc answered with invalid JSON' });
  mode = 'hang';
  const started = Date.now();
  assert.deepEqual(await client.getJson('svc', '/', { timeoutMs: 200 }), { ok: false, error: 'svc did not answer within 200 ms' });
  assert.ok(Date.now() - started < 1500);
  const gone = await client.getJson('gone', '/', { timeoutMs: 2000 });
  assert.equal(gone.ok, false);
  assert.match(gone.ok ? '' : gone.error, /gone unreachable/);
  assert.deepEqual(await client.getJson('nope', '/', { timeoutMs: 10 }), { ok: false, error: 'unknown service "nope"' });
});

// Local rate limiting configured the way Istio users do it, through EnvoyFilters for Envoy's local_ratelimit filter:
// a listener-wide token bucket on the server sidecar (SIDECAR_INBOUND, INSERT_BEFORE the router) and a per-route bucket
// (typed_per_filter_config via HTTP_ROUTE MERGE) — 429 with x-ratelimit-* headers, flag RL, rate_limited counters.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { App } from '../support/apps.js';
import { countBy, sendMany } from '../support/http-client.js';
import { envoyFilter, localRateLimitConfig } from '../support/istio.js';
import type { Doc } from '../support/istio.js';
import { Mesh } from '../support/mesh.js';
import { parseAccessLog } from '../support/sidecar.js';
import type { Sidecar } from '../support/sidecar.js';

const RL = 'rl.test';
const ROUTED = 'routed.test';
let mesh: Mesh;
let client: Sidecar;
let server: Sidecar;
let app: App;
let other: App;

/** HTTP_FILTER INSERT_BEFORE envoy.filters.http.router in `context` with a local_ratelimit config. */
function rateLimitFilter(context: string, config: Doc): Doc {
  return {
    applyTo: 'HTTP_FILTER',
    match: { context, listener: { filterChain: { filter: { name: 'envoy.filters.network.http_connection_manager', subFilter: { name: 'envoy.filters.http.router' } } } } },
    patch: { operation: 'INSERT_BEFORE', value: { name: 'envoy.filters.http.local_ratelimit', typed_config: config } },
  };
}

function withXRateLimitHeaders(cfg: Doc): Doc {
  (cfg.value as Doc).enable_x_ratelimit_headers = 'DRAFT_VERSION_03';
  return cfg;
}

before(async () => {
  mesh = await Mesh.create();
  app = await mesh.app('rl-app');
  other = await mesh.app('other');
  mesh.write('svc.yaml', [
    // rl.test's workload is the server sidecar (inbound listener on <app ip>:<mesh port>), which forwards to the app.
    ...mesh.service({ name: 'rl', host: RL, workloads: [{ name: 'rl-1', address: app.ip, port: mesh.port }] }),
    ...mesh.serviceFor('routed', ROUTED, [other]),
  ]);
  await mesh.startDiscovery();
  server = await mesh.server({ name: 'rl-server', app });
  client = await mesh.client({ name: 'client' });
});

after(async () => {
  await mesh?.close();
});

test('server sidecar reachable through the client sidecar before any limit', async () => {
  const r = await client.request(RL, '/hello');
  assert.equal(r.status, 200, r.body);
  assert.equal(r.app, 'rl-app');
  // The request went through the server sidecar's inbound cluster.
  assert.match(await server.waitForLog(/\/hello/), / inbound\|\d+\|\| /);
});

test('listener-wide token bucket on SIDECAR_INBOUND: 3 pass, the rest get 429 + RL + x-ratelimit-* headers', async () => {
  const bucket = { max_tokens: 3, tokens_per_fill: 3, fill_interval: '60s' };
  await mesh.apply('rl-inbound.yaml', [
    envoyFilter({ name: 'rl-inbound', workloadLabels: { 'mesh-proxy': 'rl-server' }, configPatches: [rateLimitFilter('SIDECAR_INBOUND', withXRateLimitHeaders(localRateLimitConfig('http_local_rate_limiter', bucket)))] }),
  ]);
  const from = server.accessLines.length;
  const n = app.requests.length;
  const replies = await sendMany(client.egressAddress, 6, { host: RL, path: '/limited' }, 1);
  assert.deepEqual(replies.map((r) => r.status), [200, 200, 200, 429, 429, 429]);
  assert.equal(app.requests.length - n, 3);
  const limited = replies[3];
  assert.equal(limited.body, 'local_rate_limited');
  assert.equal(limited.headers['x-local-rate-limit'], 'true');
  assert.equal(limited.headers['x-ratelimit-limit'], '3');
  assert.equal(limited.headers['x-ratelimit-remaining'], '0');
  assert.ok(Number(limited.headers['x-ratelimit-reset']) > 0);
  assert.equal(replies[0].headers['x-ratelimit-remaining'], '2');
  const line = await server.waitForLog(/\/limited HTTP\/1.1" 429 /, from);
  assert.equal(parseAccessLog(line)?.flags, 'RL');
  assert.equal(await server.stat('http_local_rate_limiter.http_local_rate_limit.rate_limited'), 3);
  assert.equal(await server.stat('http_local_rate_limiter.http_local_rate_limit.ok'), 3);
  // Other services are not limited by the server's filter.
  assert.deepEqual([...countBy(await sendMany(client.egressAddress, 5, { host: ROUTED }, 1), (r) => r.status)], [['200', 5]]);
  await mesh.apply('rl-inbound.yaml', []);
  assert.equal((await client.request(RL, '/after-removal')).status, 200);
});

// Route patches reach the route configuration inlined in inbound listeners too (Istio patches both).
test('per-route bucket on SIDECAR_INBOUND (the Istio docs example: HTTP_ROUTE on vhost inbound|http|PORT)', async () => {
  await mesh.apply('rl-inbound-route.yaml', [
    envoyFilter({
      name: 'rl-inbound-route',
      workloadLabels: { 'mesh-proxy': 'rl-server' },
      configPatches: [
        rateLimitFilter('SIDECAR_INBOUND', localRateLimitConfig('http_local_rate_limiter')),
        {
          applyTo: 'HTTP_ROUTE',
          match: { context: 'SIDECAR_INBOUND', routeConfiguration: { vhost: { name: `inbound|http|${mesh.port}`, route: { action: 'ANY' } } } },
          patch: {
            operation: 'MERGE',
            value: { typed_per_filter_config: { 'envoy.filters.http.local_ratelimit': localRateLimitConfig('inbound_route_rl', { max_tokens: 1, tokens_per_fill: 1, fill_interval: '60s' }) } },
          },
        },
      ],
    }),
  ]);
  try {
    const replies = await sendMany(client.egressAddress, 3, { host: RL, path: '/inbound-route' }, 1);
    assert.deepEqual(replies.map((r) => r.status), [200, 429, 429]);
  } finally {
    await mesh.apply('rl-inbound-route.yaml', []);
  }
});

test('per-route bucket (typed_per_filter_config through HTTP_ROUTE MERGE) on the client sidecar', async () => {
  await mesh.apply('rl-route.yaml', [
    envoyFilter({
      name: 'rl-route',
      workloadLabels: { 'mesh-proxy': 'client' },
      configPatches: [
        // The filter itself without a bucket: it only acts where a route configures one.
        rateLimitFilter('SIDECAR_OUTBOUND', localRateLimitConfig('outbound_rl')),
        {
          applyTo: 'HTTP_ROUTE',
          match: { context: 'SIDECAR_OUTBOUND', routeConfiguration: { vhost: { name: `${ROUTED}:${mesh.port}`, route: { action: 'ANY' } } } },
          patch: {
            operation: 'MERGE',
            value: { typed_per_filter_config: { 'envoy.filters.http.local_ratelimit': localRateLimitConfig('routed_rl', { max_tokens: 2, tokens_per_fill: 2, fill_interval: '60s' }) } },
          },
        },
      ],
    }),
  ]);
  const from = client.accessLines.length;
  const routed = await sendMany(client.egressAddress, 4, { host: ROUTED, path: '/per-route' }, 1);
  assert.deepEqual(routed.map((r) => r.status), [200, 200, 429, 429]);
  assert.equal(routed[2].headers['x-local-rate-limit'], 'true');
  assert.equal(parseAccessLog(await client.waitForLog(/\/per-route HTTP\/1.1" 429 /, from))?.flags, 'RL');
  assert.equal(await client.stat('routed_rl.http_local_rate_limit.rate_limited'), 2);
  // The other service's routes carry no bucket.
  const free = await sendMany(client.egressAddress, 4, { host: RL, path: '/free' }, 1);
  assert.deepEqual(free.map((r) => r.status), [200, 200, 200, 200]);
  await mesh.apply('rl-route.yaml', []);
});

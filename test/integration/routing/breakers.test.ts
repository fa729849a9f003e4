// DestinationRule connection pools and outlier detection through a real sidecar: circuit-breaker overflow (503 UO,
// upstream_rq_pending_overflow), outlier ejection of a failing endpoint and its return after baseEjectionTime,
// maxRequestsPerConnection and keep-alive reuse of upstream connections.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { App } from '../support/apps.js';
import { countBy, sendMany } from '../support/http-client.js';
import { dest, destinationRule, virtualService } from '../support/istio.js';
import { Mesh } from '../support/mesh.js';
import { eventually } from '../support/net.js';
import { parseAccessLog } from '../support/sidecar.js';
import type { Sidecar } from '../support/sidecar.js';

const CB = 'cb.test';
const OD = 'od.test';
const ONE = 'one.test';
let mesh: Mesh;
let client: Sidecar;
let slow: App;
let pool: App[];
let one: App;

const clusterOf = (host: string): string => `outbound|${mesh.port}||${host}`;

before(async () => {
  mesh = await Mesh.create();
  slow = await mesh.app('slow');
  pool = [await mesh.app('p1'), await mesh.app('p2'), await mesh.app('p3')];
  one = await mesh.app('one');
  mesh.write('svc.yaml', [...mesh.serviceFor('cb', CB, [slow]), ...mesh.serviceFor('od', OD, pool), ...mesh.serviceFor('one', ONE, [one])]);
  mesh.write('dr.yaml', [
    destinationRule({ name: 'cb', host: CB, trafficPolicy: { connectionPool: { tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1 } } } }),
    destinationRule({
      name: 'od',
      host: OD,
      trafficPolicy: {
        loadBalancer: { simple: 'ROUND_ROBIN' },
        outlierDetection: { consecutive5xxErrors: 3, interval: '0.2s', baseEjectionTime: '1s', maxEjectionPercent: 100 },
      },
    }),
    // Retries would hide the failing endpoint's answers: turn them off for the outlier test.
    virtualService({ name: 'od', hosts: [OD], http: [{ route: [dest(OD)], retries: { attempts: 0 } }] }),
  ]);
  await mesh.startDiscovery();
  client = await mesh.client({ name: 'client' });
});

after(async () => {
  await mesh?.close();
});

test('circuit breaker: maxConnections 1 + http1MaxPendingRequests 1 → the third concurrent request overflows (503 UO)', async () => {
  const stat = `cluster.${clusterOf(CB)}.upstream_rq_pending_overflow`;
  // One client at a time never overflows.
  const sequential = await sendMany(client.egressAddress, 4, { host: CB, headers: { 'x-echo-delay-ms': '50' } }, 1);
  assert.deepEqual(sequential.map((r) => r.status), [200, 200, 200, 200]);
  assert.equal(await client.stat(stat), 0);

  const from = client.accessLines.length;
  const replies = await sendMany(client.egressAddress, 3, { host: CB, path: '/concurrent', headers: { 'x-echo-delay-ms': '400' } }, 3);
  const c = countBy(replies, (r) => r.status);
  assert.ok((c.get('503') ?? 0) >= 1 && (c.get('200') ?? 0) >= 1, JSON.stringify([...c]));
  const overflowed = replies.find((r) => r.status === 503);
  assert.equal(overflowed?.headers['x-envoy-overloaded'], 'true');
  assert.ok((await client.stat(stat)) > 0);
  const line = await client.waitForLog(/\/concurrent HTTP\/1.1" 503 /, from);
  assert.equal(parseAccessLog(line)?.flags, 'UO');
  assert.equal(slow.openConnections() <= 1, true, 'never more than one upstream connection');
});

test('outlier detection: an endpoint answering 503 is ejected after consecutive5xxErrors and returns after baseEjectionTime', async () => {
  const [bad, ...rest] = pool;
  bad.setHandler((_req, res) => {
    res.statusCode = 503;
    res.setHeader('x-app', bad.name);
    res.end('unhealthy');
    return true;
  });
  const active = `cluster.${clusterOf(OD)}.outlier_detection.ejections_active`;
  try {
    // Round robin over 3 hosts: the bad one answers every third request until its third consecutive 503.
    const replies = await sendMany(client.egressAddress, 15, { host: OD }, 1);
    const c = countBy(replies);
    assert.equal(c.get(bad.name), 3, JSON.stringify([...c]));
    assert.equal(replies.filter((r) => r.status === 503).length, 3);
    assert.equal(await client.stat(active), 1);
    assert.ok((await client.stat(`cluster.${clusterOf(OD)}.outlier_detection.ejections_enforced_consecutive_5xx`)) >= 1);
    const after = await sendMany(client.egressAddress, 10, { host: OD }, 1);
    assert.ok(after.every((r) => r.status === 200 && r.app !== bad.name));
    assert.equal(countBy(after).size, rest.length);
  } finally {
    bad.setHandler(undefined);
  }
  // Healthy again: after baseEjectionTime (1 s) the next interval returns it to the pool.
  bad.reset();
  await eventually(async () => (await client.stat(active)) === 0, { timeoutMs: 5_000, intervalMs: 100 });
  const back = await sendMany(client.egressAddress, 9, { host: OD }, 1);
  assert.equal(countBy(back).get(bad.name), 3);
});

test('upstream keep-alive: sequential requests reuse one connection; maxRequestsPerConnection 2 opens one per 2', async () => {
  let before = one.connections();
  await sendMany(client.egressAddress, 6, { host: ONE }, 1);
  assert.equal(one.connections() - before, 0 + (before === 0 ? 1 : 0), 'one pooled connection');

  await mesh.apply('dr-one.yaml', [destinationRule({ name: 'one', host: ONE, trafficPolicy: { connectionPool: { http: { maxRequestsPerConnection: 2 } } } })]);
  before = one.connections();
  const replies = await sendMany(client.egressAddress, 6, { host: ONE }, 1);
  assert.ok(replies.every((r) => r.status === 200));
  const conns = replies.map((r) => r.json<{ connection: number }>().connection);
  assert.equal(one.connections() - before, 3, `connections used: ${conns.join(',')}`);
  assert.equal(new Set(conns).size, 3);
});

test('http2MaxRequests 1 caps concurrent requests (also over HTTP/1.1): overflow is 503 UO', async () => {
  await mesh.apply('dr-cb.yaml', [destinationRule({ name: 'cb', host: CB, trafficPolicy: { connectionPool: { http: { http2MaxRequests: 1 } } } })]);
  const before = await client.stat(`cluster.${clusterOf(CB)}.upstream_rq_pending_overflow`);
  const replies = await sendMany(client.egressAddress, 3, { host: CB, headers: { 'x-echo-delay-ms': '300' } }, 3);
  const c = countBy(replies, (r) => r.status);
  assert.equal(c.get('200'), 1, JSON.stringify([...c]));
  assert.equal(c.get('503'), 2);
  assert.equal((await client.stat(`cluster.${clusterOf(CB)}.upstream_rq_pending_overflow`)) - before, 2);
});

test('connectionPool.http.idleTimeout closes idle upstream connections', async () => {
  await mesh.apply('dr-one.yaml', [destinationRule({ name: 'one', host: ONE, trafficPolicy: { connectionPool: { http: { idleTimeout: '0.3s' } } } })]);
  await eventually(() => one.openConnections() === 0, { timeoutMs: 3_000 }); // the previous cluster's pool drained
  const r = await client.request(ONE, '/');
  assert.equal(r.status, 200);
  assert.equal(one.openConnections(), 1);
  const t0 = Date.now();
  await eventually(() => one.openConnections() === 0, { timeoutMs: 3_000, intervalMs: 20 });
  assert.ok(Date.now() - t0 >= 200, `closed after ${Date.now() - t0} ms`);
});

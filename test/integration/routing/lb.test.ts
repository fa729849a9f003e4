// DestinationRule load balancing through a real sidecar: ROUND_ROBIN rotation, LEAST_REQUEST avoiding a slow host,
// RANDOM spread, consistent hashing (ring hash and maglev) on header / cookie / query parameter / source IP, and
// locality-aware routing with failover once the local endpoint is ejected.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { App } from '../support/apps.js';
import { countBy, keepAliveAgent, sendMany } from '../support/http-client.js';
import { destinationRule } from '../support/istio.js';
import type { Doc } from '../support/istio.js';
import { Mesh } from '../support/mesh.js';
import type { Sidecar } from '../support/sidecar.js';

const HOST = 'echo.test';
const LOC = 'local.test';
let mesh: Mesh;
let client: Sidecar;
let apps: App[];
let near: App;
let far: App;

async function lb(loadBalancer: Doc): Promise<void> {
  await mesh.apply('dr.yaml', [destinationRule({ name: 'echo', host: HOST, trafficPolicy: { loadBalancer } })]);
}

before(async () => {
  mesh = await Mesh.create();
  apps = [await mesh.app('a'), await mesh.app('b'), await mesh.app('c')];
  near = await mesh.app('near');
  far = await mesh.app('far');
  mesh.write('svc.yaml', [
    ...mesh.serviceFor('echo', HOST, apps),
    ...mesh.service({
      name: 'local',
      host: LOC,
      workloads: [
        { name: 'near', address: near.ip, port: near.port, locality: 'region1/zone1/sub1' },
        { name: 'far', address: far.ip, port: far.port, locality: 'region2/zone2/sub2' },
      ],
    }),
  ]);
  await mesh.startDiscovery();
  client = await mesh.client({ name: 'client', args: ['--locality', 'region1/zone1/sub1'] });
});

after(async () => {
  await mesh?.close();
});

test('ROUND_ROBIN: sequential requests rotate over the endpoints', async () => {
  await lb({ simple: 'ROUND_ROBIN' });
  const replies = await sendMany(client.egressAddress, 30, { host: HOST }, 1);
  assert.deepEqual([...countBy(replies)].sort(), [['a', 10], ['b', 10], ['c', 10]]);
  // Strict rotation: no endpoint twice in a row.
  for (let i = 1; i < replies.length; i++) assert.notEqual(replies[i].app, replies[i - 1].app);
});

test('LEAST_REQUEST: a slow endpoint gets far fewer of concurrent requests', async () => {
  await lb({ simple: 'LEAST_REQUEST' });
  apps[0].setHandler((_req, res) => {
    setTimeout(() => {
      res.setHeader('x-app', 'a');
      res.end('slow');
    }, 150);
    return true;
  });
  const agent = keepAliveAgent(8);
  try {
    const replies = await sendMany(client.egressAddress, 90, { host: HOST, agent }, 8);
    const c = countBy(replies);
    assert.ok((c.get('a') ?? 0) < 18, `slow host got ${c.get('a')} of 90: ${JSON.stringify([...c])}`);
    assert.ok((c.get('b') ?? 0) > 20 && (c.get('c') ?? 0) > 20, JSON.stringify([...c]));
  } finally {
    agent.destroy();
    apps[0].setHandler(undefined);
  }
});

test('RANDOM: every endpoint gets about a third', async () => {
  await lb({ simple: 'RANDOM' });
  const agent = keepAliveAgent(8);
  try {
    const replies = await sendMany(client.egressAddress, 300, { host: HOST, agent });
    for (const [app, n] of countBy(replies)) assert.ok(Math.abs(n - 100) <= 30, `${app}: ${n} of 300`); // σ ≈ 8
    assert.equal(countBy(replies).size, 3);
  } finally {
    agent.destroy();
  }
});

/** Serving app per key, asserting each key always lands on the same app; returns the distinct apps used. */
async function stickiness(keys: string[], opts: (key: string) => { path?: string; headers?: Record<string, string> }): Promise<Set<string>> {
  const used = new Set<string>();
  for (const k of keys) {
    const o = opts(k);
    const replies = await sendMany(client.egressAddress, 5, { host: HOST, ...o }, 1);
    const c = countBy(replies);
    assert.equal(c.size, 1, `key ${k} spread over ${JSON.stringify([...c])}`);
    used.add([...c.keys()][0]);
  }
  return used;
}

const users = Array.from({ length: 12 }, (_, i) => `user-${i}`);

test('consistentHash on a header (ring hash): sticky per value, spread across values', async () => {
  await lb({ consistentHash: { httpHeaderName: 'x-user' } });
  const used = await stickiness(users, (u) => ({ headers: { 'x-user': u } }));
  assert.ok(used.size >= 2, `12 users all on ${[...used]}`);
});

test('consistentHash maglev on a query parameter: sticky per value, spread across values', async () => {
  await lb({ consistentHash: { httpQueryParameterName: 'u', maglev: { tableSize: 65537 } } });
  const used = await stickiness(users, (u) => ({ path: `/q?u=${u}` }));
  assert.ok(used.size >= 2, `12 users all on ${[...used]}`);
});

test('consistentHash on a cookie: sticky per cookie; without one the proxy sets it', async () => {
  await lb({ consistentHash: { httpCookie: { name: 'session', path: '/', ttl: '60s' } } });
  const used = await stickiness(users, (u) => ({ headers: { cookie: `session=${u}` } }));
  assert.ok(used.size >= 2, `12 sessions all on ${[...used]}`);
  const first = await client.request(HOST, '/');
  const setCookie = first.headers['set-cookie']?.[0] ?? '';
  assert.match(setCookie, /^session=[^;]+; Max-Age=60; Path=\/; HttpOnly/);
  const cookie = setCookie.split(';')[0];
  const replies = await sendMany(client.egressAddress, 6, { host: HOST, headers: { cookie } }, 1);
  assert.deepEqual([...countBy(replies)], [[first.app, 6]]);
});

test('consistentHash on the source IP: one client, one endpoint', async () => {
  await lb({ consistentHash: { useSourceIp: true } });
  const replies = await sendMany(client.egressAddress, 10, { host: HOST }, 1);
  assert.equal(countBy(replies).size, 1);
});

test('locality: traffic stays in the client locality, fails over to region2 once the local endpoint is ejected', async () => {
  await mesh.apply('dr-local.yaml', [
    destinationRule({
      name: 'local',
      host: LOC,
      trafficPolicy: {
        loadBalancer: { simple: 'ROUND_ROBIN', localityLbSetting: { enabled: true, failover: [{ from: 'region1', to: 'region2' }] } },
        outlierDetection: { consecutive5xxErrors: 2, interval: '1s', baseEjectionTime: '30s', maxEjectionPercent: 100 },
      },
    }),
  ]);
  let replies = await sendMany(client.egressAddress, 10, { host: LOC }, 1);
  assert.deepEqual([...countBy(replies)], [['near', 10]]);
  near.setHandler((_req, res) => {
    res.statusCode = 503;
    res.end('down');
    return true;
  });
  try {
    near.reset();
    // Istio's default retry policy (503, another host) hides the failures; two of them eject the local endpoint.
    replies = await sendMany(client.egressAddress, 10, { host: LOC }, 1);
    assert.deepEqual([...countBy(replies)], [['far', 10]]);
    assert.equal(near.requests.length, 2);
    assert.equal(await client.stat(`cluster.outbound|${mesh.port}||${LOC}.outlier_detection.ejections_active`), 1);
  } finally {
    near.setHandler(undefined);
  }
});

// Weighted destinations across DestinationRule subsets (measured split) and request mirroring (shadow gets the
// request with its authority suffixed -shadow, its response is discarded and never delays the client).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { App } from '../support/apps.js';
import { countBy, keepAliveAgent, sendMany } from '../support/http-client.js';
import { dest, destinationRule, virtualService } from '../support/istio.js';
import { Mesh } from '../support/mesh.js';
import type { Sidecar } from '../support/sidecar.js';

const HOST = 'echo.test';
let mesh: Mesh;
let client: Sidecar;
let v1: App;
let v2: App;
let v3: App;

const subsets = (): ReturnType<typeof destinationRule> =>
  destinationRule({ name: 'echo', host: HOST, subsets: ['v1', 'v2', 'v3'].map((v) => ({ name: v, labels: { version: v } })) });

before(async () => {
  mesh = await Mesh.create();
  v1 = await mesh.app('v1');
  v2 = await mesh.app('v2');
  v3 = await mesh.app('v3');
  mesh.write('svc.yaml', [...mesh.serviceFor('echo', HOST, [v1, v2, v3]), subsets()]);
  await mesh.startDiscovery();
  client = await mesh.client({ name: 'client' });
});

after(async () => {
  await mesh?.close();
});

test('weighted destinations: 70/20/10 over subsets, measured over 500 requests', async () => {
  await mesh.apply('vs.yaml', [
    virtualService({
      name: 'echo',
      hosts: [HOST],
      http: [{ route: [dest(HOST, { subset: 'v1', weight: 70 }), dest(HOST, { subset: 'v2', weight: 20 }), dest(HOST, { subset: 'v3', weight: 10 })] }],
    }),
  ]);
  const agent = keepAliveAgent(8);
  try {
    const n = 500;
    const replies = await sendMany(client.egressAddress, n, { host: HOST, agent });
    assert.ok(replies.every((r) => r.status === 200));
    const c = countBy(replies);
    // Binomial standard deviations: v1 ≈ 10, v2 ≈ 9, v3 ≈ 7 requests; allow about 4 of them.
    const share = (app: string): number => (c.get(app) ?? 0) / n;
    assert.ok(Math.abs(share('v1') - 0.7) < 0.08, JSON.stringify([...c]));
    assert.ok(Math.abs(share('v2') - 0.2) < 0.07, JSON.stringify([...c]));
    assert.ok(Math.abs(share('v3') - 0.1) < 0.06, JSON.stringify([...c]));
  } finally {
    agent.destroy();
  }
});

test('a weight of 0 gets nothing, 100 gets everything', async () => {
  await mesh.apply('vs.yaml', [
    virtualService({ name: 'echo', hosts: [HOST], http: [{ route: [dest(HOST, { subset: 'v2', weight: 100 }), dest(HOST, { subset: 'v1', weight: 0 })] }] }),
  ]);
  const replies = await sendMany(client.egressAddress, 40, { host: HOST });
  assert.deepEqual([...countBy(replies)], [['v2', 40]]);
});

test('mirror: the shadow sees every request with host suffixed -shadow; its response is discarded and does not delay', async () => {
  await mesh.apply('vs.yaml', [
    virtualService({ name: 'echo', hosts: [HOST], http: [{ route: [dest(HOST, { subset: 'v1' })], mirror: { host: HOST, subset: 'v2' }, mirrorPercentage: { value: 100 } }] }),
  ]);
  v2.reset();
  // The shadow answers slowly with an error: the client must get v1's answer, quickly.
  v2.setHandler((_req, res) => {
    setTimeout(() => {
      res.statusCode = 500;
      res.setHeader('x-app', 'v2');
      res.end('shadow failure');
    }, 1_500);
  });
  try {
    const r = await client.request(HOST, '/mirrored?n=1', { method: 'POST', body: 'payload', headers: { 'content-type': 'text/plain' } });
    assert.equal(r.status, 200);
    assert.equal(r.app, 'v1');
    assert.ok(r.ms < 1_000, `client waited ${r.ms} ms for the shadow`);
    const shadow = await v2.waitForRequest((s) => s.url === '/mirrored?n=1');
    assert.equal(shadow.headers.host, `${HOST}-shadow`);
    assert.equal(shadow.method, 'POST');
    assert.equal(shadow.body, 'payload');
  } finally {
    v2.setHandler(undefined);
  }
});

test('mirrorPercentage 30: about 30% of requests are shadowed', async () => {
  await mesh.apply('vs.yaml', [
    virtualService({ name: 'echo', hosts: [HOST], http: [{ route: [dest(HOST, { subset: 'v1' })], mirror: { host: HOST, subset: 'v3' }, mirrorPercentage: { value: 30 } }] }),
  ]);
  v3.reset();
  const agent = keepAliveAgent(8);
  try {
    const n = 300;
    const replies = await sendMany(client.egressAddress, n, (i) => ({ host: HOST, path: `/p${i}`, agent }));
    assert.deepEqual([...countBy(replies)], [['v1', n]]);
    // Shadows are fire-and-forget: wait until the count stops being short of the lower bound.
    const lo = n * 0.3 - 45;
    const hi = n * 0.3 + 45;
    const deadline = Date.now() + 3_000;
    while (v3.requests.length < lo && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(v3.requests.length >= lo && v3.requests.length <= hi, `shadowed ${v3.requests.length} of ${n}`);
    assert.ok(v3.requests.every((s) => s.headers.host === `${HOST}-shadow`));
  } finally {
    agent.destroy();
  }
});

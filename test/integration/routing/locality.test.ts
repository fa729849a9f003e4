// Locality-aware load balancing and endpoint priorities through a real sidecar: localityLbSetting.distribute
// (measured split), failoverPriority on workload labels, consecutiveGatewayErrors ejection (502 counts, 500 does
// not), and a subset with no endpoints (503 UH).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { App } from '../support/apps.js';
import { countBy, keepAliveAgent, sendMany } from '../support/http-client.js';
import { dest, destinationRule, virtualService } from '../support/istio.js';
import { Mesh } from '../support/mesh.js';
import { parseAccessLog } from '../support/sidecar.js';
import type { Sidecar } from '../support/sidecar.js';

const HOST = 'zonal.test';
let mesh: Mesh;
let client: Sidecar;
let z1: App;
let z2: App;
let z3: App;

before(async () => {
  mesh = await Mesh.create();
  z1 = await mesh.app('z1');
  z2 = await mesh.app('z2');
  z3 = await mesh.app('z3');
  mesh.write('svc.yaml', [
    ...mesh.service({
      name: 'zonal',
      host: HOST,
      workloads: [
        { name: 'z1', address: z1.ip, port: z1.port, locality: 'region1/zone1/a', labels: { tier: 'gold', version: 'z1' } },
        { name: 'z2', address: z2.ip, port: z2.port, locality: 'region1/zone2/a', labels: { tier: 'silver', version: 'z2' } },
        { name: 'z3', address: z3.ip, port: z3.port, locality: 'region2/zone3/a', labels: { tier: 'gold', version: 'z3' } },
      ],
    }),
  ]);
  // Retries would hide failing endpoints.
  mesh.write('vs.yaml', [virtualService({ name: 'zonal', hosts: [HOST], http: [{ route: [dest(HOST)], retries: { attempts: 0 } }] })]);
  await mesh.startDiscovery();
  client = await mesh.client({ name: 'client', labels: { tier: 'silver' }, args: ['--locality', 'region1/zone1/a'] });
});

after(async () => {
  await mesh?.close();
});

test('localityLbSetting.distribute: 80% stays in zone1, 20% goes to region2', async () => {
  await mesh.apply('dr.yaml', [
    destinationRule({
      name: 'zonal',
      host: HOST,
      trafficPolicy: {
        loadBalancer: { simple: 'ROUND_ROBIN', localityLbSetting: { enabled: true, distribute: [{ from: 'region1/zone1/*', to: { 'region1/zone1/*': 80, 'region2/zone3/*': 20 } }] } },
      },
    }),
  ]);
  const agent = keepAliveAgent(8);
  try {
    const replies = await sendMany(client.egressAddress, 300, { host: HOST, agent });
    const c = countBy(replies);
    assert.equal(c.get('z2'), undefined, JSON.stringify([...c]));
    assert.ok(Math.abs((c.get('z1') ?? 0) - 240) <= 30, JSON.stringify([...c])); // σ ≈ 7
    assert.ok(Math.abs((c.get('z3') ?? 0) - 60) <= 30, JSON.stringify([...c]));
  } finally {
    agent.destroy();
  }
});

test('failoverPriority on a label: endpoints sharing the client tier first, the rest only after ejection', async () => {
  await mesh.apply('dr.yaml', [
    destinationRule({
      name: 'zonal',
      host: HOST,
      trafficPolicy: {
        loadBalancer: { simple: 'ROUND_ROBIN', localityLbSetting: { enabled: true, failoverPriority: ['tier'] } },
        outlierDetection: { consecutive5xxErrors: 1, interval: '10s', baseEjectionTime: '60s', maxEjectionPercent: 100 },
      },
    }),
  ]);
  // The client is tier=silver: only z2 is in the first priority.
  let replies = await sendMany(client.egressAddress, 6, { host: HOST }, 1);
  assert.deepEqual([...countBy(replies)], [['z2', 6]]);
  z2.setHandler((_req, res) => {
    res.statusCode = 503;
    res.end('down');
    return true;
  });
  try {
    assert.equal((await client.request(HOST, '/')).status, 503);
    replies = await sendMany(client.egressAddress, 6, { host: HOST }, 1);
    const c = countBy(replies);
    assert.equal(c.get('z2'), undefined, JSON.stringify([...c]));
    assert.equal((c.get('z1') ?? 0) + (c.get('z3') ?? 0), 6);
  } finally {
    z2.setHandler(undefined);
  }
});

test('outlier detection turns on locality priorities; consecutiveGatewayErrors ejects on 502s, 500s do not count', async () => {
  // consecutive5xxErrors 0 disables Envoy's default 5-in-a-row 5xx ejection, leaving only the gateway-error rule.
  await mesh.apply('dr.yaml', [
    destinationRule({
      name: 'zonal',
      host: HOST,
      trafficPolicy: { outlierDetection: { consecutive5xxErrors: 0, consecutiveGatewayErrors: 2, interval: '10s', baseEjectionTime: '60s', maxEjectionPercent: 100 } },
    }),
  ]);
  const active = `cluster.outbound|${mesh.port}||${HOST}.outlier_detection.ejections_active`;
  assert.equal(await client.stat(active), 0, await client.adminGet('/clusters'));
  // Istio's default locality LB (on once outlier detection is set): the client's own zone first.
  let replies = await sendMany(client.egressAddress, 4, { host: HOST }, 1);
  assert.deepEqual([...countBy(replies)], [['z1', 4]]);
  const status = { code: 500 };
  z1.setHandler((_req, res) => {
    res.statusCode = status.code;
    res.setHeader('x-app', 'z1');
    res.end('error');
    return true;
  });
  try {
    replies = await sendMany(client.egressAddress, 8, { host: HOST }, 1);
    assert.deepEqual([...countBy(replies)], [['z1', 8]], '500s are not gateway errors');
    assert.equal(await client.stat(active), 0);
    status.code = 502;
    replies = await sendMany(client.egressAddress, 8, { host: HOST }, 1);
    // Two 502s eject z1; the next priority is the same region's other zone.
    assert.deepEqual(replies.map((r) => r.app), ['z1', 'z1', 'z2', 'z2', 'z2', 'z2', 'z2', 'z2']);
    assert.equal(await client.stat(active), 1);
  } finally {
    z1.setHandler(undefined);
  }
});

test('a subset that selects no endpoint: 503 no healthy upstream, flag UH', async () => {
  await mesh.apply('dr.yaml', [destinationRule({ name: 'zonal', host: HOST, subsets: [{ name: 'none', labels: { version: 'nope' } }] })]);
  await mesh.apply('vs.yaml', [virtualService({ name: 'zonal', hosts: [HOST], http: [{ route: [dest(HOST, { subset: 'none' })] }] })]);
  const from = client.accessLines.length;
  const r = await client.request(HOST, '/none');
  assert.equal(r.status, 503);
  assert.equal(r.body, 'no healthy upstream');
  assert.equal(parseAccessLog(await client.waitForLog(/\/none/, from))?.flags, 'UH');
});

// Less common VirtualService / DestinationRule shapes through real sidecars: sourceLabels (per-client routes),
// per-destination header mutations, subset-level trafficPolicy overriding the top level, retryOn reset /
// retriable-4xx, maxRetries / http2MaxRequests breakers, a refused endpoint ejected by outlier detection, fault delay
// percentage.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { App, AppHandler } from '../support/apps.js';
import { countBy, keepAliveAgent, sendMany } from '../support/http-client.js';
import { dest, destinationRule, virtualService } from '../support/istio.js';
import type { Doc } from '../support/istio.js';
import { Mesh } from '../support/mesh.js';
import { freePort } from '../support/net.js';
import type { Sidecar } from '../support/sidecar.js';

const HOST = 'echo.test';
const DEAD = 'dead.test';
let mesh: Mesh;
let client: Sidecar;
let canary: Sidecar;
let v1: App;
let v2: App;
let alive: App;
let deadIp: string;
let deadPort: number;

const subsets = (extra: Doc = {}): Doc =>
  destinationRule({ name: 'echo', host: HOST, ...extra, subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] });

/** Fails the first attempt of each request (by x-request-id) with `first`, then echoes. */
function firstAttempt(first: (res: Parameters<AppHandler>[1]) => void): AppHandler {
  const seen = new Set<string>();
  return (req, res) => {
    const id = String(req.headers['x-request-id']);
    if (seen.has(id)) return false;
    seen.add(id);
    first(res);
    return true;
  };
}

before(async () => {
  mesh = await Mesh.create();
  v1 = await mesh.app('v1');
  v2 = await mesh.app('v2');
  alive = await mesh.app('alive');
  deadIp = mesh.nextIp();
  deadPort = await freePort([deadIp]);
  mesh.write('svc.yaml', [
    ...mesh.serviceFor('echo', HOST, [v1, v2]),
    subsets(),
    ...mesh.service({ name: 'dead', host: DEAD, workloads: [{ name: 'alive', address: alive.ip, port: alive.port }, { name: 'dead', address: deadIp, port: deadPort }] }),
  ]);
  await mesh.startDiscovery();
  client = await mesh.client({ name: 'client', labels: { role: 'stable' } });
  canary = await mesh.client({ name: 'canary', labels: { role: 'canary' } });
});

after(async () => {
  await mesh?.close();
});

test('sourceLabels: the same host routes differently for two client workloads', async () => {
  await mesh.apply('vs.yaml', [
    virtualService({
      name: 'echo',
      hosts: [HOST],
      http: [
        { match: [{ sourceLabels: { role: 'canary' } }], route: [dest(HOST, { subset: 'v2' })] },
        { route: [dest(HOST, { subset: 'v1' })] },
      ],
    }),
  ]);
  assert.deepEqual([...countBy(await sendMany(client.egressAddress, 5, { host: HOST }, 1))], [['v1', 5]]);
  assert.deepEqual([...countBy(await sendMany(canary.egressAddress, 5, { host: HOST }, 1))], [['v2', 5]]);
});

test('per-destination headers in a weighted route', async () => {
  await mesh.apply('vs.yaml', [
    virtualService({
      name: 'echo',
      hosts: [HOST],
      http: [
        {
          route: [
            { ...dest(HOST, { subset: 'v1', weight: 50 }), headers: { request: { set: { 'x-dest': 'one' } }, response: { set: { 'x-picked': 'v1' } } } },
            { ...dest(HOST, { subset: 'v2', weight: 50 }), headers: { request: { set: { 'x-dest': 'two' } }, response: { set: { 'x-picked': 'v2' } } } },
          ],
        },
      ],
    }),
  ]);
  const replies = await sendMany(client.egressAddress, 30, { host: HOST }, 1);
  assert.equal(countBy(replies).size, 2);
  for (const r of replies) {
    assert.equal(r.headers['x-picked'], r.app);
    assert.equal(r.json<{ headers: Record<string, string> }>().headers['x-dest'], r.app === 'v1' ? 'one' : 'two');
  }
});

test('subset-level trafficPolicy overrides the top-level one (consistent hash only for v2)', async () => {
  const v3 = await mesh.app('v3');
  await mesh.apply('svc.yaml', [
    ...mesh.serviceFor('echo', HOST, [v1, v2, v3]),
    destinationRule({
      name: 'echo',
      host: HOST,
      trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } },
      subsets: [
        { name: 'v1', labels: { version: 'v1' } },
        { name: 'all', labels: { app: 'echo' } },
        { name: 'hashed', labels: { app: 'echo' }, trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: 'x-user' } } } },
      ],
    }),
    ...mesh.service({ name: 'dead', host: DEAD, workloads: [{ name: 'alive', address: alive.ip, port: alive.port }, { name: 'dead', address: deadIp, port: deadPort }] }),
  ]);
  await mesh.apply('vs.yaml', [
    virtualService({
      name: 'echo',
      hosts: [HOST],
      http: [{ match: [{ headers: { 'x-user': {} } }], route: [dest(HOST, { subset: 'hashed' })] }, { route: [dest(HOST, { subset: 'all' })] }],
    }),
  ]);
  const rr = await sendMany(client.egressAddress, 9, { host: HOST }, 1);
  assert.deepEqual([...countBy(rr)].sort(), [['v1', 3], ['v2', 3], ['v3', 3]]);
  const hashed = await sendMany(client.egressAddress, 9, { host: HOST, headers: { 'x-user': 'alice' } }, 1);
  assert.equal(countBy(hashed).size, 1);
});

test('retryOn reset retries an attempt whose connection died; retriable-4xx retries 409', async () => {
  await mesh.apply('vs.yaml', [virtualService({ name: 'echo', hosts: [HOST], http: [{ route: [dest(HOST, { subset: 'v1' })], retries: { attempts: 2, retryOn: 'reset,retriable-4xx' } }] })]);
  v1.setHandler(firstAttempt((res) => res.socket?.destroy()));
  try {
    let r = await client.request(HOST, '/reset');
    assert.equal(r.status, 200);
    v1.setHandler(firstAttempt((res) => void res.writeHead(409).end('conflict')));
    r = await client.request(HOST, '/conflict');
    assert.equal(r.status, 200);
    assert.equal(v1.requests.filter((s) => s.url === '/conflict').length, 2);
  } finally {
    v1.setHandler(undefined);
  }
});

test('connectionPool.http.maxRetries 1: concurrent failing requests overflow the retry budget (upstream_rq_retry_overflow)', async () => {
  await mesh.apply('dr-breakers.yaml', [
    destinationRule({ name: 'dead', host: DEAD, trafficPolicy: { connectionPool: { http: { maxRetries: 1 } }, loadBalancer: { simple: 'ROUND_ROBIN' } } }),
  ]);
  await mesh.apply('vs.yaml', [virtualService({ name: 'dead', hosts: [DEAD], http: [{ route: [dest(DEAD)], retries: { attempts: 3, retryOn: '5xx' } }] })]);
  alive.setHandler((req, res) => {
    setTimeout(() => {
      res.statusCode = 503;
      res.end('busy');
    }, 100);
    return true;
  });
  try {
    const cluster = `outbound|${mesh.port}||${DEAD}`;
    await sendMany(client.egressAddress, 6, { host: DEAD }, 6);
    assert.ok((await client.stat(`cluster.${cluster}.upstream_rq_retry_overflow`)) > 0);
  } finally {
    alive.setHandler(undefined);
  }
});

test('outlier detection ejects an endpoint that refuses connections (connect failures count as 5xx)', async () => {
  await mesh.apply('dr-breakers.yaml', [
    destinationRule({ name: 'dead', host: DEAD, trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' }, outlierDetection: { consecutive5xxErrors: 2, interval: '10s', baseEjectionTime: '60s', maxEjectionPercent: 100 } } }),
  ]);
  await mesh.apply('vs.yaml', [virtualService({ name: 'dead', hosts: [DEAD], http: [{ route: [dest(DEAD)], retries: { attempts: 0 } }] })]);
  const cluster = `outbound|${mesh.port}||${DEAD}`;
  const first = await sendMany(client.egressAddress, 6, { host: DEAD }, 1);
  assert.equal(first.filter((r) => r.status === 503).length, 2, JSON.stringify(first.map((r) => r.status)));
  assert.equal(await client.stat(`cluster.${cluster}.outlier_detection.ejections_active`), 1);
  const later = await sendMany(client.egressAddress, 10, { host: DEAD }, 1);
  assert.deepEqual([...countBy(later)], [['alive', 10]]);
});

test('fault delay with percentage 50: about half the requests are delayed', async () => {
  await mesh.apply('vs.yaml', [virtualService({ name: 'echo', hosts: [HOST], http: [{ route: [dest(HOST, { subset: 'v1' })], fault: { delay: { fixedDelay: '0.6s', percentage: { value: 50 } } } }] })]);
  const agent = keepAliveAgent(60);
  try {
    // All 60 in flight at once (one round of delays); undelayed ones take far less than 600 ms even on a busy machine.
    const replies = await sendMany(client.egressAddress, 60, { host: HOST, agent }, 60);
    const delayed = replies.filter((r) => r.ms >= 590).length;
    assert.ok(delayed >= 15 && delayed <= 45, `${delayed} of 60 delayed`); // σ ≈ 3.9
  } finally {
    agent.destroy();
  }
});

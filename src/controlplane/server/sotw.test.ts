// State-of-the-World ADS over a real grpc-js stream: ordering, ACK, NACK, named subscriptions, merging, EDS-only pushes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { configureLogging } from '../../shared/log.js';
import { TypeUrl } from '../../xds/types.js';
import type { SotwRequest, SotwResponse } from './ads-service.js';
import type { FakeWorld } from './testkit.js';
import { AdsTestClient, edsPush, fullPush, nextRequestEvent, resourceNames, startTestServer, testNode } from './testkit.js';

const logLines: string[] = [];
configureLogging({ level: 'warn', json: true, sink: { write: (l) => logLines.push(l) } });

const A = 'outbound|80||a.default.svc.cluster.local';
const B = 'outbound|80||b.default.svc.cluster.local';
const world = (n = 1): FakeWorld => ({
  clusters: { [A]: [`10.0.0.${n}`], [B]: [`10.0.1.${n}`] },
  listeners: { '0.0.0.0_80': 80, [`0.0.0.0_${8000 + n}`]: 8000 + n },
  routes: { '80': [`a-${n}`], '8080': [`b-${n}`] },
  connectTimeoutSec: n,
});

type Client = AdsTestClient<SotwRequest, SotwResponse>;

/** Requests a type and ACKs the response; returns the response. */
async function subscribe(c: Client, typeUrl: string, names: string[] = [], node?: Record<string, unknown>): Promise<SotwResponse> {
  c.send({ node, type_url: typeUrl, resource_names: names });
  const r = await c.next();
  assert.equal(r.type_url, typeUrl);
  const acked = nextRequestEvent((e) => e.typeUrl === typeUrl && e.kind === 'ack');
  c.send({ type_url: typeUrl, resource_names: names, response_nonce: r.nonce, version_info: r.version_info });
  await acked;
  return r;
}

async function subscribeAll(c: Client, node = testNode()): Promise<void> {
  await subscribe(c, TypeUrl.Cluster, [], node);
  await subscribe(c, TypeUrl.ClusterLoadAssignment, [A, B]);
  await subscribe(c, TypeUrl.Listener);
  await subscribe(c, TypeUrl.RouteConfiguration, ['80', '8080']);
}

/** Resource names each test subscribes to, per type (an ACK repeats them, as SotW clients do). */
const SUBSCRIBED: Record<string, string[]> = { [TypeUrl.ClusterLoadAssignment]: [A, B], [TypeUrl.RouteConfiguration]: ['80', '8080'] };

/** Receives `count` responses and ACKs each; returns them in arrival order. */
async function receiveAndAck(c: Client, count: number, names: Record<string, string[]> = SUBSCRIBED): Promise<SotwResponse[]> {
  const out: SotwResponse[] = [];
  for (let i = 0; i < count; i++) {
    const r = await c.next();
    out.push(r);
    c.send({ type_url: r.type_url, resource_names: names[r.type_url] ?? [], response_nonce: r.nonce, version_info: r.version_info });
  }
  return out;
}

test('SotW: initial responses, full push in CDS, EDS, LDS, RDS order, ACK tracking', async (t) => {
  const s = await startTestServer(world());
  const c = AdsTestClient.sotw(s.address);
  t.after(async () => {
    c.close();
    await s.close();
  });
  const cds = await subscribe(c, TypeUrl.Cluster, [], testNode());
  assert.equal(cds.version_info, 'v1');
  assert.deepEqual(resourceNames(cds).sort(), [A, B]);
  const eds = await subscribe(c, TypeUrl.ClusterLoadAssignment, [A]);
  assert.deepEqual(resourceNames(eds), [A]);
  const lds = await subscribe(c, TypeUrl.Listener);
  assert.deepEqual(resourceNames(lds).sort(), ['0.0.0.0_80', '0.0.0.0_8001']);
  await subscribe(c, TypeUrl.RouteConfiguration, ['80']);

  const con = s.xds.connections()[0];
  assert.ok(con);
  assert.equal(con.proxy.namespace, 'default');
  for (const w of con.watched.values()) assert.equal(w.versionAcked, 'v1');

  s.push('v2', world(2));
  const got = await receiveAndAck(c, 4, { [TypeUrl.ClusterLoadAssignment]: [A], [TypeUrl.RouteConfiguration]: ['80'] });
  assert.deepEqual(
    got.map((r) => r.type_url),
    [TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment, TypeUrl.Listener, TypeUrl.RouteConfiguration],
  );
  for (const r of got) assert.equal(r.version_info, 'v2');
  assert.deepEqual(resourceNames(got[1]), [A]);
  assert.equal(s.metrics.xdsClients.get !== undefined, true);
  const pushes = await s.metrics.xdsPushes.get();
  assert.ok(pushes.values.some((v) => v.labels.type === 'cds' && v.value === 2));
});

test('SotW: unchanged types are not pushed again; EDS follows a CDS change', async (t) => {
  const s = await startTestServer(world());
  const c = AdsTestClient.sotw(s.address);
  t.after(async () => {
    c.close();
    await s.close();
  });
  await subscribeAll(c);
  const w2 = world();
  w2.routes['80'] = ['changed'];
  s.push('v2', w2);
  const [rds] = await receiveAndAck(c, 1);
  assert.equal(rds?.type_url, TypeUrl.RouteConfiguration);
  await s.xds.idle();
  // a barrier: a new subscription is answered next, so nothing else was sent
  c.send({ type_url: TypeUrl.RouteConfiguration, resource_names: ['80'], response_nonce: rds?.nonce });
  const barrier = await c.next();
  assert.equal(barrier.type_url, TypeUrl.RouteConfiguration);
  assert.deepEqual(resourceNames(barrier), ['80']);

  // Clusters changed, endpoints did not: CDS is sent, then EDS again (Envoy re-warms updated clusters).
  const w3 = world();
  w3.routes['80'] = ['changed'];
  w3.connectTimeoutSec = 30;
  s.push('v3', w3);
  const got = await receiveAndAck(c, 2);
  assert.deepEqual(
    got.map((r) => [r.type_url, r.version_info]),
    [
      [TypeUrl.Cluster, 'v3'],
      [TypeUrl.ClusterLoadAssignment, 'v3'],
    ],
  );
});

test('SotW: a NACK is recorded and counted, the node keeps its ACKed version, nothing is re-sent', async (t) => {
  const s = await startTestServer(world());
  const c = AdsTestClient.sotw(s.address);
  t.after(async () => {
    c.close();
    await s.close();
  });
  await subscribe(c, TypeUrl.Cluster, [], testNode());
  const w2 = world();
  w2.clusters['outbound|81||c.default.svc.cluster.local'] = ['10.0.2.1'];
  s.push('v2', w2);
  const r = await c.next();
  assert.equal(r.version_info, 'v2');
  const nacked = nextRequestEvent((e) => e.kind === 'nack');
  c.send({ type_url: TypeUrl.Cluster, response_nonce: r.nonce, version_info: 'v1', error_detail: { code: 3, message: 'cluster c: bad lb policy' } });
  await nacked;
  const warn = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'xDS NACK');
  assert.equal(warn?.level, 'warn');
  assert.equal(warn?.node, 'sidecar~127.0.0.2~app-1.default~default.svc.cluster.local');
  assert.equal(warn?.type, 'cds');
  assert.equal(warn?.error, 'cluster c: bad lb policy');

  const w = s.xds.connections()[0]?.watched.get(TypeUrl.Cluster);
  assert.equal(w?.versionAcked, 'v1');
  assert.equal(w?.versionSent, 'v2');
  assert.equal(w?.nack?.message, 'cluster c: bad lb policy');
  const rejects = await s.metrics.xdsRejects.get();
  assert.deepEqual(
    rejects.values.map((v) => [v.labels.type, v.value]),
    [['cds', 1]],
  );

  // Same content at a new version: not re-sent. Then a barrier subscription must be the next response.
  s.push('v3', w2);
  await s.xds.idle();
  c.send({ type_url: TypeUrl.ClusterLoadAssignment, resource_names: [A] });
  const next = await c.next();
  assert.equal(next.type_url, TypeUrl.ClusterLoadAssignment);

  // A stale NACK (old nonce) changes nothing.
  const stale = nextRequestEvent((e) => e.kind === 'stale');
  c.send({ type_url: TypeUrl.Cluster, response_nonce: 'old-nonce', error_detail: { message: 'late' } });
  await stale;
  assert.equal(w?.nack?.message, 'cluster c: bad lb policy');
});

test('SotW: a client repeating error_detail while changing names (grpc-js-xds) gets its names, NACK counted once', async (t) => {
  const s = await startTestServer(world());
  const c = AdsTestClient.sotw(s.address);
  t.after(async () => {
    c.close();
    await s.close();
  });
  c.send({ node: testNode(), type_url: TypeUrl.ClusterLoadAssignment, resource_names: [A] });
  const r1 = await c.next();
  const detail = { code: 14, message: 'endpoint 10.0.0.1: no' };
  const nacked = nextRequestEvent((e) => e.kind === 'nack');
  c.send({ type_url: TypeUrl.ClusterLoadAssignment, resource_names: [A], response_nonce: r1.nonce, error_detail: detail });
  await nacked;
  c.send({ type_url: TypeUrl.ClusterLoadAssignment, resource_names: [A, B], response_nonce: r1.nonce, error_detail: detail });
  const r2 = await c.next();
  assert.deepEqual(resourceNames(r2).sort(), [A, B]);
  const rejects = await s.metrics.xdsRejects.get();
  assert.equal(rejects.values.find((v) => v.labels.type === 'eds')?.value, 1);
});

test('SotW: named EDS subscriptions follow the requested names', async (t) => {
  const s = await startTestServer(world());
  const c = AdsTestClient.sotw(s.address);
  t.after(async () => {
    c.close();
    await s.close();
  });
  await subscribe(c, TypeUrl.Cluster, [], testNode());
  c.send({ type_url: TypeUrl.ClusterLoadAssignment, resource_names: [B] });
  const first = await c.next();
  assert.deepEqual(resourceNames(first), [B]);
  c.send({ type_url: TypeUrl.ClusterLoadAssignment, resource_names: [A, B], response_nonce: first.nonce });
  const second = await c.next();
  assert.deepEqual(resourceNames(second).sort(), [A, B]);
  const acked = nextRequestEvent((e) => e.kind === 'ack');
  c.send({ type_url: TypeUrl.ClusterLoadAssignment, resource_names: [A, B], response_nonce: second.nonce });
  await acked;
  assert.deepEqual([...(s.xds.connections()[0]?.watched.get(TypeUrl.ClusterLoadAssignment)?.names ?? [])].sort(), [A, B]);
});

test('SotW: pushes queued for one connection merge into one', async (t) => {
  const s = await startTestServer(world());
  const c = AdsTestClient.sotw(s.address);
  t.after(async () => {
    c.close();
    await s.close();
  });
  await subscribeAll(c);
  s.push('v2', world(2), edsPush('a.default.svc.cluster.local'));
  s.push('v3', world(3), fullPush());
  const got = await receiveAndAck(c, 4);
  assert.deepEqual(
    got.map((r) => [r.type_url, r.version_info]),
    [
      [TypeUrl.Cluster, 'v3'],
      [TypeUrl.ClusterLoadAssignment, 'v3'],
      [TypeUrl.Listener, 'v3'],
      [TypeUrl.RouteConfiguration, 'v3'],
    ],
  );
  await s.xds.idle();
  assert.equal(c.pending, 0);
});

test('SotW: an endpoint-only push sends EDS only, and only to proxies watching a changed host', async (t) => {
  const s = await startTestServer(world());
  const a = AdsTestClient.sotw(s.address);
  const b = AdsTestClient.sotw(s.address);
  t.after(async () => {
    a.close();
    b.close();
    await s.close();
  });
  await subscribe(a, TypeUrl.Cluster, [], testNode('sidecar~127.0.0.2~a-1.default~default.svc.cluster.local'));
  await subscribe(a, TypeUrl.ClusterLoadAssignment, [A]);
  await subscribe(a, TypeUrl.Listener);
  await subscribe(b, TypeUrl.Cluster, [], testNode('sidecar~127.0.0.3~b-1.default~default.svc.cluster.local'));
  await subscribe(b, TypeUrl.ClusterLoadAssignment, [B]);

  const w2 = world();
  w2.clusters[A] = ['10.9.9.9'];
  w2.clusters[B] = ['10.8.8.8']; // changed too, but not announced: B's proxy must not get it
  w2.listeners['0.0.0.0_9'] = 9; // not an endpoint change: must not be pushed
  s.push('v2', w2, edsPush('a.default.svc.cluster.local'));
  const [eds] = await receiveAndAck(a, 1, { [TypeUrl.ClusterLoadAssignment]: [A] });
  assert.equal(eds?.type_url, TypeUrl.ClusterLoadAssignment);
  assert.deepEqual(resourceNames(eds), [A]);
  await s.xds.idle();
  for (const c of [a, b]) {
    c.send({ type_url: TypeUrl.RouteConfiguration, resource_names: ['80'] });
    const barrier = await c.next();
    assert.equal(barrier.type_url, TypeUrl.RouteConfiguration, 'no other response before the barrier');
  }
});

test('SotW: a stream whose first request has no node fails with INVALID_ARGUMENT', async (t) => {
  const s = await startTestServer(world());
  const c = AdsTestClient.sotw(s.address);
  t.after(async () => {
    c.close();
    await s.close();
  });
  c.send({ type_url: TypeUrl.Cluster });
  const st = await c.status;
  assert.equal(st.code, grpc.status.INVALID_ARGUMENT);
  assert.match(st.details, /node/);
  assert.equal(s.xds.connections().length, 0);

  const bad = AdsTestClient.sotw(s.address);
  t.after(() => bad.close());
  bad.send({ node: { id: 'garbage' }, type_url: TypeUrl.Cluster });
  const st2 = await bad.status;
  assert.equal(st2.code, grpc.status.INVALID_ARGUMENT);
  assert.match(st2.details, /4 parts/);
});

test('SotW: connect and disconnect hooks see the proxy; pilot_xds counts streams', async (t) => {
  const events: string[] = [];
  let closed: (() => void) | undefined;
  const gone = new Promise<void>((r) => (closed = r));
  const s = await startTestServer(world(), {
    onConnect: (p) => events.push(`+${p.workloadName}`),
    onDisconnect: (p) => {
      events.push(`-${p.workloadName}`);
      closed?.();
    },
  });
  t.after(() => s.close());
  const c = AdsTestClient.sotw(s.address);
  await subscribe(c, TypeUrl.Cluster, [], testNode());
  assert.equal((await s.metrics.xdsClients.get()).values[0]?.value, 1);
  c.close();
  await gone;
  assert.deepEqual(events, ['+app-1', '-app-1']);
  assert.equal((await s.metrics.xdsClients.get()).values[0]?.value, 0);
});

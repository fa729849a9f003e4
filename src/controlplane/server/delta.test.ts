// Delta (incremental) ADS over a real grpc-js stream: versions, subscribe/unsubscribe, removed_resources, reconnects, NACK.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configureLogging } from '../../shared/log.js';
import { TypeUrl } from '../../xds/types.js';
import type { DeltaRequest, DeltaResponse } from './ads-service.js';
import type { FakeWorld } from './testkit.js';
import { AdsTestClient, edsPush, nextRequestEvent, resourceName, startTestServer, testNode } from './testkit.js';

configureLogging({ level: 'error' });

const A = 'outbound|80||a.default.svc.cluster.local';
const B = 'outbound|80||b.default.svc.cluster.local';
const NOPE = 'outbound|1||nope.default.svc.cluster.local';
const world = (): FakeWorld => ({ clusters: { [A]: ['10.0.0.1'], [B]: ['10.0.1.1'] }, listeners: { '0.0.0.0_80': 80 }, routes: {} });

type Client = AdsTestClient<DeltaRequest, DeltaResponse>;

function names(r: DeltaResponse): string[] {
  return (r.resources ?? []).map((x) => x.name).sort();
}

async function ack(c: Client, r: DeltaResponse): Promise<void> {
  const acked = nextRequestEvent((e) => e.typeUrl === r.type_url && e.kind === 'ack');
  c.send({ type_url: r.type_url, response_nonce: r.nonce });
  await acked;
}

test('Delta: wildcard CDS, named EDS, per-resource versions, changes and removals', async (t) => {
  const s = await startTestServer(world());
  const c = AdsTestClient.delta(s.address);
  t.after(async () => {
    c.close();
    await s.close();
  });
  c.send({ node: testNode(), type_url: TypeUrl.Cluster });
  const cds = await c.next();
  assert.equal(cds.system_version_info, 'v1');
  assert.deepEqual(names(cds), [A, B]);
  for (const r of cds.resources) {
    assert.match(r.version, /^[0-9a-f]{16}$/);
    assert.equal(resourceName(r.resource.type_url, r.resource.value), r.name);
  }
  await ack(c, cds);

  c.send({ type_url: TypeUrl.ClusterLoadAssignment, resource_names_subscribe: [A] });
  const eds = await c.next();
  assert.deepEqual(names(eds), [A]);
  await ack(c, eds);

  // A name that does not exist is reported removed.
  c.send({ type_url: TypeUrl.ClusterLoadAssignment, resource_names_subscribe: [NOPE] });
  const nope = await c.next();
  assert.deepEqual(names(nope), []);
  assert.deepEqual(nope.removed_resources, [NOPE]);
  await ack(c, nope);

  // v2: B is gone, A changed: only A is sent, B is removed; A's endpoints follow the cluster change.
  const w2: FakeWorld = { clusters: { [A]: ['10.0.0.1'] }, listeners: {}, routes: {}, connectTimeoutSec: 3 };
  s.push('v2', w2);
  const cds2 = await c.next();
  assert.equal(cds2.type_url, TypeUrl.Cluster);
  assert.equal(cds2.system_version_info, 'v2');
  assert.deepEqual(names(cds2), [A]);
  assert.deepEqual(cds2.removed_resources, [B]);
  await ack(c, cds2);
  const eds2 = await c.next();
  assert.equal(eds2.type_url, TypeUrl.ClusterLoadAssignment);
  assert.deepEqual(names(eds2), [A]);
  await ack(c, eds2);

  // Unsubscribed clusters are not pushed; a later subscription is answered next (barrier).
  const unsub = nextRequestEvent((e) => e.typeUrl === TypeUrl.ClusterLoadAssignment && e.kind === 'subscribe');
  c.send({ type_url: TypeUrl.ClusterLoadAssignment, resource_names_unsubscribe: [A, NOPE] });
  await unsub;
  assert.deepEqual([...(s.xds.connections()[0]?.watched.get(TypeUrl.ClusterLoadAssignment)?.names ?? [])], []);
  s.push('v3', { ...w2, clusters: { [A]: ['10.0.0.9'] } }, edsPush('a.default.svc.cluster.local'));
  await s.xds.idle();
  c.send({ type_url: TypeUrl.Listener });
  const lds = await c.next();
  assert.equal(lds.type_url, TypeUrl.Listener);
});

test('Delta: a reconnecting client with initial_resource_versions gets only what differs', async (t) => {
  const s = await startTestServer(world());
  const first = AdsTestClient.delta(s.address);
  t.after(() => first.close());
  first.send({ node: testNode(), type_url: TypeUrl.Cluster });
  const cds = await first.next();
  const versions = Object.fromEntries(cds.resources.map((r) => [r.name, r.version]));
  first.close();

  const w2 = world();
  delete w2.clusters[B];
  w2.clusters['outbound|81||c.default.svc.cluster.local'] = ['10.0.2.1'];
  s.push('v2', w2);
  const c = AdsTestClient.delta(s.address);
  t.after(async () => {
    c.close();
    await s.close();
  });
  c.send({ node: testNode(), type_url: TypeUrl.Cluster, initial_resource_versions: versions });
  const r = await c.next();
  assert.deepEqual(names(r), ['outbound|81||c.default.svc.cluster.local']);
  assert.deepEqual(r.removed_resources, [B]);
});

test('Delta: a NACK is recorded and counted; stale nonces are ignored', async (t) => {
  const s = await startTestServer(world());
  const c = AdsTestClient.delta(s.address);
  t.after(async () => {
    c.close();
    await s.close();
  });
  c.send({ node: testNode(), type_url: TypeUrl.Cluster });
  const cds = await c.next();
  const stale = nextRequestEvent((e) => e.kind === 'stale');
  c.send({ type_url: TypeUrl.Cluster, response_nonce: 'not-ours', error_detail: { message: 'ignored' } });
  await stale;
  const nacked = nextRequestEvent((e) => e.kind === 'nack');
  c.send({ type_url: TypeUrl.Cluster, response_nonce: cds.nonce, error_detail: { code: 3, message: 'no thanks' } });
  await nacked;
  const w = s.xds.connections()[0]?.watched.get(TypeUrl.Cluster);
  assert.equal(w?.nack?.message, 'no thanks');
  assert.equal(w?.versionAcked, '');
  const rejects = await s.metrics.xdsRejects.get();
  assert.equal(rejects.values.find((v) => v.labels.type === 'cds')?.value, 1);
});

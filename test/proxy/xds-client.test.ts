// The proxy's ADS client against a scripted ADS server over real gRPC on 127.0.0.1: subscription order and warming,
// ACK/NACK with the field-path detail while the last good config keeps serving, reconnect with backoff and resubscription
// with the accepted versions (SotW) or initial_resource_versions (Delta), removals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { configureLogging } from '../../src/shared/log.js';
import { TypeUrl } from '../../src/xds/types.js';
import { hcmFilter, opaqueAny, tcpFilter } from '../../src/proxy/runtime/decode/testing.js';
import type { ConfigSnapshot } from '../../src/proxy/runtime/types.js';
import { AdsClient } from '../../src/proxy/xds-client/ads-client.js';
import { ScriptedAds } from './scripted-ads.js';

configureLogging({ level: 'none' });

const NODE = { type: 'sidecar' as const, ip: '127.0.1.1', podName: 'productpage-v1-1', namespace: 'default', labels: { app: 'productpage', version: 'v1' }, serviceAccount: 'bookinfo-productpage' };
const addr = (port: number): object => ({ socket_address: { address: '0.0.0.0', port_value: port } });
const edsCluster = (name: string, timeoutS = 1): object => ({ name, type: 'EDS', connect_timeout: { seconds: timeoutS }, eds_cluster_config: { eds_config: { ads: {} } } });
const cla = (name: string, ip: string): object => ({ cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: ip, port_value: 9080 } } } }] }] });
const httpListener = (name: string, port: number, rds: string): object => ({ name, address: addr(port), filter_chains: [{ filters: [hcmFilter({ rds: { route_config_name: rds, config_source: { ads: {} } } })] }] });
const routes = (name: string, cluster: string): object => ({ name, virtual_hosts: [{ name: 'vh', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster } }] }] });
const redisListener = (name: string): object => ({
  name,
  address: addr(6379),
  filter_chains: [{ filters: [tcpFilter({ cluster: 'a' })] }, { filter_chain_match: { destination_port: { value: 6379 } }, filters: [{ name: 'redis', typed_config: opaqueAny('type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy') }] }],
});

function seed(ads: ScriptedAds): void {
  ads.set(TypeUrl.Cluster, { a: edsCluster('a'), b: edsCluster('b') });
  ads.set(TypeUrl.ClusterLoadAssignment, { a: cla('a', '10.0.0.1'), b: cla('b', '10.0.0.2') });
  ads.set(TypeUrl.Listener, { http: httpListener('http', 9080, '9080') });
  ads.set(TypeUrl.RouteConfiguration, { '9080': routes('9080', 'a') });
}

/** Resolves with the first snapshot (current or future) satisfying `pred`. */
function snapshotWhere(c: AdsClient, pred: (s: ConfigSnapshot) => boolean, timeoutMs = 5000): Promise<ConfigSnapshot> {
  if (pred(c.source.current())) return Promise.resolve(c.source.current());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error('snapshot condition not met'));
    }, timeoutMs);
    const off = c.source.subscribe((s) => {
      if (!pred(s)) return;
      clearTimeout(timer);
      off();
      resolve(s);
    });
  });
}

function start(ads: ScriptedAds, o: { delta?: boolean } = {}): AdsClient {
  const c = new AdsClient({ server: ads.address, node: NODE, delta: o.delta ?? false, backoff: { baseMs: 20, maxMs: 200 } });
  c.start();
  return c;
}

test('SotW: node on the first request, CDS then EDS for its clusters, LDS then RDS, ACKs; ready once all arrived', async (t) => {
  const ads = new ScriptedAds();
  await ads.start();
  seed(ads);
  const c = start(ads);
  t.after(() => {
    c.close();
    ads.stop();
  });
  await c.source.ready;
  const snap = c.source.current();
  assert.deepEqual([...snap.clusters.keys()].sort(), ['a', 'b']);
  assert.deepEqual([...snap.endpoints.keys()].sort(), ['a', 'b']);
  assert.deepEqual([...snap.listeners.keys()], ['http']);
  assert.deepEqual([...snap.routes.keys()], ['9080']);
  const first = ads.requests[0];
  assert.ok(first);
  assert.equal(first.typeUrl, TypeUrl.Cluster);
  assert.equal(first.hasNode, true);
  assert.equal((first.node as { id?: string }).id, 'sidecar~127.0.1.1~productpage-v1-1.default~default.svc.cluster.local');
  assert.equal(ads.requests.filter((r) => r.hasNode).length, 1, 'the node is sent once per stream');
  const eds = await ads.waitFor((r) => r.typeUrl === TypeUrl.ClusterLoadAssignment);
  assert.deepEqual(eds.names, ['a', 'b']);
  const rds = await ads.waitFor((r) => r.typeUrl === TypeUrl.RouteConfiguration);
  assert.deepEqual(rds.names, ['9080']);
  const cdsAck = await ads.waitFor((r) => r.typeUrl === TypeUrl.Cluster && r.nonce !== '');
  assert.equal(cdsAck.errorDetail, undefined);
  assert.equal(cdsAck.version, c.state().types.cds?.version);
  assert.equal(c.state().connected, true);
  assert.equal(c.state().ready, true);
});

test('SotW: a bad listener is NACKed with its field path and the last good config keeps serving', async (t) => {
  const ads = new ScriptedAds();
  await ads.start();
  seed(ads);
  const c = start(ads);
  t.after(() => {
    c.close();
    ads.stop();
  });
  await c.source.ready;
  const good = c.source.current();
  const goodVersion = c.state().types.lds?.version;
  const nack = once(c, 'nack');
  ads.set(TypeUrl.Listener, { virtualOutbound: redisListener('virtualOutbound') });
  const [ev] = (await nack) as [{ typeUrl: string; detail: string }];
  const detail = 'listener virtualOutbound: filter_chains[1].filters[0].typed_config: unsupported network filter type envoy.extensions.filters.network.redis_proxy.v3.RedisProxy';
  assert.equal(ev.detail, detail);
  const onWire = await ads.waitFor((r) => r.typeUrl === TypeUrl.Listener && r.errorDetail !== undefined);
  assert.deepEqual(onWire.errorDetail, { code: 3, message: detail });
  assert.equal(onWire.version, goodVersion, 'a NACK carries the last accepted version');
  assert.equal(c.source.current(), good, 'nothing of the rejected response was applied');
  assert.equal(c.state().types.lds?.lastNack?.detail, detail);
  assert.equal(c.state().types.lds?.version, goodVersion);

  // A later good update is accepted (the http listener is removed, a tcp listener added).
  ads.set(TypeUrl.Listener, { virtualOutbound: undefined, http: undefined, tcp: { name: 'tcp', address: addr(81), filter_chains: [{ filters: [tcpFilter({ cluster: 'b' })] }] } });
  const s = await snapshotWhere(c, (x) => x.listeners.has('tcp'));
  assert.deepEqual([...s.listeners.keys()], ['tcp']);
  assert.equal(s.routes.size, 0, 'routes nothing references are dropped');
  const unsub = await ads.waitFor((r) => r.typeUrl === TypeUrl.RouteConfiguration && r.names.length === 0);
  assert.deepEqual(unsub.names, []);
});

test('SotW: a cluster added later warms until its endpoints arrive; a changed cluster keeps serving meanwhile', async (t) => {
  const ads = new ScriptedAds();
  await ads.start();
  seed(ads);
  const c = start(ads);
  t.after(() => {
    c.close();
    ads.stop();
  });
  await c.source.ready;
  const oldA = c.source.current().clusters.get('a');
  ads.set(TypeUrl.Cluster, { a: edsCluster('a', 7), c: edsCluster('c') });
  await ads.waitFor((r) => r.typeUrl === TypeUrl.ClusterLoadAssignment && r.names.includes('c'));
  const s = c.source.current();
  assert.equal(s.clusters.has('c'), false, 'c warms: no endpoints yet');
  assert.equal(s.clusters.get('a')?.connectTimeoutMs, 7000, 'a changed but its endpoints are known: active at once');
  assert.notEqual(s.clusters.get('a'), oldA);
  assert.deepEqual(c.state().warming.clusters, ['c']);
  ads.set(TypeUrl.ClusterLoadAssignment, { c: cla('c', '10.0.0.3') });
  const warm = await snapshotWhere(c, (x) => x.clusters.has('c'));
  assert.equal(warm.endpoints.get('c')?.localities[0]?.endpoints[0]?.address, '10.0.0.3');
});

test('SotW: control plane stopped → last config keeps serving; restarted → resubscribes with the accepted versions', async (t) => {
  const ads = new ScriptedAds();
  await ads.start();
  seed(ads);
  const c = start(ads);
  t.after(() => {
    c.close();
    ads.stop();
  });
  await c.source.ready;
  const before = c.source.current();
  const versions = { cds: c.state().types.cds?.version, lds: c.state().types.lds?.version };
  const down = once(c, 'disconnected');
  ads.stop();
  await down;
  assert.equal(c.state().connected, false);
  assert.ok(c.state().lastError);
  assert.equal(c.source.current(), before, 'still serving the last config');

  const mark = ads.requests.length;
  await ads.start(); // same port
  const cds = await ads.waitFor((r) => r.typeUrl === TypeUrl.Cluster, { from: mark });
  assert.equal(cds.hasNode, true);
  assert.equal(cds.nonce, '');
  assert.equal(cds.version, versions.cds);
  const lds = await ads.waitFor((r) => r.typeUrl === TypeUrl.Listener, { from: mark });
  assert.equal(lds.version, versions.lds);
  const eds = await ads.waitFor((r) => r.typeUrl === TypeUrl.ClusterLoadAssignment, { from: mark });
  assert.deepEqual(eds.names, ['a', 'b']);
  ads.set(TypeUrl.ClusterLoadAssignment, { a: cla('a', '10.0.0.9') });
  await snapshotWhere(c, (s) => s.endpoints.get('a')?.localities[0]?.endpoints[0]?.address === '10.0.0.9');
  assert.equal(c.state().connected, true);
  assert.ok(c.state().reconnects >= 1);
});

test('Delta: wildcard and named subscriptions, removals, NACK, reconnect with initial_resource_versions', async (t) => {
  const ads = new ScriptedAds();
  await ads.start();
  seed(ads);
  const c = start(ads, { delta: true });
  t.after(() => {
    c.close();
    ads.stop();
  });
  await c.source.ready;
  assert.equal(c.state().protocol, 'delta');
  const first = await ads.waitFor((r) => r.typeUrl === TypeUrl.Cluster);
  assert.equal(first.mode, 'delta');
  assert.deepEqual(first.subscribe, [], 'legacy wildcard');
  const eds = await ads.waitFor((r) => r.typeUrl === TypeUrl.ClusterLoadAssignment && r.subscribe.length > 0);
  assert.deepEqual([...eds.subscribe].sort(), ['a', 'b']);

  // A removal through removed_resources; the cluster's endpoints are unsubscribed.
  ads.set(TypeUrl.Cluster, { b: undefined });
  await snapshotWhere(c, (s) => !s.clusters.has('b'));
  const unsub = await ads.waitFor((r) => r.typeUrl === TypeUrl.ClusterLoadAssignment && r.unsubscribe.includes('b'));
  assert.deepEqual(unsub.subscribe, []);
  assert.equal(c.source.current().endpoints.has('b'), false);

  // NACK of a bad cluster: ORIGINAL_DST with ROUND_ROBIN.
  const nack = once(c, 'nack');
  ads.set(TypeUrl.Cluster, { bad: { name: 'bad', type: 'ORIGINAL_DST' } });
  await nack;
  const onWire = await ads.waitFor((r) => r.typeUrl === TypeUrl.Cluster && r.errorDetail !== undefined);
  assert.deepEqual(onWire.errorDetail, { code: 3, message: 'cluster bad: lb_policy: LB policy ROUND_ROBIN is not valid for cluster type ORIGINAL_DST; only CLUSTER_PROVIDED is allowed' });
  assert.equal(c.source.current().clusters.has('bad'), false);
  ads.set(TypeUrl.Cluster, { bad: undefined });
  await ads.waitFor((r) => r.typeUrl === TypeUrl.Cluster && r.nonce !== '' && r.errorDetail === undefined, { from: ads.requests.indexOf(onWire) + 1 });

  // Reconnect: the first request of each type says what the client holds.
  const mark = ads.requests.length;
  const down = once(c, 'disconnected');
  ads.stop();
  await down;
  await ads.start();
  const cds = await ads.waitFor((r) => r.typeUrl === TypeUrl.Cluster, { from: mark });
  assert.deepEqual(Object.keys(cds.initial), ['a']);
  const eds2 = await ads.waitFor((r) => r.typeUrl === TypeUrl.ClusterLoadAssignment, { from: mark });
  assert.deepEqual(eds2.subscribe, ['a']);
  assert.deepEqual(Object.keys(eds2.initial), ['a']);
  const rds = await ads.waitFor((r) => r.typeUrl === TypeUrl.RouteConfiguration, { from: mark });
  assert.deepEqual(Object.keys(rds.initial), ['9080']);
  ads.set(TypeUrl.RouteConfiguration, { '9080': routes('9080', 'b') });
  const s = await snapshotWhere(c, (x) => {
    const a = x.routes.get('9080')?.findVirtualHost('x')?.routes[0]?.action;
    return a?.type === 'route' && a.cluster === 'b';
  });
  assert.equal(s.listeners.size, 1);
});

// XdsConfigSource: atomic snapshots, Envoy-style warming (clusters wait for EDS, listeners for RDS, the previous
// version serving meanwhile), warming timeouts, readiness, and pruning of what nothing references any more.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TypeUrl } from '../../xds/types.js';
import { XdsConfigSource } from './config-source.js';
import type { ResourceUpdate } from './config-source.js';
import { decodeCluster, decodeClusterLoadAssignment, decodeListener, decodeRouteConfiguration } from './decode/index.js';
import { enc, hcmFilter, ok, tcpFilter, testCtx } from './decode/testing.js';
import type { Cluster, ConfigSnapshot, Listener, LoadAssignment, RouteTable } from './types.js';

const edsCluster = (name: string, service = name, timeoutS = 1): Cluster => ok(decodeCluster(enc(TypeUrl.Cluster, { name, type: 'EDS', connect_timeout: { seconds: timeoutS }, eds_cluster_config: { service_name: service } }), testCtx));
const staticCluster = (name: string): Cluster => ok(decodeCluster(enc(TypeUrl.Cluster, { name, type: 'STATIC' }), testCtx));
const cla = (name: string, ip = '10.0.0.1'): LoadAssignment => ok(decodeClusterLoadAssignment(enc(TypeUrl.ClusterLoadAssignment, { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: ip, port_value: 80 } } } }] }] })));
const httpListener = (name: string, rds: string): Listener =>
  ok(decodeListener(enc(TypeUrl.Listener, { name, address: { socket_address: { address: '0.0.0.0', port_value: 80 } }, filter_chains: [{ filters: [hcmFilter({ rds: { route_config_name: rds } })] }] }), testCtx));
const tcpListener = (name: string): Listener => ok(decodeListener(enc(TypeUrl.Listener, { name, address: { socket_address: { address: '0.0.0.0', port_value: 81 } }, filter_chains: [{ filters: [tcpFilter({ cluster: 'c' })] }] }), testCtx));
const routes = (name: string, domain = '*'): RouteTable => ok(decodeRouteConfiguration(enc(TypeUrl.RouteConfiguration, { name, virtual_hosts: [{ name: 'vh', domains: [domain], routes: [] }] }), testCtx));

function upd<T>(version: string, items: [string, T][], opts: { full?: boolean; removed?: string[] } = {}): ResourceUpdate<T> {
  return { version, upserts: new Map(items), removed: opts.removed ?? [], full: opts.full ?? false };
}

function recorder(src: XdsConfigSource): ConfigSnapshot[] {
  const seen: ConfigSnapshot[] = [];
  src.subscribe((s) => seen.push(s));
  return seen;
}

test('clusters warm until their endpoints arrive; listeners until their routes; then ready', async () => {
  const src = new XdsConfigSource({ warmingTimeoutMs: 0 });
  const seen = recorder(src);
  let ready = false;
  void src.ready.then(() => (ready = true));
  const a = edsCluster('a', 'a-eds');
  src.apply(TypeUrl.Cluster, upd('c1', [['a', a], ['s', staticCluster('s')]], { full: true }));
  assert.deepEqual([...src.current().clusters.keys()], ['s'], 'the EDS cluster warms');
  assert.deepEqual(src.endpointNames(), ['a-eds']);
  assert.deepEqual(src.warming(), { listeners: [], clusters: ['a'] });
  src.apply(TypeUrl.ClusterLoadAssignment, upd('e1', [['a-eds', cla('a-eds')]]));
  assert.deepEqual([...src.current().clusters.keys()].sort(), ['a', 's']);
  assert.equal(src.current().endpoints.get('a-eds')?.localities[0]?.endpoints[0]?.address, '10.0.0.1');
  src.apply(TypeUrl.Listener, upd('l1', [['http', httpListener('http', '80')], ['tcp', tcpListener('tcp')]], { full: true }));
  assert.deepEqual([...src.current().listeners.keys()], ['tcp']);
  assert.deepEqual(src.routeNames(), ['80']);
  await Promise.resolve();
  assert.equal(ready, false);
  assert.equal(src.isReady, false);
  src.apply(TypeUrl.RouteConfiguration, upd('r1', [['80', routes('80')]]));
  assert.deepEqual([...src.current().listeners.keys()].sort(), ['http', 'tcp']);
  await src.ready;
  assert.equal(src.isReady, true);
  assert.deepEqual(Object.fromEntries(src.current().versions), { [TypeUrl.Cluster]: 'c1', [TypeUrl.ClusterLoadAssignment]: 'e1', [TypeUrl.Listener]: 'l1', [TypeUrl.RouteConfiguration]: 'r1' });
  assert.equal(seen.length, 4, 'one snapshot per accepted update');
  assert.equal(seen[3], src.current());
  src.close();
});

test('an updated cluster or listener warms while the previous version keeps serving', () => {
  const src = new XdsConfigSource({ warmingTimeoutMs: 0 });
  const v1 = edsCluster('a', 'a-v1');
  src.apply(TypeUrl.Cluster, upd('1', [['a', v1]], { full: true }));
  src.apply(TypeUrl.ClusterLoadAssignment, upd('1', [['a-v1', cla('a-v1')]]));
  src.apply(TypeUrl.Listener, upd('1', [['l', httpListener('l', 'r1')]], { full: true }));
  src.apply(TypeUrl.RouteConfiguration, upd('1', [['r1', routes('r1')]]));
  assert.equal(src.current().clusters.get('a'), v1);

  const v2 = edsCluster('a', 'a-v2');
  src.apply(TypeUrl.Cluster, upd('2', [['a', v2]], { full: true }));
  assert.equal(src.current().clusters.get('a'), v1, 'v1 serves while v2 warms');
  assert.deepEqual(src.endpointNames(), ['a-v1', 'a-v2'], 'both service names stay subscribed');
  src.apply(TypeUrl.ClusterLoadAssignment, upd('2', [['a-v2', cla('a-v2', '10.0.0.2')]]));
  assert.equal(src.current().clusters.get('a'), v2);
  assert.deepEqual(src.endpointNames(), ['a-v2']);
  assert.deepEqual([...src.current().endpoints.keys()], ['a-v2'], 'endpoints nothing references are dropped');

  const l2 = httpListener('l', 'r2');
  src.apply(TypeUrl.Listener, upd('2', [['l', l2]], { full: true }));
  assert.equal(rds(src.current().listeners.get('l')), 'r1', 'the old listener serves while r2 warms');
  assert.deepEqual(src.routeNames(), ['r1', 'r2']);
  src.apply(TypeUrl.RouteConfiguration, upd('2', [['r2', routes('r2')]]));
  assert.equal(src.current().listeners.get('l'), l2);
  assert.deepEqual([...src.current().routes.keys()], ['r2']);

  src.apply(TypeUrl.Listener, upd('3', [], { full: true }));
  assert.equal(src.current().listeners.size, 0, 'a full LDS update without the listener removes it');
  assert.equal(src.current().routes.size, 0);
  src.close();
});

function rds(l: Listener | undefined): string | undefined {
  const f = l?.filterChains[0]?.filter;
  return f?.type === 'http' ? f.rdsName : undefined;
}

test('warming times out: the cluster or listener is activated without its dependency, and readiness follows', async () => {
  const src = new XdsConfigSource({ warmingTimeoutMs: 40 });
  const seen = recorder(src);
  src.apply(TypeUrl.Cluster, upd('1', [['a', edsCluster('a')]], { full: true }));
  src.apply(TypeUrl.Listener, upd('1', [['l', httpListener('l', 'never')]], { full: true }));
  assert.equal(src.current().clusters.size, 0);
  assert.equal(src.current().listeners.size, 0);
  const t0 = Date.now();
  await src.ready;
  assert.ok(Date.now() - t0 >= 30, 'not before the timeout');
  assert.equal(src.current().clusters.has('a'), true);
  assert.equal(src.current().listeners.has('l'), true);
  assert.equal(src.current().routes.has('never'), false, 'the listener runs without its route table');
  assert.deepEqual(src.warming(), { listeners: [], clusters: [] });
  assert.equal(seen.at(-1), src.current());
  src.close();
});

test('no snapshot when nothing changed; Delta removals; RDS/EDS updates merge', () => {
  const src = new XdsConfigSource({ warmingTimeoutMs: 0 });
  const seen = recorder(src);
  const s = staticCluster('s');
  src.apply(TypeUrl.Cluster, upd('1', [['s', s], ['a', edsCluster('a')], ['b', edsCluster('b')]], { full: true }));
  src.apply(TypeUrl.ClusterLoadAssignment, upd('1', [['a', cla('a')]]));
  src.apply(TypeUrl.ClusterLoadAssignment, upd('1', [['b', cla('b')]]));
  assert.deepEqual([...src.current().endpoints.keys()].sort(), ['a', 'b'], 'EDS responses merge');
  const before = seen.length;
  const snap = src.current();
  src.apply(TypeUrl.Cluster, upd('1', [['s', s], ['a', snap.clusters.get('a') as Cluster], ['b', snap.clusters.get('b') as Cluster]], { full: true }));
  assert.equal(seen.length, before, 'same objects, same version: no new snapshot');
  assert.equal(src.current(), snap);
  src.apply(TypeUrl.Cluster, upd('2', [], { removed: ['b'] }));
  assert.deepEqual([...src.current().clusters.keys()].sort(), ['a', 's']);
  assert.deepEqual([...src.current().endpoints.keys()], ['a']);
  assert.equal(src.current().versions.get(TypeUrl.Cluster), '2');
  src.close();
});

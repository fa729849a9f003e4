import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pushContextFromYaml, testProxy, type TestProxyOptions } from '../../model/testing.js';
import { TypeUrl } from '../../../xds/types.js';
import { fromStruct } from '../../../xds/codec.js';
import { assertGolden } from '../golden.js';
import type { Resource } from '../types.js';
import { endpointGenerator } from './index.js';
import { lbPriority, localityMatch } from './locality.js';

type Obj = Record<string, unknown>;
interface Lle {
  locality: Obj;
  lb_endpoints: { endpoint: { address: { socket_address: { address: string; port_value: number } } }; load_balancing_weight: { value: number }; metadata: { filter_metadata: Obj } }[];
  load_balancing_weight: { value: number };
  priority?: number;
}
const REVIEWS = 'reviews.default.svc.cluster.local';

/** reviews: four workloads across localities, two versions, one with weight 3. */
const BASE = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 9080, name: http, protocol: HTTP}]
  workloadSelector: {labels: {app: reviews}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: reviews-v1, namespace: default}
spec: {address: 127.0.1.1, labels: {app: reviews, version: v1}, locality: us/east/a, ports: {http: 19080}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: reviews-v2, namespace: default}
spec: {address: 127.0.1.2, labels: {app: reviews, version: v2, security.istio.io/tlsMode: istio}, locality: us/east/b, weight: 3}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: reviews-v3, namespace: default}
spec: {address: 127.0.1.3, labels: {app: reviews, version: v3}, locality: us/west/a}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: reviews-eu, namespace: default}
spec: {address: 127.0.1.4, labels: {app: reviews, version: v3}, locality: eu/central/a}
`;

function eds(yaml: string, names: string[] | undefined, proxy: TestProxyOptions = {}): Resource[] {
  const push = pushContextFromYaml(yaml);
  return endpointGenerator.generate(testProxy({ ip: '127.0.2.1', labels: { app: 'productpage' }, locality: 'us/east/a', ...proxy }), push, names ? { names } : {});
}

function groups(r: Resource | undefined): Lle[] {
  assert.ok(r);
  return r.resource.endpoints as Lle[];
}

function addresses(r: Resource | undefined): string[] {
  return groups(r).flatMap((g) => g.lb_endpoints.map((e) => e.endpoint.address.socket_address.address)).sort();
}

function withDr(spec: string): string {
  return `${BASE}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
${spec}`;
}

const SUBSETS = `  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}, {name: v3, labels: {version: v3}}]`;

void test('EDS of a subset cluster contains exactly that subset endpoints', () => {
  const rs = eds(withDr(SUBSETS), [`outbound|9080|v2|${REVIEWS}`, `outbound|9080|v1|${REVIEWS}`, `outbound|9080||${REVIEWS}`]);
  assertGolden('eds-subsets', rs, TypeUrl.ClusterLoadAssignment);
  assert.deepEqual(addresses(rs[0]), ['127.0.1.2']);
  assert.deepEqual(addresses(rs[1]), ['127.0.1.1']);
  assert.deepEqual(addresses(rs[2]), ['127.0.1.1', '127.0.1.2', '127.0.1.3', '127.0.1.4']);
  const v1 = groups(rs[1])[0]?.lb_endpoints[0];
  assert.equal(v1?.endpoint.address.socket_address.port_value, 19080, 'the WorkloadEntry named port is the endpoint port');
});

void test('locality groups carry locality, summed weights and Istio endpoint metadata', () => {
  const [r] = eds(BASE, [`outbound|9080||${REVIEWS}`]);
  const g = groups(r);
  assert.deepEqual(g.map((x) => x.locality), [
    { region: 'eu', zone: 'central', sub_zone: 'a' },
    { region: 'us', zone: 'east', sub_zone: 'a' },
    { region: 'us', zone: 'east', sub_zone: 'b' },
    { region: 'us', zone: 'west', sub_zone: 'a' },
  ]);
  assert.deepEqual(g.map((x) => x.load_balancing_weight.value), [1, 1, 3, 1]);
  assert.ok(g.every((x) => x.priority === undefined), 'no priorities without outlier detection');
  const v2 = g[2]?.lb_endpoints[0];
  assert.deepEqual(fromStruct(v2?.metadata.filter_metadata['envoy.transport_socket_match']), { tlsMode: 'istio' });
  assert.deepEqual(fromStruct(v2?.metadata.filter_metadata.istio), { workload: 'reviews-v2;default;reviews;v2;' });
});

void test('unknown or unparsable names get an empty assignment with that name', () => {
  const rs = eds(withDr(SUBSETS), ['outbound|9080||nope.default.svc.cluster.local', `outbound|9080|v9|${REVIEWS}`, `outbound|1||${REVIEWS}`, 'garbage']);
  assert.deepEqual(rs.map((r) => r.resource), [
    { cluster_name: 'outbound|9080||nope.default.svc.cluster.local', endpoints: [] },
    { cluster_name: `outbound|9080|v9|${REVIEWS}`, endpoints: [] },
    { cluster_name: `outbound|1||${REVIEWS}`, endpoints: [] },
    { cluster_name: 'garbage', endpoints: [] },
  ]);
});

void test('locality failover priorities: same subzone 0, same zone 1, same region 2, other 3 (with outlier detection)', () => {
  const rs = eds(withDr(`  trafficPolicy: {outlierDetection: {consecutive5xxErrors: 1}}`), [`outbound|9080||${REVIEWS}`]);
  assertGolden('eds-locality-failover', rs, TypeUrl.ClusterLoadAssignment);
  const byRegionZone = Object.fromEntries(groups(rs[0]).map((g) => [`${String(g.locality.region)}/${String(g.locality.zone)}/${String(g.locality.sub_zone)}`, g.priority ?? 0]));
  assert.deepEqual(byRegionZone, { 'us/east/a': 0, 'us/east/b': 1, 'us/west/a': 2, 'eu/central/a': 3 });
});

void test('failover rule: regions other than the failover target drop below it', () => {
  const yaml = `${withDr(`  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 1}
    loadBalancer: {localityLbSetting: {failover: [{from: us, to: eu}]}}`)}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: reviews-ap, namespace: default}
spec: {address: 127.0.1.5, labels: {app: reviews}, locality: ap/south/a}
`;
  const rs = eds(yaml, [`outbound|9080||${REVIEWS}`]);
  const pr = Object.fromEntries(groups(rs[0]).map((g) => [`${String(g.locality.region)}/${String(g.locality.zone)}/${String(g.locality.sub_zone)}`, g.priority ?? 0]));
  assert.deepEqual(pr, { 'us/east/a': 0, 'us/east/b': 1, 'us/west/a': 2, 'eu/central/a': 3, 'ap/south/a': 4 });
});

void test('failoverPriority splits localities by matching labels', () => {
  const rs = eds(
    withDr(`  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 1}
    loadBalancer: {localityLbSetting: {failoverPriority: [version, topology.kubernetes.io/region]}}`),
    [`outbound|9080||${REVIEWS}`],
    { labels: { app: 'productpage', version: 'v3' } },
  );
  assertGolden('eds-failover-priority', rs, TypeUrl.ClusterLoadAssignment);
  const pr = Object.fromEntries(groups(rs[0]).flatMap((g) => g.lb_endpoints.map((e) => [e.endpoint.address.socket_address.address, g.priority ?? 0])));
  // v3 in us (same version, same region) first; v3 in eu (same version) next; other versions last.
  assert.deepEqual(pr, { '127.0.1.3': 0, '127.0.1.4': 1, '127.0.1.1': 2, '127.0.1.2': 2 });
});

void test('distribute reweights localities and drops unlisted ones', () => {
  const rs = eds(
    withDr(`  trafficPolicy:
    loadBalancer: {localityLbSetting: {distribute: [{from: us/east/*, to: {us/east/*: 80, us/west/*: 20}}]}}`),
    [`outbound|9080||${REVIEWS}`],
  );
  assertGolden('eds-locality-distribute', rs, TypeUrl.ClusterLoadAssignment);
  const w = Object.fromEntries(groups(rs[0]).map((g) => [`${String(g.locality.zone)}/${String(g.locality.sub_zone)}`, g.load_balancing_weight.value]));
  // us/east/a (weight 1) and us/east/b (weight 3) share 80 by their weights; us/west/* gets 20; eu is dropped.
  assert.deepEqual(w, { 'east/a': 20, 'east/b': 60, 'west/a': 20 });
});

void test('locality LB disabled in the DestinationRule: no priorities', () => {
  const rs = eds(withDr(`  trafficPolicy: {outlierDetection: {consecutive5xxErrors: 1}, loadBalancer: {localityLbSetting: {enabled: false}}}`), [`outbound|9080||${REVIEWS}`]);
  assert.ok(groups(rs[0]).every((g) => g.priority === undefined));
});

void test('without names (debug dumps) EDS covers every EDS cluster of the proxy', () => {
  const rs = eds(withDr(SUBSETS), undefined);
  assert.deepEqual(rs.map((r) => r.name).sort(), [`outbound|9080||${REVIEWS}`, `outbound|9080|v1|${REVIEWS}`, `outbound|9080|v2|${REVIEWS}`, `outbound|9080|v3|${REVIEWS}`].sort());
});

void test('proxyless gRPC: every locality has a locality and a weight, priorities contiguous', () => {
  const rs = eds(withDr(`  trafficPolicy: {outlierDetection: {consecutive5xxErrors: 1}}`), [`outbound|9080||${REVIEWS}`], { isGrpc: true, metadata: { GENERATOR: 'grpc' } });
  const g = groups(rs[0]);
  assert.ok(g.every((x) => x.locality && x.load_balancing_weight.value > 0));
  const ps = [...new Set(g.map((x) => x.priority ?? 0))].sort();
  assert.deepEqual(ps, ps.map((_, i) => i));
});

void test('locality helpers follow Istio', () => {
  const l = { region: 'us', zone: 'east', sub_zone: 'a' };
  assert.equal(lbPriority(l, { region: 'us', zone: 'east', sub_zone: 'a' }), 0);
  assert.equal(lbPriority(l, { region: 'us', zone: 'east', sub_zone: 'b' }), 1);
  assert.equal(lbPriority(l, { region: 'us', zone: 'west', sub_zone: 'a' }), 2);
  assert.equal(lbPriority(l, { region: 'eu', zone: 'east', sub_zone: 'a' }), 3);
  assert.ok(localityMatch(l, 'us/*'));
  assert.ok(localityMatch(l, 'us'));
  assert.ok(localityMatch(l, '*'));
  assert.ok(!localityMatch(l, 'us/west/*'));
});

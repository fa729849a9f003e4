// Pins down what @grpc/grpc-js-xds 1.14 accepts, against a fake ADS server serving istiod-shaped resources: the
// executable half of GRPC-XDS-NOTES.md (so the generator authors can trust it), independent of `isthmus discovery`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import grpc from '@grpc/grpc-js';
import { FakeAds } from '../support/fake-ads.js';
import { startEchoServers } from '../support/echo-server.js';
import type { EchoServer } from '../support/echo-server.js';
import { XdsEchoClient, describe as show, makeBootstrap } from '../support/xds-client.js';
import { TypeUrl, apiListener, clusterRoute, edsCluster, loadAssignment, routeConfig, routeName } from '../support/grpc-reference-xds.js';

const HOST = 'reviews.default.svc.cluster.local';
const HP = `${HOST}:9080`;
const V1 = `outbound|9080|v1|${HOST}`;
const RDS = routeName(HP);

void describe('grpc-js-xds against istiod-shaped resources (fake ADS)', () => {
  const ads = new FakeAds();
  let servers: EchoServer[] = [];
  let n = 0;
  const clients: XdsEchoClient[] = [];

  const client = (): XdsEchoClient => {
    const c = new XdsEchoClient(`xds:///${HP}`, makeBootstrap({ serverUri: ads.address, namespace: 'default', podName: `shapes-${++n}` }));
    clients.push(c);
    c.connect();
    return c;
  };
  const server = (i: number): EchoServer => {
    const s = servers[i];
    assert.ok(s);
    return s;
  };
  /** Waits until the fake server has recorded a request matching `pred`. */
  const waitRequest = async (pred: (r: (typeof ads.requests)[number]) => boolean, ms = 5000): Promise<void> => {
    const end = Date.now() + ms;
    while (!ads.requests.some(pred)) {
      if (Date.now() > end) assert.fail(`no matching DiscoveryRequest within ${ms} ms; got ${JSON.stringify(ads.requests.slice(-6))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const serveGood = (): void => {
    ads.set(TypeUrl.Listener, HP, apiListener(HP));
    ads.set(TypeUrl.RouteConfiguration, RDS, routeConfig(HP, [clusterRoute(V1)]));
    ads.set(TypeUrl.Cluster, V1, edsCluster(V1));
    ads.set(TypeUrl.ClusterLoadAssignment, V1, loadAssignment(V1, [{ address: '127.0.0.1', port: server(0).port }]));
  };

  before(async () => {
    servers = await startEchoServers(['reviews-v1']);
    await ads.start();
  });
  after(async () => {
    for (const c of clients) c.close();
    ads.close();
    await Promise.all(servers.map((s) => s.close()));
  });

  void test('istiod-shaped LDS→RDS→CDS→EDS resolves; every type is a named subscription; node carries GENERATOR=grpc', async () => {
    serveGood();
    const c = client();
    const r = await c.until((x) => x.ok, 10000);
    assert.ok(r.ok && r.reply.server === 'reviews-v1', show(r));
    const byType = (t: string): string[] => ads.requests.find((q) => q.typeUrl === t)?.names ?? [];
    assert.deepEqual(byType(TypeUrl.Listener), [HP]);
    assert.deepEqual(byType(TypeUrl.RouteConfiguration), [RDS]);
    assert.deepEqual(byType(TypeUrl.Cluster), [V1]);
    assert.deepEqual(byType(TypeUrl.ClusterLoadAssignment), [V1]);
    const node = ads.requests.find((q) => q.node)?.node;
    assert.match(JSON.stringify(node), /"GENERATOR"/);
    assert.equal(ads.nacks().length, 0, JSON.stringify(ads.nacks()));
    c.close();
  });

  void test('a locality without load_balancing_weight is silently dropped (RPCs fail, no NACK)', async () => {
    serveGood();
    ads.set(TypeUrl.ClusterLoadAssignment, V1, loadAssignment(V1, [{ address: '127.0.0.1', port: server(0).port }], { localityWeight: null }));
    const c = client();
    const r = await c.call({ deadlineMs: 1500 });
    assert.ok(!r.ok, show(r));
    assert.equal(ads.nacks(TypeUrl.ClusterLoadAssignment).length, 0);
    c.close();
  });

  void test('retry_policy with num_retries 0 NACKs the RouteConfiguration', async () => {
    serveGood();
    const before = ads.nacks(TypeUrl.RouteConfiguration).length;
    ads.set(TypeUrl.RouteConfiguration, RDS, routeConfig(HP, [clusterRoute(V1, { retry: { retry_on: 'unavailable', num_retries: { value: 0 } } })]));
    const c = client();
    await waitRequest((q) => q.typeUrl === TypeUrl.RouteConfiguration && /num_retries/.test(q.errorDetail ?? ''));
    assert.ok(ads.nacks(TypeUrl.RouteConfiguration).length > before);
    c.close();
  });

  void test('a redirect route NACKs the whole RouteConfiguration', async () => {
    serveGood();
    const redirect = { name: 'r', match: { prefix: '/other' }, redirect: { host_redirect: 'x' } };
    ads.set(TypeUrl.RouteConfiguration, RDS, routeConfig(HP, [redirect, clusterRoute(V1)]));
    const c = client();
    await waitRequest((q) => q.typeUrl === TypeUrl.RouteConfiguration && /unsupported action/.test(q.errorDetail ?? ''));
    c.close();
  });

  void test('lb_policy LEAST_REQUEST NACKs the Cluster; RING_HASH is accepted', async () => {
    serveGood();
    ads.set(TypeUrl.Cluster, V1, edsCluster(V1, { lb_policy: 'LEAST_REQUEST' }));
    const c = client();
    await waitRequest((q) => q.typeUrl === TypeUrl.Cluster && /unsupported lb_policy/.test(q.errorDetail ?? ''));
    c.close();
    ads.set(TypeUrl.Cluster, V1, edsCluster(V1, { lb_policy: 'RING_HASH', ring_hash_lb_config: { minimum_ring_size: { value: 1024 } } }));
    const c2 = client();
    const r = await c2.until((x) => x.ok, 10000);
    assert.ok(r.ok, show(r));
    const lastCds = ads.requests.filter((q) => q.typeUrl === TypeUrl.Cluster && q.names.length > 0).at(-1);
    assert.equal(lastCds?.errorDetail, undefined, 'RING_HASH cluster ACKed');
    c2.close();
  });

  void test('the router filter must be last', async () => {
    serveGood();
    ads.set(
      TypeUrl.Listener,
      HP,
      apiListener(HP, { httpFilters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }, { name: 'envoy.filters.http.fault', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault' } }] }),
    );
    const c = client();
    await waitRequest((q) => q.typeUrl === TypeUrl.Listener && /router filter is before the end/.test(q.errorDetail ?? ''));
    c.close();
  });

  void test('route fault abort (grpc_status) fails the call with that code and is not retried', async () => {
    serveGood();
    ads.set(
      TypeUrl.RouteConfiguration,
      RDS,
      routeConfig(HP, [clusterRoute(V1, { fault: { abort: { grpc_status: grpc.status.RESOURCE_EXHAUSTED, percentage: { numerator: 100, denominator: 'HUNDRED' } } } })]),
    );
    const c = client();
    const callsBefore = server(0).calls;
    const r = await c.until((x) => !x.ok && x.code === grpc.status.RESOURCE_EXHAUSTED, 10000);
    assert.ok(!r.ok);
    assert.equal(server(0).calls, callsBefore, 'an injected abort never reaches the server');
    c.close();
  });
});

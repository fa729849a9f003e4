// Proxyless gRPC LDS/RDS: API listeners by requested name, route configurations by `outbound|PORT||HOST`, checked by
// golden files, by @grpc/grpc-js-xds's own resource validators (what a real client would NACK), and the simulator.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { encode } from '../../../xds/codec.js';
import { TypeUrl } from '../../../xds/types.js';
import { pushContextFromYaml, testProxy } from '../../model/testing.js';
import { assertGolden } from '../golden.js';
import { byName, lds, rds } from '../../../../test/simulation/gen.js';
import { BOOKINFO, REVIEWS, join, outbound } from '../../../../test/simulation/fixtures.js';
import { buildSnapshot } from '../../../../test/simulation/harness.js';
import { simulate } from '../../../../test/simulation/simulate.js';
import type { Resource } from '../types.js';

type Obj = Record<string, unknown>;
interface Decoded { name: string; error?: string }
interface ResourceType { decode(ctx: unknown, r: { type_url: string; value: Buffer }): Decoded }

const require = createRequire(import.meta.url);
const xds = require('@grpc/grpc-js-xds') as { register(): void };
const { ListenerResourceType } = require('@grpc/grpc-js-xds/build/src/xds-resource-type/listener-resource-type.js') as { ListenerResourceType: { get(): ResourceType } };
const { RouteConfigurationResourceType } = require('@grpc/grpc-js-xds/build/src/xds-resource-type/route-config-resource-type.js') as { RouteConfigurationResourceType: { get(): ResourceType } };
xds.register(); // registers the fault and router HTTP filters the validators look up

/** What grpc-js-xds says about our resources: the validation errors it would NACK with. */
function grpcErrors(type: ResourceType, typeUrl: string, resources: readonly Resource[]): string[] {
  const ctx = { bootstrap: { certificateProviders: {} } };
  return resources.flatMap((r) => {
    const d = type.decode(ctx, { type_url: typeUrl, value: Buffer.from(encode(typeUrl, r.resource)) });
    return d.error ? [`${r.name}: ${d.error}`] : [];
  });
}

const ROUTING = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - name: jason
    match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - name: faulty
    match: [{uri: {prefix: /reviews.Reviews/Fail}}]
    fault: {abort: {grpcStatus: UNAVAILABLE, percentage: {value: 100}}, delay: {fixedDelay: 1s, percentage: {value: 50}}}
    route: [{destination: {host: reviews, subset: v1}}]
  - name: moved
    match: [{uri: {prefix: /old}}]
    redirect: {uri: /new}
  - name: by-query
    match: [{queryParams: {a: {exact: "1"}}}]
    route: [{destination: {host: reviews, subset: v3}}]
  - name: split
    timeout: 2s
    retries: {attempts: 3, retryOn: "unavailable,cancelled"}
    corsPolicy: {allowOrigins: [{exact: "https://x"}]}
    route:
    - {destination: {host: reviews, subset: v1}, weight: 90}
    - {destination: {host: reviews, subset: v3}, weight: 10}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings}
spec:
  host: ratings
  trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x-user}}}`;

const client = testProxy({ labels: { app: 'productpage', version: 'v1' }, ip: '10.0.0.10', name: 'productpage-v1', isGrpc: true, metadata: { GENERATOR: 'grpc' } });

void describe('proxyless gRPC', () => {
  const push = pushContextFromYaml(join(BOOKINFO, ROUTING));
  const names = [`${REVIEWS}:9080`, 'reviews:9080', 'ratings.default.svc.cluster.local:9080', 'nosuch.default.svc.cluster.local:9080', 'xds.istio.io/grpc/lds/inbound/10.0.0.10:9080'];

  void it('answers requested listener names with API listeners that grpc-js-xds accepts', () => {
    const listeners = lds(push, client, names);
    assertGolden('grpc-listeners', listeners, TypeUrl.Listener);
    assert.deepEqual(listeners.map((l) => l.name), ['ratings.default.svc.cluster.local:9080', 'reviews:9080', `${REVIEWS}:9080`, 'xds.istio.io/grpc/lds/inbound/10.0.0.10:9080']);
    const hcm = (byName(listeners, 'reviews:9080').api_listener as Obj).api_listener as Obj;
    assert.equal((hcm.rds as Obj).route_config_name, outbound(REVIEWS));
    assert.deepEqual(grpcErrors(ListenerResourceType.get(), TypeUrl.Listener, listeners), []);
  });

  void it('answers RDS with the service virtual host, minus what gRPC cannot run, and grpc-js-xds accepts it', () => {
    const routes = rds(push, client, [outbound(REVIEWS), outbound('ratings.default.svc.cluster.local'), 'reviews:9080']);
    assertGolden('grpc-routes', routes, TypeUrl.RouteConfiguration);
    assert.deepEqual(grpcErrors(RouteConfigurationResourceType.get(), TypeUrl.RouteConfiguration, routes), []);
    // The validator does reject what we strip (so the check above is meaningful).
    const redirect = { name: 'x', resource: { name: 'x', virtual_hosts: [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, redirect: { path_redirect: '/' } }] }] } };
    assert.equal(grpcErrors(RouteConfigurationResourceType.get(), TypeUrl.RouteConfiguration, [redirect]).length, 1);
    const rc = byName(routes, outbound(REVIEWS));
    const vhosts = rc.virtual_hosts as Obj[];
    assert.equal(vhosts.length, 1);
    assert.ok((vhosts[0].domains as string[]).includes(`${REVIEWS}:9080`));
    const rs = vhosts[0].routes as Obj[];
    assert.deepEqual(rs.map((r) => r.name), ['jason', 'faulty', 'split'], 'redirect and query-matching routes dropped');
    const split = rs[2];
    assert.equal(split.typed_per_filter_config, undefined, 'CORS dropped');
    assert.deepEqual((split.route as Obj).max_stream_duration, { max_stream_duration: { seconds: 2, nanos: 0 } });
    assert.equal(((split.route as Obj).retry_policy as Obj).retry_on, 'unavailable,cancelled');
    const ratings = (byName(routes, outbound('ratings.default.svc.cluster.local')).virtual_hosts as Obj[])[0];
    assert.deepEqual(((ratings.routes as Obj[])[0].route as Obj).hash_policy, [{ header: { header_name: 'x-user' } }]);
    assert.deepEqual(byName(routes, 'reviews:9080').virtual_hosts, vhosts, 'host:port names work too');
  });

  void it('routes calls as the gRPC client would', () => {
    const snap = buildSnapshot(push, client, names);
    const call = (headers: Record<string, string>, path = '/reviews.Reviews/Get') =>
      simulate(snap, { listenerName: `${REVIEWS}:9080`, port: 9080, host: `${REVIEWS}:9080`, path, method: 'POST', protocol: 'grpc', headers });
    assert.equal(call({ 'end-user': 'jason' }).cluster, outbound(REVIEWS, 9080, 'v2'));
    assert.deepEqual(call({}).weightedClusters, [
      { name: outbound(REVIEWS, 9080, 'v1'), weight: 90 },
      { name: outbound(REVIEWS, 9080, 'v3'), weight: 10 },
    ]);
    const fail = call({}, '/reviews.Reviews/Fail');
    assert.equal(fail.route, 'faulty');
    assert.equal(((fail.routeObj!.typed_per_filter_config as Obj)['envoy.filters.http.fault'] as Obj & { abort: Obj }).abort.grpc_status, 14);
    const none = simulate(snap, { listenerName: 'nosuch.default.svc.cluster.local:9080', port: 9080 });
    assert.match(none.error ?? '', /no listener/);
  });
});

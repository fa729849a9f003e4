// Sidecar RDS per-route policies: fault, mirroring, header mutations, CORS, direct response, delegation — golden
// RouteConfigurations plus behaviour through the simulator.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '../../../xds/types.js';
import { pushContextFromYaml, testProxy } from '../../model/testing.js';
import type { PushContext } from '../../model/types.js';
import { assertGolden } from '../golden.js';
import { byName, rds } from '../../../../test/simulation/gen.js';
import { REVIEWS, join, outbound, serviceEntry, workloadEntry } from '../../../../test/simulation/fixtures.js';
import { simulateProxy } from '../../../../test/simulation/harness.js';
import type { SimRequest, SimResult } from '../../../../test/simulation/simulate.js';

type Obj = Record<string, unknown>;
const RATINGS = 'ratings.default.svc.cluster.local';

const BASE = join(
  serviceEntry('reviews'),
  serviceEntry('ratings'),
  workloadEntry('reviews-v1', 'reviews', '10.0.0.13', { version: 'v1' }),
  workloadEntry('reviews-v2', 'reviews', '10.0.0.14', { version: 'v2' }),
  workloadEntry('ratings-v1', 'ratings', '10.0.0.12', { version: 'v1' }),
  `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}`,
);

const vs = (http: string, name = 'reviews', hosts = '[reviews]'): string => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}}
spec:
  hosts: ${hosts}
  http:
${http}`;

const productpage = testProxy({ labels: { app: 'productpage' }, ip: '10.0.0.10' });

function setup(name: string, yaml: string): { push: PushContext; sim: (r: Partial<SimRequest>) => SimResult } {
  const push = pushContextFromYaml(join(BASE, yaml));
  assertGolden(`route-${name}`, rds(push, productpage, ['9080']), TypeUrl.RouteConfiguration);
  return { push, sim: (r) => simulateProxy(push, productpage, { port: 9080, host: 'reviews', ...r }) };
}

const perFilter = (r: SimResult, filter: string): Obj | undefined => (r.routeObj?.typed_per_filter_config as Obj | undefined)?.[filter] as Obj | undefined;

void describe('sidecar route policies', () => {
  void it('injects faults: fixed delay with a fractional percentage, HTTP and gRPC aborts', () => {
    const { sim } = setup(
      'fault',
      vs(`
  - match: [{uri: {prefix: /delay}}]
    fault: {delay: {fixedDelay: 5s, percentage: {value: 10.5}}}
    route: [{destination: {host: reviews}}]
  - match: [{uri: {prefix: /abort}}]
    fault: {abort: {httpStatus: 503, percentage: {value: 50}}}
    route: [{destination: {host: reviews}}]
  - match: [{uri: {prefix: /grpc}}]
    fault: {abort: {grpcStatus: UNAVAILABLE}, delay: {fixedDelay: 100ms, percent: 20}}
    route: [{destination: {host: reviews}}]
  - route: [{destination: {host: reviews}}]`),
    );
    const type = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';
    assert.deepEqual(perFilter(sim({ path: '/delay' }), 'envoy.filters.http.fault'), {
      '@type': type,
      delay: { fixed_delay: { seconds: 5, nanos: 0 }, percentage: { numerator: 105000, denominator: 'MILLION' } },
    });
    assert.deepEqual(perFilter(sim({ path: '/abort' }), 'envoy.filters.http.fault'), {
      '@type': type,
      abort: { http_status: 503, percentage: { numerator: 500000, denominator: 'MILLION' } },
    });
    assert.deepEqual(perFilter(sim({ path: '/grpc' }), 'envoy.filters.http.fault'), {
      '@type': type,
      delay: { fixed_delay: { seconds: 0, nanos: 100_000_000 }, percentage: { numerator: 20, denominator: 'HUNDRED' } },
      abort: { grpc_status: 14, percentage: { numerator: 0, denominator: 'HUNDRED' } },
    });
    assert.equal(perFilter(sim({ path: '/' }), 'envoy.filters.http.fault'), undefined);
  });

  void it('mirrors with mirror/mirrorPercentage and mirrors with per-mirror percentages', () => {
    const { sim } = setup(
      'mirror',
      vs(`
  - match: [{uri: {prefix: /legacy}}]
    mirror: {host: ratings}
    mirrorPercentage: {value: 25}
    route: [{destination: {host: reviews, subset: v1}}]
  - match: [{uri: {prefix: /off}}]
    mirror: {host: ratings}
    mirrorPercentage: {value: 0}
    route: [{destination: {host: reviews, subset: v1}}]
  - route: [{destination: {host: reviews, subset: v1}}]
    mirrors:
    - {destination: {host: ratings}, percentage: {value: 10}}
    - {destination: {host: reviews, subset: v2}}`),
    );
    const mirrors = (r: SimResult): unknown => (r.routeObj?.route as Obj).request_mirror_policies;
    assert.deepEqual(mirrors(sim({ path: '/legacy' })), [
      { cluster: outbound(RATINGS), runtime_fraction: { default_value: { numerator: 250000, denominator: 'MILLION' } }, trace_sampled: { value: false } },
    ]);
    assert.equal(mirrors(sim({ path: '/off' })), undefined);
    assert.deepEqual(mirrors(sim({ path: '/' })), [
      { cluster: outbound(RATINGS), runtime_fraction: { default_value: { numerator: 100000, denominator: 'MILLION' } }, trace_sampled: { value: false } },
      { cluster: outbound(REVIEWS, 9080, 'v2'), runtime_fraction: { default_value: { numerator: 100, denominator: 'HUNDRED' } }, trace_sampled: { value: false } },
    ]);
  });

  void it('mutates request and response headers per route and per destination; :authority becomes a host rewrite', () => {
    const { sim } = setup(
      'headers',
      vs(`
  - match: [{uri: {prefix: /single}}]
    headers:
      request: {set: {x-set: a, ":authority": rewritten.example.com}, add: {x-add: b}, remove: [x-remove]}
      response: {set: {x-resp: c}, add: {x-resp-add: d}, remove: [server]}
    route:
    - destination: {host: reviews, subset: v1}
      headers: {request: {set: {x-dest: v1}}, response: {add: {x-from: v1}}}
  - route:
    - destination: {host: reviews, subset: v1}
      weight: 50
      headers: {request: {set: {x-dest: v1, host: v1.example.com}}}
    - destination: {host: reviews, subset: v2}
      weight: 50
      headers: {response: {remove: [x-internal]}}`),
    );
    const single = sim({ path: '/single' });
    const r = single.routeObj!;
    assert.deepEqual(r.request_headers_to_add, [
      { header: { key: 'x-set', value: 'a' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
      { header: { key: 'x-add', value: 'b' }, append_action: 'APPEND_IF_EXISTS_OR_ADD' },
      { header: { key: 'x-dest', value: 'v1' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
    ]);
    assert.deepEqual(r.request_headers_to_remove, ['x-remove']);
    assert.deepEqual(r.response_headers_to_remove, ['server']);
    assert.equal((r.response_headers_to_add as unknown[]).length, 3);
    assert.equal(single.hostRewrite, 'rewritten.example.com');
    const weighted = (sim({ path: '/' }).routeObj!.route as Obj).weighted_clusters as { clusters: Obj[] };
    assert.deepEqual(weighted.clusters[0], {
      name: outbound(REVIEWS, 9080, 'v1'),
      weight: { value: 50 },
      request_headers_to_add: [{ header: { key: 'x-dest', value: 'v1' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
      host_rewrite_literal: 'v1.example.com',
    });
    assert.deepEqual(weighted.clusters[1].response_headers_to_remove, ['x-internal']);
  });

  void it('attaches CORS policies', () => {
    const { sim } = setup(
      'cors',
      vs(`
  - corsPolicy:
      allowOrigins: [{exact: "https://a.example.com"}, {prefix: "https://b."}, {regex: ".*\\\\.c\\\\.example\\\\.com"}]
      allowMethods: [GET, POST]
      allowHeaders: [x-a, x-b]
      exposeHeaders: [x-c]
      maxAge: 24h
      allowCredentials: true
    route: [{destination: {host: reviews}}]`),
    );
    assert.deepEqual(perFilter(sim({}), 'envoy.filters.http.cors'), {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy',
      forward_not_matching_preflights: { value: true },
      allow_origin_string_match: [{ exact: 'https://a.example.com' }, { prefix: 'https://b.' }, { safe_regex: { regex: '.*\\.c\\.example\\.com' } }],
      filter_enabled: { default_value: { numerator: 100, denominator: 'HUNDRED' } },
      allow_credentials: { value: true },
      allow_headers: 'x-a,x-b',
      allow_methods: 'GET,POST',
      expose_headers: 'x-c',
      max_age: '86400',
    });
  });

  void it('answers directly', () => {
    const { sim } = setup(
      'direct-response',
      vs(`
  - match: [{uri: {exact: /maintenance}}]
    directResponse: {status: 503, body: {string: "down for maintenance"}}
  - route: [{destination: {host: reviews}}]`),
    );
    assert.deepEqual(sim({ path: '/maintenance' }).directResponse, { status: 503, body: 'down for maintenance' });
    assert.equal(sim({ path: '/maintenance' }).status, 503);
    assert.equal(sim({ path: '/other' }).cluster, outbound(REVIEWS));
  });

  void it('expands delegate VirtualServices with merged matches and inherited settings', () => {
    const yaml = join(
      vs(
        `
  - name: to-delegate
    match: [{uri: {prefix: /reviews}}]
    timeout: 7s
    delegate: {name: reviews-delegate}
  - name: rest
    route: [{destination: {host: ratings}}]`,
        'root',
      ),
      `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-delegate}
spec:
  http:
  - name: v2
    match: [{uri: {prefix: /reviews/v2}, headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - name: conflicting
    match: [{uri: {prefix: /other}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - name: v1
    route: [{destination: {host: reviews, subset: v1}}]`,
    );
    const { sim } = setup('delegate', yaml);
    const jason = sim({ path: '/reviews/v2/x', headers: { 'end-user': 'jason' } });
    assert.equal(jason.route, 'to-delegate-v2');
    assert.equal(jason.cluster, outbound(REVIEWS, 9080, 'v2'));
    assert.deepEqual((jason.routeObj!.route as Obj).timeout, { seconds: 7, nanos: 0 });
    assert.equal(sim({ path: '/reviews/v2/x' }).cluster, outbound(REVIEWS, 9080, 'v1'));
    assert.equal(sim({ path: '/other' }).route, 'rest');
    assert.equal(sim({ path: '/x' }).cluster, outbound(RATINGS));
  });

  void it('keeps the whole RouteConfiguration valid when a VirtualService host has no service on the port', () => {
    const push = pushContextFromYaml(join(BASE, vs(`  - route: [{destination: {host: reviews}}]`, 'ext', '[api.example.com]')));
    const rc = byName(rds(push, productpage, ['9080']), '9080');
    assert.ok(!(rc.virtual_hosts as Obj[]).some((v) => v.name === 'api.example.com:9080'));
  });
});

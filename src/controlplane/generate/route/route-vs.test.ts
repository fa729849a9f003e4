// Sidecar RDS from VirtualServices: match kinds, weights, redirect, rewrites, timeout, retries, defaults — golden
// RouteConfigurations plus the behaviour the simulator derives from them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '../../../xds/types.js';
import { pushContextFromYaml, testProxy } from '../../model/testing.js';
import type { PushContext } from '../../model/types.js';
import { assertGolden } from '../golden.js';
import { byName, rds, vhost } from '../../../../test/simulation/gen.js';
import { REVIEWS, join, outbound, serviceEntry, workloadEntry } from '../../../../test/simulation/fixtures.js';
import { simulateProxy } from '../../../../test/simulation/harness.js';
import type { SimRequest } from '../../../../test/simulation/simulate.js';

type Obj = Record<string, unknown>;

const BASE = join(
  serviceEntry('reviews'),
  serviceEntry('ratings'),
  workloadEntry('reviews-v1', 'reviews', '10.0.0.13', { version: 'v1' }),
  workloadEntry('reviews-v2', 'reviews', '10.0.0.14', { version: 'v2' }),
  workloadEntry('reviews-v3', 'reviews', '10.0.0.15', { version: 'v3' }),
  workloadEntry('ratings-v1', 'ratings', '10.0.0.12', { version: 'v1' }),
  `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}`,
);

const vs = (http: string): string => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
${http}`;

const productpage = testProxy({ labels: { app: 'productpage', version: 'v1' }, ip: '10.0.0.10' });

function setup(yaml: string): { push: PushContext; sim: (r: Omit<SimRequest, 'port'> & { port?: number }) => ReturnType<typeof simulateProxy> } {
  const push = pushContextFromYaml(join(BASE, yaml));
  return { push, sim: (r) => simulateProxy(push, productpage, { port: 9080, host: 'reviews', ...r }) };
}

function golden(name: string, push: PushContext): Obj {
  const rcs = rds(push, productpage, ['9080']);
  assertGolden(`route-${name}`, rcs, TypeUrl.RouteConfiguration);
  return byName(rcs, '9080');
}

void describe('sidecar routes from VirtualServices', () => {
  void it('without a VirtualService: default route with Istio retry defaults, no timeout, all domain forms, allow_any', () => {
    const { push, sim } = setup('');
    const rc = golden('default', push);
    const vh = vhost(rc, `${REVIEWS}:9080`);
    assert.deepEqual(vh.domains, [REVIEWS, `${REVIEWS}:9080`, 'reviews', 'reviews:9080', 'reviews.default.svc', 'reviews.default.svc:9080', 'reviews.default', 'reviews.default:9080']);
    const route = (vh.routes as Obj[])[0].route as Obj;
    assert.deepEqual(route.timeout, { seconds: 0, nanos: 0 });
    assert.deepEqual(route.retry_policy, {
      retry_on: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
      num_retries: { value: 2 },
      retriable_status_codes: [503],
      host_selection_retry_max_attempts: 5,
      retry_host_predicate: [{ name: 'envoy.retry_host_predicates.previous_hosts', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate' } }],
    });
    assert.equal(sim({}).cluster, outbound(REVIEWS));
    assert.equal(sim({ host: 'reviews.default.svc.cluster.local:9080' }).cluster, outbound(REVIEWS));
    assert.equal(sim({ host: 'ratings.default' }).cluster, outbound('ratings.default.svc.cluster.local'));
    const unknown = sim({ host: 'example.com' });
    assert.equal(unknown.virtualHost, 'allow_any');
    assert.equal(unknown.cluster, 'PassthroughCluster');
  });

  void it('short names of other namespaces need the namespace', () => {
    const push = pushContextFromYaml(join(BASE, serviceEntry('other', { ns: 'team' })));
    const rc = byName(rds(push, productpage, ['9080']), '9080');
    const vh = vhost(rc, 'other.team.svc.cluster.local:9080');
    assert.deepEqual(vh.domains, ['other.team.svc.cluster.local', 'other.team.svc.cluster.local:9080', 'other.team', 'other.team:9080', 'other.team.svc', 'other.team.svc:9080']);
  });

  void it('translates every match kind and filters matches by port, source labels and namespace', () => {
    const { push, sim } = setup(
      vs(`
  - name: exact
    match: [{uri: {exact: /exact}}]
    route: [{destination: {host: reviews, subset: v1}}]
  - name: prefix-ci
    match: [{uri: {prefix: /Prefix}, ignoreUriCase: true}]
    route: [{destination: {host: reviews, subset: v2}}]
  - name: regex
    match: [{uri: {regex: "/re/[0-9]+"}}]
    route: [{destination: {host: reviews, subset: v3}}]
  - name: headers
    match: [{headers: {end-user: {exact: jason}, x-prefix: {prefix: ab}, x-re: {regex: "v[0-9]"}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - name: without
    match: [{uri: {prefix: /without}, withoutHeaders: {x-skip: {exact: "yes"}}}]
    route: [{destination: {host: reviews, subset: v3}}]
  - name: query
    match: [{queryParams: {debug: {exact: "1"}, trace: {}}}]
    route: [{destination: {host: reviews, subset: v3}}]
  - name: method-authority-scheme
    match:
    - {name: post, method: {exact: POST}, uri: {prefix: /m}}
    - {name: auth, authority: {prefix: reviews.default}, uri: {prefix: /a}}
    - {name: https, scheme: {exact: https}, uri: {prefix: /s}}
    route: [{destination: {host: reviews, subset: v1}}]
  - name: other-port
    match: [{port: 8080, uri: {prefix: /port}}]
    route: [{destination: {host: reviews, subset: v3}}]
  - name: from-productpage
    match: [{sourceLabels: {app: productpage}, uri: {prefix: /src}}, {sourceLabels: {app: details}, uri: {prefix: /src-details}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - name: other-namespace
    match: [{sourceNamespace: elsewhere, uri: {prefix: /ns}}]
    route: [{destination: {host: reviews, subset: v3}}]
  - name: fallback
    route: [{destination: {host: reviews, subset: v1}}]`),
    );
    const rc = golden('match', push);
    const names = (vhost(rc, `${REVIEWS}:9080`).routes as Obj[]).map((r) => r.name);
    assert.deepEqual(names, ['exact', 'prefix-ci', 'regex', 'headers', 'without', 'query', 'method-authority-scheme.post', 'method-authority-scheme.auth', 'method-authority-scheme.https', 'from-productpage', 'fallback']);

    const v = (s: string): string => outbound(REVIEWS, 9080, s);
    assert.equal(sim({ path: '/exact' }).cluster, v('v1'));
    assert.equal(sim({ path: '/exact/more' }).route, 'fallback');
    assert.equal(sim({ path: '/pREFIX/x' }).cluster, v('v2'));
    assert.equal(sim({ path: '/re/42' }).cluster, v('v3'));
    assert.equal(sim({ path: '/re/x' }).route, 'fallback');
    assert.equal(sim({ headers: { 'end-user': 'jason', 'x-prefix': 'abc', 'x-re': 'v7' } }).route, 'headers');
    assert.equal(sim({ headers: { 'end-user': 'jason', 'x-prefix': 'abc', 'x-re': 'v77' } }).route, 'fallback');
    assert.equal(sim({ path: '/without' }).route, 'without');
    assert.equal(sim({ path: '/without', headers: { 'x-skip': 'no' } }).route, 'without');
    assert.equal(sim({ path: '/without', headers: { 'x-skip': 'yes' } }).route, 'fallback');
    assert.equal(sim({ path: '/q?debug=1&trace' }).route, 'query');
    assert.equal(sim({ path: '/q?debug=1' }).route, 'fallback');
    assert.equal(sim({ path: '/m', method: 'POST' }).route, 'method-authority-scheme.post');
    assert.equal(sim({ path: '/m' }).route, 'fallback');
    assert.equal(sim({ path: '/a', host: 'reviews.default:9080' }).route, 'method-authority-scheme.auth');
    assert.equal(sim({ path: '/a' }).route, 'fallback');
    assert.equal(sim({ path: '/s', headers: { ':scheme': 'https' } }).route, 'method-authority-scheme.https');
    assert.equal(sim({ path: '/port' }).route, 'fallback');
    assert.equal(sim({ path: '/src-details' }).route, 'from-productpage');
    assert.equal(sim({ path: '/ns' }).route, 'fallback');
  });

  void it('splits traffic by weight and drops zero-weight destinations', () => {
    const { push, sim } = setup(
      vs(`
  - route:
    - {destination: {host: reviews, subset: v1}, weight: 50}
    - {destination: {host: reviews, subset: v2}, weight: 30}
    - {destination: {host: reviews, subset: v3}, weight: 20}
    - {destination: {host: ratings}, weight: 0}`),
    );
    golden('weights', push);
    assert.deepEqual(sim({}).weightedClusters, [
      { name: outbound(REVIEWS, 9080, 'v1'), weight: 50 },
      { name: outbound(REVIEWS, 9080, 'v2'), weight: 30 },
      { name: outbound(REVIEWS, 9080, 'v3'), weight: 20 },
    ]);
    assert.equal(sim({}).missingCluster, undefined);
  });

  void it('redirects with Istio response codes and derived ports', () => {
    const { push, sim } = setup(
      vs(`
  - match: [{uri: {exact: /old}}]
    redirect: {uri: /new, authority: other.example.com, port: 8443, scheme: https, redirectCode: 308}
  - match: [{uri: {exact: /here}}]
    redirect: {uri: /there, derivePort: FROM_REQUEST_PORT}
  - match: [{uri: {exact: /http80}}]
    redirect: {authority: a.example.com, port: 80}
  - route: [{destination: {host: reviews}}]`),
    );
    golden('redirect', push);
    const r = sim({ path: '/old' });
    assert.equal(r.status, 308);
    assert.deepEqual(r.redirect, { host_redirect: 'other.example.com', path_redirect: '/new', scheme_redirect: 'https', port_redirect: 8443, response_code: 'PERMANENT_REDIRECT' });
    assert.deepEqual(sim({ path: '/here' }).redirect, { path_redirect: '/there', port_redirect: 9080, response_code: 'MOVED_PERMANENTLY' });
    assert.deepEqual(sim({ path: '/http80' }).redirect, { host_redirect: 'a.example.com', response_code: 'MOVED_PERMANENTLY' });
  });

  void it('rewrites prefix, authority and regex', () => {
    const { push, sim } = setup(
      vs(`
  - match: [{uri: {prefix: /v1/api}}]
    rewrite: {uri: /api, authority: reviews-internal}
    route: [{destination: {host: reviews}}]
  - match: [{uri: {prefix: /service}}]
    rewrite: {uriRegexRewrite: {match: "^/service/([^/]+)(/.*)$", rewrite: "\\\\2/instance/\\\\1"}}
    route: [{destination: {host: reviews}}]`),
    );
    golden('rewrite', push);
    const p = sim({ path: '/v1/api/books' });
    assert.equal(p.upstreamPath, '/api/books');
    assert.equal(p.hostRewrite, 'reviews-internal');
    assert.equal(sim({ path: '/service/foo/bar' }).upstreamPath, '/bar/instance/foo');
  });

  void it('sets timeouts and retries, and disables retries with attempts 0', () => {
    const { push, sim } = setup(
      vs(`
  - name: custom
    match: [{uri: {prefix: /custom}}]
    timeout: 3s
    retries: {attempts: 3, perTryTimeout: 500ms, retryOn: "5xx,gateway-error,503,connect-failure", retryRemoteLocalities: true, backoff: 100ms}
    route: [{destination: {host: reviews}}]
  - name: noretry
    match: [{uri: {prefix: /none}}]
    retries: {attempts: 0}
    route: [{destination: {host: reviews}}]
  - name: codes-only
    match: [{uri: {prefix: /codes}}]
    retries: {attempts: 1, retryOn: "502,503"}
    route: [{destination: {host: reviews}}]
  - name: default
    route: [{destination: {host: reviews}}]`),
    );
    golden('timeout-retries', push);
    const custom = sim({ path: '/custom' }).routeObj!.route as Obj;
    assert.deepEqual(custom.timeout, { seconds: 3, nanos: 0 });
    const rp = custom.retry_policy as Obj;
    assert.equal(rp.retry_on, '5xx,gateway-error,connect-failure,retriable-status-codes');
    assert.deepEqual(rp.retriable_status_codes, [503]);
    assert.deepEqual(rp.num_retries, { value: 3 });
    assert.deepEqual(rp.per_try_timeout, { seconds: 0, nanos: 500_000_000 });
    assert.deepEqual(rp.retry_back_off, { base_interval: { seconds: 0, nanos: 100_000_000 } });
    assert.equal((rp.retry_priority as Obj).name, 'envoy.retry_priorities.previous_priorities');
    assert.equal((sim({ path: '/none' }).routeObj!.route as Obj).retry_policy, undefined);
    assert.equal(((sim({ path: '/codes' }).routeObj!.route as Obj).retry_policy as Obj).retry_on, 'retriable-status-codes');
    const dflt = sim({ path: '/x' }).routeObj!.route as Obj;
    assert.deepEqual(dflt.timeout, { seconds: 0, nanos: 0 });
    assert.deepEqual((dflt.retry_policy as Obj).num_retries, { value: 2 });
  });

  void it('adds the DestinationRule consistent-hash policy to routes and keeps retries on the same host', () => {
    const push = pushContextFromYaml(
      join(
        serviceEntry('reviews'),
        workloadEntry('reviews-v1', 'reviews', '10.0.0.13', { version: 'v1' }),
        `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x-user}}}
  subsets:
  - {name: v1, labels: {version: v1}, trafficPolicy: {loadBalancer: {consistentHash: {httpCookie: {name: session, ttl: 60s}}}}}`,
        vs(`
  - match: [{uri: {prefix: /v1}}]
    route: [{destination: {host: reviews, subset: v1}}]`),
      ),
    );
    const rcs = rds(push, productpage, ['9080']);
    assertGolden('route-hash', rcs, TypeUrl.RouteConfiguration);
    const r = simulateProxy(push, productpage, { port: 9080, host: 'reviews', path: '/v1' }).routeObj!.route as Obj;
    assert.deepEqual(r.hash_policy, [{ cookie: { name: 'session', ttl: { seconds: 60, nanos: 0 } } }]);
    assert.equal((r.retry_policy as Obj).retry_host_predicate, undefined);
  });

  void it('sends unknown hosts to the Sidecar egress proxy, and serves external VirtualService hosts on port 80', () => {
    const push = pushContextFromYaml(
      join(
        serviceEntry('web', { ports: [{ number: 80, name: 'http', protocol: 'HTTP' }] }),
        `
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default}
spec:
  outboundTrafficPolicy:
    mode: ALLOW_ANY
    egressProxy: {host: egress.istio-system.svc.cluster.local, port: {number: 8080}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: google}
spec:
  hosts: [www.google.com]
  http:
  - route: [{destination: {host: web}}]`,
      ),
    );
    const rcs = rds(push, productpage, ['80']);
    assertGolden('route-egress-proxy', rcs, TypeUrl.RouteConfiguration);
    const sim = (host: string) => simulateProxy(push, productpage, { port: 80, host });
    assert.equal(sim('unknown.example.org').cluster, 'outbound|8080||egress.istio-system.svc.cluster.local');
    const google = sim('www.google.com');
    assert.equal(google.virtualHost, 'www.google.com:80');
    assert.equal(google.cluster, outbound('web.default.svc.cluster.local', 80));
  });
});

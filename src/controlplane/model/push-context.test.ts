// PushContext: visibility, endpoints and subsets, Sidecar scope, VirtualService/DestinationRule/Gateway/EnvoyFilter selection.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pushContextFromYaml, testProxy } from './testing.js';

const se = (name: string, ns: string, host: string, extra = ''): string => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: ${ns}}
spec:
  hosts: [${host}]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 9080, name: http}]
${extra}`;

const join = (...docs: string[]): string => docs.join('\n---\n');

void describe('PushContext', () => {
  void it('honours exportTo when looking up services', () => {
    const push = pushContextFromYaml(
      join(
        se('pub', 'a', 'pub'),
        se('priv', 'a', 'priv', '  exportTo: ["."]'),
        se('tob', 'a', 'tob', '  exportTo: [b]'),
        se('none', 'a', 'none', '  exportTo: ["~"]'),
      ),
    );
    const h = (n: string): string => `${n}.a.svc.cluster.local`;
    assert.ok(push.serviceForHost(h('pub'), 'z'));
    assert.ok(push.serviceForHost(h('priv'), 'a'));
    assert.equal(push.serviceForHost(h('priv'), 'b'), undefined);
    assert.ok(push.serviceForHost(h('tob'), 'b'));
    assert.equal(push.serviceForHost(h('tob'), 'a'), undefined, 'exportTo [b] hides it from its own namespace, as istiod');
    assert.equal(push.serviceForHost(h('tob'), 'c'), undefined);
    assert.equal(push.serviceForHost(h('none'), 'a'), undefined);
    assert.equal(push.serviceForHost('nope', 'a'), undefined);
    const scopeB = push.sidecarScope(testProxy({ namespace: 'b' }));
    assert.deepEqual(
      scopeB.services.map((s) => s.hostname),
      [h('pub'), h('tob')],
    );
    assert.equal(scopeB.outboundTrafficPolicy, 'ALLOW_ANY');
    assert.equal(scopeB.config, undefined);
  });

  void it('prefers the service in the asking namespace when a host is declared in several', () => {
    const push = pushContextFromYaml(join(se('x1', 'a', 'shared.example.com'), se('x2', 'b', 'shared.example.com')));
    assert.equal(push.serviceForHost('shared.example.com', 'b')?.namespace, 'b');
    assert.equal(push.serviceForHost('shared.example.com', 'c')?.namespace, 'a');
    assert.equal(push.sidecarScope(testProxy({ namespace: 'b' })).services[0]?.namespace, 'b');
  });

  void it('selects endpoints per port and by subset labels', () => {
    const push = pushContextFromYaml(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: reviews}
spec:
  hosts: [reviews]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 9080, name: http}, {number: 9090, name: metrics, targetPort: 15090}]
  endpoints:
  - {address: 127.0.0.2, labels: {version: v1}}
  - {address: 127.0.0.3, labels: {version: v2, canary: "true"}}
  - {address: 127.0.0.4, labels: {version: v2}}
`);
    const svc = push.serviceForHost('reviews.default.svc.cluster.local', 'default')!;
    assert.deepEqual(
      push.endpoints(svc, 9080).map((e) => e.address),
      ['127.0.0.2', '127.0.0.3', '127.0.0.4'],
    );
    assert.deepEqual(
      push.endpoints(svc, 9090).map((e) => `${e.address}:${e.port}`),
      ['127.0.0.2:15090', '127.0.0.3:15090', '127.0.0.4:15090'],
    );
    assert.deepEqual(
      push.endpoints(svc, 9080, { version: 'v2' }).map((e) => e.address),
      ['127.0.0.3', '127.0.0.4'],
    );
    assert.deepEqual(
      push.endpoints(svc, 9080, { version: 'v2', canary: 'true' }).map((e) => e.address),
      ['127.0.0.3'],
    );
    assert.deepEqual(push.endpoints(svc, 9080, { version: 'v3' }), []);
    assert.deepEqual(push.endpoints(svc, 1234), []);
  });

  void describe('sidecarScope', () => {
    const yaml = join(
      se('a1', 'a', 'a1'),
      se('b1', 'b', 'b1'),
      se('ext', 'b', 'api.example.com'),
      se('root', 'istio-system', 'istiod'),
      `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: root, namespace: istio-system}
spec:
  egress: [{hosts: ["./*", "istio-system/*"]}]
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}`,
      `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: ns-wide, namespace: a}
spec:
  egress: [{hosts: ["b/*.example.com"]}]`,
      `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: selected, namespace: a}
spec:
  workloadSelector: {labels: {app: special}}
  egress: [{hosts: ["*/b1.b.svc.cluster.local", "~/*"]}]`,
    );
    const push = pushContextFromYaml(yaml);
    const hosts = (p: ReturnType<typeof testProxy>): string[] => push.sidecarScope(p).services.map((s) => s.hostname);

    void it('uses the Sidecar whose workloadSelector matches the proxy first', () => {
      const s = push.sidecarScope(testProxy({ namespace: 'a', labels: { app: 'special', v: '1' } }));
      assert.equal(s.config?.meta.name, 'selected');
      assert.deepEqual(hosts(testProxy({ namespace: 'a', labels: { app: 'special' } })), ['b1.b.svc.cluster.local']);
    });

    void it('then the namespace-wide Sidecar', () => {
      const p = testProxy({ namespace: 'a', labels: { app: 'other' } });
      assert.equal(push.sidecarScope(p).config?.meta.name, 'ns-wide');
      assert.deepEqual(hosts(p), ['api.example.com']);
      assert.equal(push.sidecarScope(p).outboundTrafficPolicy, 'ALLOW_ANY');
    });

    void it('then the root namespace Sidecar, with "." meaning the proxy namespace', () => {
      const p = testProxy({ namespace: 'b' });
      const s = push.sidecarScope(p);
      assert.equal(s.config?.meta.name, 'root');
      assert.equal(s.outboundTrafficPolicy, 'REGISTRY_ONLY');
      assert.deepEqual(hosts(p), ['api.example.com', 'b1.b.svc.cluster.local', 'istiod.istio-system.svc.cluster.local']);
      assert.deepEqual(hosts(testProxy({ namespace: 'c' })), ['istiod.istio-system.svc.cluster.local']);
    });

    void it('never applies to gateways', () => {
      const gw = testProxy({ type: 'router', namespace: 'b' });
      assert.equal(push.sidecarScope(gw).config, undefined);
      assert.equal(push.sidecarScope(gw).services.length, 4);
    });

    void it('without any Sidecar, sees every visible service', () => {
      const bare = pushContextFromYaml(join(se('a1', 'a', 'a1'), se('b1', 'b', 'b1')));
      const s = bare.sidecarScope(testProxy({ namespace: 'a' }));
      assert.equal(s.config, undefined);
      assert.equal(s.services.length, 2);
    });
  });

  void describe('virtualServices', () => {
    const vs = (name: string, ns: string, extra: string, ts?: string): string => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: ${ns}${ts ? `, creationTimestamp: "${ts}"` : ''}}
spec:
${extra}`;
    const push = pushContextFromYaml(
      join(
        vs('late', 'default', '  hosts: [late]\n  http: [{route: [{destination: {host: late}}]}]', '2024-02-01T00:00:00Z'),
        vs('early', 'default', '  hosts: [reviews]\n  http: [{route: [{destination: {host: reviews, subset: v1}}], mirror: {host: shadow}}]', '2024-01-01T00:00:00Z'),
        vs('gw-bound', 'web', '  hosts: ["*.example.com"]\n  gateways: [ingress, istio-system/shared, mesh]\n  http: [{match: [{gateways: [ingress]}], route: [{destination: {host: web}}]}]'),
        vs('private', 'web', '  hosts: [private]\n  exportTo: ["."]\n  tcp: [{route: [{destination: {host: db}}]}]'),
        vs('delegate', 'default', '  http: [{route: [{destination: {host: reviews}}]}]'),
      ),
    );

    void it('binds to mesh by default, sorts by creation time (none first, like Go zero time), expands short names', () => {
      const l = push.virtualServices(testProxy({ namespace: 'default' }), 'mesh');
      assert.deepEqual(
        l.map((c) => c.meta.name),
        ['gw-bound', 'early', 'late'],
      );
      const early = l[1];
      assert.deepEqual(early.spec.hosts, ['reviews.default.svc.cluster.local']);
      assert.deepEqual(early.spec.gateways, ['mesh']);
      assert.equal(early.spec.http?.[0]?.route?.[0]?.destination.host, 'reviews.default.svc.cluster.local');
      assert.equal(early.spec.http?.[0]?.mirror?.host, 'shadow.default.svc.cluster.local');
    });

    void it('resolves gateway names against the VirtualService namespace', () => {
      const router = testProxy({ type: 'router', namespace: 'istio-system' });
      assert.deepEqual(
        push.virtualServices(router, 'web/ingress').map((c) => c.meta.name),
        ['gw-bound'],
      );
      assert.deepEqual(
        push.virtualServices(router, 'istio-system/shared').map((c) => c.meta.name),
        ['gw-bound'],
      );
      assert.deepEqual(push.virtualServices(router, 'istio-system/ingress'), []);
      const gwBound = push.virtualServices(router, 'web/ingress')[0];
      assert.deepEqual(gwBound.spec.http?.[0]?.match?.[0]?.gateways, ['web/ingress']);
      assert.equal(gwBound.spec.http?.[0]?.route?.[0]?.destination.host, 'web.web.svc.cluster.local');
    });

    void it('honours exportTo and keeps delegates out of the root list', () => {
      assert.deepEqual(
        push.virtualServices(testProxy({ namespace: 'web' }), 'mesh').map((c) => c.meta.name),
        ['gw-bound', 'private', 'early', 'late'],
      );
      assert.equal(push.delegateVirtualService('default', 'delegate')?.spec.http?.[0]?.route?.[0]?.destination.host, 'reviews.default.svc.cluster.local');
    });
  });

  void describe('destinationRule', () => {
    const dr = (name: string, ns: string, host: string, extra = '', ts = ''): string => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${name}, namespace: ${ns}${ts ? `, creationTimestamp: "${ts}"` : ''}}
spec:
  host: ${host}
${extra}`;
    const yaml = join(
      se('svc', 'prod', 'reviews'),
      dr('svc-ns', 'prod', 'reviews', '  subsets: [{name: from-svc-ns, labels: {v: "1"}}]'),
      dr('root-wild', 'istio-system', '"*.svc.cluster.local"', '  subsets: [{name: from-root}]'),
      dr('client-wild', 'client', '"*.prod.svc.cluster.local"', '  subsets: [{name: client-wild}]'),
      dr('client-exact', 'client', 'reviews.prod.svc.cluster.local', '  subsets: [{name: client-exact}]'),
      dr('private', 'prod', 'ratings.prod.svc.cluster.local', '  exportTo: ["."]\n  subsets: [{name: private}]'),
      dr('m1', 'merge', 'm.example.com', '  subsets: [{name: a}, {name: b}]', '2024-01-01T00:00:00Z'),
      dr('m2', 'merge', 'm.example.com', '  trafficPolicy: {loadBalancer: {simple: RANDOM}}\n  subsets: [{name: b, labels: {x: "2"}}, {name: c}]', '2024-01-02T00:00:00Z'),
      dr('sel', 'merge', 'm.example.com', '  workloadSelector: {labels: {app: picky}}\n  subsets: [{name: selected}]'),
    );
    const push = pushContextFromYaml(yaml);
    const subsets = (ns: string, host: string, labels: Record<string, string> = {}): string[] | undefined =>
      push.destinationRule(testProxy({ namespace: ns, labels }), host)?.spec.subsets?.map((s) => s.name);

    void it('prefers the proxy namespace, exact host over wildcard', () => {
      assert.deepEqual(subsets('client', 'reviews.prod.svc.cluster.local'), ['client-exact']);
      assert.deepEqual(subsets('client', 'other.prod.svc.cluster.local'), ['client-wild']);
    });

    void it('then the service namespace, then the root namespace', () => {
      assert.deepEqual(subsets('elsewhere', 'reviews.prod.svc.cluster.local'), ['from-svc-ns']);
      assert.deepEqual(subsets('prod', 'reviews.prod.svc.cluster.local'), ['from-svc-ns']);
      assert.equal(push.destinationRule(testProxy({ namespace: 'elsewhere' }), 'reviews.prod.svc.cluster.local')?.spec.host, 'reviews.prod.svc.cluster.local');
      assert.deepEqual(subsets('elsewhere', 'x.y.svc.cluster.local'), ['from-root']);
      assert.equal(subsets('elsewhere', 'api.example.com'), undefined);
    });

    void it('honours exportTo of rules from other namespaces', () => {
      assert.deepEqual(subsets('prod', 'ratings.prod.svc.cluster.local'), ['private']);
      assert.deepEqual(subsets('elsewhere', 'ratings.prod.svc.cluster.local'), ['from-root']);
    });

    void it('merges rules for the same host in one namespace (first wins, new subsets added)', () => {
      const r = push.destinationRule(testProxy({ namespace: 'merge' }), 'm.example.com');
      assert.equal(r?.meta.name, 'm1');
      assert.deepEqual(
        r?.spec.subsets?.map((s) => `${s.name}${s.labels ? JSON.stringify(s.labels) : ''}`),
        ['a', 'b', 'c'],
      );
      assert.equal(r?.spec.trafficPolicy?.loadBalancer?.simple, 'RANDOM');
    });

    void it('applies workload-selected rules to matching workloads only', () => {
      assert.deepEqual(subsets('merge', 'm.example.com', { app: 'picky' }), ['selected']);
      assert.deepEqual(subsets('merge', 'm.example.com', { app: 'other' }), ['a', 'b', 'c']);
    });
  });

  void it('finds gateways by selector in every namespace', () => {
    const gw = (name: string, ns: string, sel: string): string => `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: ${ns}}
spec:
  selector: ${sel}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]`;
    const push = pushContextFromYaml(join(gw('g1', 'istio-system', '{istio: ingressgateway}'), gw('g2', 'web', '{istio: ingressgateway, zone: a}'), gw('g3', 'web', '{istio: egressgateway}')));
    assert.deepEqual(
      push.gatewaysForProxy(testProxy({ type: 'router', namespace: 'istio-system', labels: { istio: 'ingressgateway', zone: 'a' } })).map((g) => g.meta.name),
      ['g1', 'g2'],
    );
    assert.deepEqual(
      push.gatewaysForProxy(testProxy({ type: 'router', labels: { istio: 'ingressgateway' } })).map((g) => g.meta.name),
      ['g1'],
    );
  });

  void it('finds service instances by proxy IP and by auto-registered WorkloadEntry', () => {
    const yaml = join(
      se('reviews', 'default', 'reviews', '  endpoints: [{address: 127.0.0.5}]'),
      `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ratings}
spec:
  hosts: [ratings]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 9080, name: http}, {number: 9090, name: grpc}]
  workloadSelector: {labels: {app: ratings}}`,
      `apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: {name: ratings}
spec:
  metadata: {labels: {app: ratings}}
  template: {ports: {http: 8080}}`,
    );
    const vm = testProxy({ ip: '127.0.0.6', labels: { app: 'ratings' }, metadata: { WORKLOAD_GROUP: 'ratings' } });
    const push = pushContextFromYaml(yaml, { autoRegister: [vm] });
    const inst = push.serviceInstances(testProxy({ ip: '127.0.0.5' }));
    assert.deepEqual(
      inst.map((i) => `${i.service.hostname}:${i.port.port}->${i.endpoint.port}`),
      ['reviews.default.svc.cluster.local:9080->9080'],
    );
    assert.deepEqual(
      push.serviceInstances(vm).map((i) => `${i.service.hostname}:${i.port.port}->${i.endpoint.port}`),
      ['ratings.default.svc.cluster.local:9080->8080', 'ratings.default.svc.cluster.local:9090->9090'],
    );
    assert.deepEqual(push.serviceInstances(testProxy({ ip: '10.9.9.9' })), []);
    assert.deepEqual(
      push.configs('WorkloadEntry').map((c) => c.meta.name),
      ['ratings-127.0.0.6'],
    );
  });

  void it('orders EnvoyFilters: root namespace first, then by priority and creation, matching selectors', () => {
    const ef = (name: string, ns: string, extra: string): string => `apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: ${name}, namespace: ${ns}}
spec:
${extra}
  configPatches: []`;
    const push = pushContextFromYaml(
      join(
        ef('root-b', 'istio-system', '  priority: 10'),
        ef('root-a', 'istio-system', '  priority: -1'),
        ef('own', 'app', '  workloadSelector: {labels: {app: x}}'),
        ef('own-other', 'app', '  workloadSelector: {labels: {app: y}}'),
        ef('foreign', 'other', '  priority: -5'),
      ),
    );
    assert.deepEqual(
      push.envoyFilters(testProxy({ namespace: 'app', labels: { app: 'x' } })).map((e) => e.meta.name),
      ['root-a', 'root-b', 'own'],
    );
  });

  void it('exposes configs by kind, sorted by namespace/name', () => {
    const push = pushContextFromYaml(join(se('z', 'a', 'z'), se('b', 'b', 'b'), se('a', 'b', 'a')));
    assert.deepEqual(
      push.configs('ServiceEntry').map((c) => `${c.meta.namespace}/${c.meta.name}`),
      ['a/z', 'b/a', 'b/b'],
    );
    assert.equal(push.version, 'test');
    assert.equal(push.domainSuffix, 'cluster.local');
  });

  void it('throws on invalid YAML unless told otherwise', () => {
    const bad = 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: x}\nspec: {hosts: [x], bogus: 1}\n';
    assert.throws(() => pushContextFromYaml(bad), /bogus/);
    assert.equal(pushContextFromYaml(bad, { allowInvalid: true }).configs('VirtualService').length, 0);
  });
});

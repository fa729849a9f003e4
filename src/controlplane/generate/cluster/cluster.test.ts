import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pushContextFromYaml, testProxy, type TestProxyOptions } from '../../model/testing.js';
import { TypeUrl } from '../../../xds/types.js';
import { fromStruct } from '../../../xds/codec.js';
import { assertGolden } from '../golden.js';
import type { Resource } from '../types.js';
import { clusterGenerator } from './index.js';

type Obj = Record<string, unknown>;
const REVIEWS = 'reviews.default.svc.cluster.local';

/** reviews (STATIC, two WorkloadEntries v1/v2) — the base most feature tests add a DestinationRule to. */
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
spec: {address: 127.0.1.1, labels: {app: reviews, version: v1}, serviceAccount: reviews, locality: us/east/a}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: reviews-v2, namespace: default}
spec: {address: 127.0.1.2, labels: {app: reviews, version: v2}, serviceAccount: reviews, locality: us/west/a}
`;

function cds(yaml: string, proxy: TestProxyOptions = {}, names?: string[]): Resource[] {
  const push = pushContextFromYaml(yaml);
  return clusterGenerator.generate(testProxy({ ip: '127.0.2.1', labels: { app: 'productpage' }, ...proxy }), push, names ? { names } : {});
}

function outbound(rs: Resource[]): Resource[] {
  return rs.filter((r) => r.name.startsWith('outbound|'));
}

function get(rs: Resource[], name: string): Obj {
  const r = rs.find((x) => x.name === name);
  assert.ok(r, `cluster ${name} missing; have ${rs.map((x) => x.name).join(', ')}`);
  return r.resource;
}

function dr(spec: string): string {
  return `${BASE}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
${spec}`;
}

void test('basic ServiceEntry resolutions: STATIC → EDS, DNS → STRICT_DNS, DNS_ROUND_ROBIN → LOGICAL_DNS, NONE → ORIGINAL_DST/EDS', () => {
  const yaml = `${BASE}---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: external, namespace: default}
spec:
  hosts: [api.example.com]
  resolution: DNS
  ports: [{number: 443, name: https, protocol: HTTPS}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: rr, namespace: default}
spec:
  hosts: [rr.example.com]
  resolution: DNS_ROUND_ROBIN
  ports: [{number: 80, name: http, protocol: HTTP}]
  endpoints: [{address: a.rr.example.com}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: db, namespace: default}
spec:
  hosts: [db.example.com]
  addresses: [10.1.0.0/16]
  resolution: NONE
  ports: [{number: 5432, name: tcp, protocol: TCP}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: grpc, namespace: default}
spec:
  hosts: [grpc.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: NONE
  ports: [{number: 50051, name: grpc, protocol: GRPC}]
  workloadSelector: {labels: {app: greeter}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: greeter, namespace: default}
spec: {address: 127.0.3.1, labels: {app: greeter}}
`;
  const rs = cds(yaml);
  assertGolden('cds-basic', rs, TypeUrl.Cluster);
  assert.equal(get(rs, `outbound|9080||${REVIEWS}`).type, 'EDS');
  assert.equal(get(rs, 'outbound|443||api.example.com').type, 'STRICT_DNS');
  const rr = get(rs, 'outbound|80||rr.example.com');
  assert.equal(rr.type, 'LOGICAL_DNS');
  const rrEps = (rr.load_assignment as { endpoints: { lb_endpoints: unknown[] }[] }).endpoints;
  assert.equal(rrEps.length, 1);
  assert.equal(rrEps[0]?.lb_endpoints.length, 1);
  const db = get(rs, 'outbound|5432||db.example.com');
  assert.equal(db.type, 'ORIGINAL_DST');
  assert.equal(db.lb_policy, 'CLUSTER_PROVIDED');
  const grpc = get(rs, 'outbound|50051||grpc.default.svc.cluster.local');
  assert.equal(grpc.type, 'EDS');
  const h2 = (grpc.typed_extension_protocol_options as Obj)['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'] as Obj;
  assert.deepEqual(h2.explicit_http_config, { http2_protocol_options: {} }, 'GRPC ports speak HTTP/2 upstream');
  for (const n of ['PassthroughCluster', 'BlackHoleCluster', 'InboundPassthroughCluster']) get(rs, n);
  const md = fromStruct(((get(rs, `outbound|9080||${REVIEWS}`).metadata as Obj).filter_metadata as Obj).istio);
  assert.deepEqual(md, { services: [{ host: REVIEWS, name: REVIEWS, namespace: 'default' }], default_original_port: 9080 });
  assert.equal(fromStruct(((get(rs, 'outbound|443||api.example.com').metadata as Obj).filter_metadata as Obj).istio).external, true);
});

void test('a DNS ServiceEntry without endpoints resolves its own host', () => {
  const rs = cds(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: external, namespace: default}
spec: {hosts: [api.example.com], resolution: DNS, ports: [{number: 443, name: https, protocol: HTTPS}]}
`);
  const la = get(rs, 'outbound|443||api.example.com').load_assignment as { endpoints: { lb_endpoints: { endpoint: { address: { socket_address: Obj } } }[] }[] };
  assert.deepEqual(la.endpoints[0]?.lb_endpoints[0]?.endpoint.address.socket_address, { address: 'api.example.com', port_value: 443 });
});

void test('inbound cluster for the proxy own workload points at 127.0.0.1:targetPort (as Istio)', () => {
  const rs = cds(BASE, { ip: '127.0.1.1', labels: { app: 'reviews', version: 'v1' } });
  const inbound = get(rs, 'inbound|9080||');
  assert.equal(inbound.type, 'STATIC');
  assert.deepEqual(inbound.load_assignment, {
    cluster_name: 'inbound|9080||',
    endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 9080 } } } }] }],
  });
  assert.equal(inbound.upstream_bind_config, undefined);
  const none = cds(BASE, { ip: '127.0.1.1', labels: { app: 'reviews', version: 'v1' }, metadata: { INTERCEPTION_MODE: 'NONE' } });
  assert.equal(none.find((r) => r.name.startsWith('inbound|')), undefined, 'NONE interception without Sidecar ingress: no inbound clusters');
});

void test('Sidecar ingress listeners define inbound clusters (local mode defaultEndpoint)', () => {
  const yaml = `${BASE}---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: reviews, namespace: default}
spec:
  workloadSelector: {labels: {app: reviews}}
  ingress:
  - port: {number: 9080, protocol: HTTP, name: http}
    defaultEndpoint: 0.0.0.0:9080
    connectionPool: {tcp: {maxConnections: 7}}
  - port: {number: 9081, protocol: GRPC, name: grpc}
    defaultEndpoint: 127.0.0.1:19081
  - port: {number: 9082, protocol: TCP, name: tcp}
  egress: [{hosts: ['./*']}]
`;
  const rs = cds(yaml, { ip: '127.0.1.1', labels: { app: 'reviews', version: 'v1' }, metadata: { INTERCEPTION_MODE: 'NONE' } });
  assertGolden('cds-inbound-sidecar', rs.filter((r) => r.name.startsWith('inbound|')), TypeUrl.Cluster);
  const c9080 = get(rs, 'inbound|9080||');
  assert.deepEqual(c9080.upstream_bind_config, { source_address: { address: '127.0.0.6', port_value: 0 } });
  assert.deepEqual(((c9080.circuit_breakers as { thresholds: Obj[] }).thresholds[0]).max_connections, { value: 7 });
  assert.equal(get(rs, 'inbound|9081||').upstream_bind_config, undefined);
  assert.equal(get(rs, 'inbound|9082||').type, 'ORIGINAL_DST');
});

void test('router proxies get outbound clusters and BlackHole only', () => {
  const rs = cds(BASE, { type: 'router', labels: { istio: 'ingressgateway' } });
  assert.deepEqual(rs.map((r) => r.name).sort(), ['BlackHoleCluster', `outbound|9080||${REVIEWS}`]);
});

void test('subsets become clusters with subset metadata', () => {
  const rs = cds(dr(`  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]`));
  assertGolden('cds-subsets', outbound(rs), TypeUrl.Cluster);
  assert.deepEqual(outbound(rs).map((r) => r.name).sort(), [`outbound|9080||${REVIEWS}`, `outbound|9080|v1|${REVIEWS}`, `outbound|9080|v2|${REVIEWS}`].sort());
  const v2 = get(rs, `outbound|9080|v2|${REVIEWS}`);
  assert.deepEqual((v2.eds_cluster_config as Obj).service_name, `outbound|9080|v2|${REVIEWS}`);
  const md = fromStruct(((v2.metadata as Obj).filter_metadata as Obj).istio);
  assert.equal(md.subset, 'v2');
  assert.equal(md.config, '/apis/networking.istio.io/v1/namespaces/default/destination-rule/reviews');
});

void test('simple load balancers: ROUND_ROBIN (warmup), LEAST_CONN, RANDOM, PASSTHROUGH, default LEAST_REQUEST', () => {
  const rs = cds(
    dr(`  trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN, warmupDurationSecs: 30s}}
  subsets:
  - {name: lc, labels: {version: v1}, trafficPolicy: {loadBalancer: {simple: LEAST_CONN}}}
  - {name: random, labels: {version: v1}, trafficPolicy: {loadBalancer: {simple: RANDOM}}}
  - {name: pass, labels: {version: v1}, trafficPolicy: {loadBalancer: {simple: PASSTHROUGH}}}`),
  );
  assertGolden('cds-lb-simple', outbound(rs), TypeUrl.Cluster);
  const def = get(rs, `outbound|9080||${REVIEWS}`);
  assert.equal(def.lb_policy, 'ROUND_ROBIN');
  assert.deepEqual(def.round_robin_lb_config, { slow_start_config: { slow_start_window: { seconds: 30, nanos: 0 } } });
  assert.equal(get(rs, `outbound|9080|lc|${REVIEWS}`).lb_policy, 'LEAST_REQUEST');
  assert.equal(get(rs, `outbound|9080|random|${REVIEWS}`).lb_policy, 'RANDOM');
  const pass = get(rs, `outbound|9080|pass|${REVIEWS}`);
  assert.equal(pass.type, 'ORIGINAL_DST');
  assert.equal(pass.lb_policy, 'CLUSTER_PROVIDED');
  assert.equal(pass.eds_cluster_config, undefined);
  assert.equal(get(cds(BASE), `outbound|9080||${REVIEWS}`).lb_policy, 'LEAST_REQUEST');
});

void test('consistent hash: ring hash, maglev, deprecated minimumRingSize', () => {
  const rs = cds(
    dr(`  trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x-user, ringHash: {minimumRingSize: 2048}}}}
  subsets:
  - {name: maglev, labels: {version: v1}, trafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true, maglev: {tableSize: 65537}}}}}
  - {name: legacy, labels: {version: v2}, trafficPolicy: {loadBalancer: {consistentHash: {httpQueryParameterName: u}}}}`),
  );
  assertGolden('cds-lb-consistent-hash', outbound(rs), TypeUrl.Cluster);
  const def = get(rs, `outbound|9080||${REVIEWS}`);
  assert.equal(def.lb_policy, 'RING_HASH');
  assert.deepEqual(def.ring_hash_lb_config, { minimum_ring_size: { value: 2048 } });
  const mag = get(rs, `outbound|9080|maglev|${REVIEWS}`);
  assert.equal(mag.lb_policy, 'MAGLEV');
  assert.deepEqual(mag.maglev_lb_config, { table_size: { value: 65537 } });
  assert.deepEqual(get(rs, `outbound|9080|legacy|${REVIEWS}`).ring_hash_lb_config, { minimum_ring_size: { value: 1024 } });
});

void test('connection pool: circuit breakers, timeouts, protocol options, keepalive', () => {
  const rs = cds(
    dr(`  trafficPolicy:
    connectionPool:
      tcp: {maxConnections: 100, connectTimeout: 250ms, maxConnectionDuration: 1h, tcpKeepalive: {probes: 3, time: 7200s, interval: 75s}}
      http: {http1MaxPendingRequests: 10, http2MaxRequests: 1000, maxRequestsPerConnection: 5, maxRetries: 4, idleTimeout: 30s}
  subsets:
  - {name: h2, labels: {version: v1}, trafficPolicy: {connectionPool: {http: {h2UpgradePolicy: UPGRADE}}}}
  - {name: client, labels: {version: v2}, trafficPolicy: {connectionPool: {http: {useClientProtocol: true}}}}`),
  );
  assertGolden('cds-connection-pool', outbound(rs), TypeUrl.Cluster);
  const def = get(rs, `outbound|9080||${REVIEWS}`);
  assert.deepEqual(def.connect_timeout, { seconds: 0, nanos: 250_000_000 });
  assert.deepEqual((def.circuit_breakers as { thresholds: Obj[] }).thresholds[0], {
    max_connections: { value: 100 }, max_pending_requests: { value: 10 }, max_requests: { value: 1000 }, max_retries: { value: 4 }, track_remaining: true,
  });
  assert.deepEqual(def.upstream_connection_options, { tcp_keepalive: { keepalive_probes: { value: 3 }, keepalive_time: { value: 7200 }, keepalive_interval: { value: 75 } } });
  const opts = (def.typed_extension_protocol_options as Obj)['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'] as Obj;
  assert.deepEqual(opts.common_http_protocol_options, { idle_timeout: { seconds: 30, nanos: 0 }, max_requests_per_connection: { value: 5 }, max_connection_duration: { seconds: 3600, nanos: 0 } });
  assert.deepEqual(opts.explicit_http_config, { http_protocol_options: {} });
  const h2 = (get(rs, `outbound|9080|h2|${REVIEWS}`).typed_extension_protocol_options as Obj)['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'] as Obj;
  assert.deepEqual(h2.explicit_http_config, { http2_protocol_options: {} });
  const client = (get(rs, `outbound|9080|client|${REVIEWS}`).typed_extension_protocol_options as Obj)['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'] as Obj;
  assert.ok(client.use_downstream_protocol_config);
  // A subset connectionPool replaces the parent's whole connectionPool (Istio merges by component).
  assert.deepEqual(get(rs, `outbound|9080|h2|${REVIEWS}`).connect_timeout, { seconds: 10, nanos: 0 });
});

void test('outlier detection as Istio sets it', () => {
  const rs = cds(
    dr(`  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 5, consecutiveGatewayErrors: 0, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50, splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 2}`),
  );
  assertGolden('cds-outlier', outbound(rs), TypeUrl.Cluster);
  const c = get(rs, `outbound|9080||${REVIEWS}`);
  assert.deepEqual(c.outlier_detection, {
    enforcing_success_rate: { value: 0 },
    consecutive_5xx: { value: 5 },
    enforcing_consecutive_5xx: { value: 100 },
    consecutive_gateway_failure: { value: 0 },
    enforcing_consecutive_gateway_failure: { value: 0 },
    interval: { seconds: 10, nanos: 0 },
    base_ejection_time: { seconds: 30, nanos: 0 },
    max_ejection_percent: { value: 50 },
    split_external_local_origin_errors: true,
    consecutive_local_origin_failure: { value: 2 },
    enforcing_consecutive_local_origin_failure: { value: 100 },
    enforcing_local_origin_success_rate: { value: 0 },
  });
  assert.deepEqual((c.common_lb_config as Obj).healthy_panic_threshold, { value: 0 });
});

void test('locality LB settings on the cluster', () => {
  const rs = cds(
    dr(`  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 3}
    loadBalancer: {localityLbSetting: {enabled: true, failover: [{from: us, to: eu}]}}
  subsets:
  - {name: dist, labels: {version: v1}, trafficPolicy: {loadBalancer: {localityLbSetting: {distribute: [{from: us/east/*, to: {us/east/*: 80, us/west/*: 20}}]}}}}
  - {name: off, labels: {version: v1}, trafficPolicy: {outlierDetection: {consecutive5xxErrors: 3}, loadBalancer: {localityLbSetting: {enabled: false, failover: [{from: us, to: eu}]}}}}`),
  );
  assertGolden('cds-locality', outbound(rs), TypeUrl.Cluster);
  assert.deepEqual((get(rs, `outbound|9080||${REVIEWS}`).common_lb_config as Obj).locality_weighted_lb_config, {});
  assert.deepEqual((get(rs, `outbound|9080|dist|${REVIEWS}`).common_lb_config as Obj).locality_weighted_lb_config, {});
  assert.equal((get(rs, `outbound|9080|off|${REVIEWS}`).common_lb_config as Obj).locality_weighted_lb_config, undefined);
});

void test('TLS modes: DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL', () => {
  const rs = cds(
    dr(`  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
  subsets:
  - {name: disable, labels: {version: v1}, trafficPolicy: {tls: {mode: DISABLE}}}
  - {name: simple, labels: {version: v1}, trafficPolicy: {tls: {mode: SIMPLE, caCertificates: /etc/certs/ca.pem, subjectAltNames: [reviews.example.com], sni: reviews.example.com}}}
  - {name: simple-system, labels: {version: v1}, trafficPolicy: {tls: {mode: SIMPLE}}}
  - {name: mutual, labels: {version: v2}, trafficPolicy: {tls: {mode: MUTUAL, clientCertificate: /etc/certs/cert.pem, privateKey: /etc/certs/key.pem, caCertificates: /etc/certs/ca.pem}}}`),
  );
  assertGolden('cds-tls', outbound(rs), TypeUrl.Cluster);
  const tlsOf = (n: string): Obj | undefined => (get(rs, n).transport_socket as { typed_config?: Obj } | undefined)?.typed_config;
  const im = tlsOf(`outbound|9080||${REVIEWS}`) as Obj;
  assert.equal(im.sni, `outbound_.9080_._.${REVIEWS}`);
  const common = im.common_tls_context as Obj;
  assert.deepEqual(common.alpn_protocols, ['istio-peer-exchange', 'istio']);
  assert.deepEqual((common.tls_certificate_sds_secret_configs as Obj[]).map((s) => s.name), ['default']);
  const cvc = common.combined_validation_context as Obj;
  assert.equal((cvc.validation_context_sds_secret_config as Obj).name, 'ROOTCA');
  assert.deepEqual((cvc.default_validation_context as Obj).match_subject_alt_names, [{ exact: 'spiffe://cluster.local/ns/default/sa/reviews' }]);
  assert.equal(tlsOf(`outbound|9080|disable|${REVIEWS}`), undefined);
  const simple = tlsOf(`outbound|9080|simple|${REVIEWS}`) as Obj;
  assert.equal(simple.sni, 'reviews.example.com');
  assert.deepEqual(((simple.common_tls_context as Obj).validation_context as Obj).trusted_ca, { filename: '/etc/certs/ca.pem' });
  assert.deepEqual(((tlsOf(`outbound|9080|simple-system|${REVIEWS}`) as Obj).common_tls_context as Obj).validation_context, { system_root_certs: {} });
  const mutual = (tlsOf(`outbound|9080|mutual|${REVIEWS}`) as Obj).common_tls_context as Obj;
  assert.deepEqual(mutual.tls_certificates, [{ certificate_chain: { filename: '/etc/certs/cert.pem' }, private_key: { filename: '/etc/certs/key.pem' } }]);
  const sub = tlsOf(`outbound|9080|mutual|${REVIEWS}`) as Obj;
  assert.equal(sub.sni, undefined, 'SIMPLE/MUTUAL without sni use auto_sni');
});

void test('credentialName: ignored on sidecars without a workload selector, SDS on gateways', () => {
  const spec = `  trafficPolicy: {tls: {mode: MUTUAL, credentialName: reviews-client}}`;
  const side = cds(dr(spec));
  assert.equal(get(side, `outbound|9080||${REVIEWS}`).transport_socket, undefined);
  const gw = cds(dr(spec), { type: 'router', labels: { istio: 'egressgateway' } });
  assertGolden('cds-tls-credential', outbound(gw), TypeUrl.Cluster);
  const common = ((get(gw, `outbound|9080||${REVIEWS}`).transport_socket as Obj).typed_config as Obj).common_tls_context as Obj;
  assert.equal((common.tls_certificate_sds_secret_configs as Obj[])[0]?.name, 'reviews-client');
  assert.equal(((common.combined_validation_context as Obj).validation_context_sds_secret_config as Obj).name, 'reviews-client-cacert');
});

void test('portLevelSettings override the top-level policy for their port only', () => {
  const yaml = `${BASE.replace('ports: [{number: 9080, name: http, protocol: HTTP}]', 'ports: [{number: 9080, name: http, protocol: HTTP}, {number: 9090, name: tcp, protocol: TCP}]')}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  trafficPolicy:
    loadBalancer: {simple: RANDOM}
    connectionPool: {tcp: {maxConnections: 10}}
    portLevelSettings:
    - port: {number: 9090}
      loadBalancer: {simple: ROUND_ROBIN}
`;
  const rs = cds(yaml);
  assertGolden('cds-port-level', outbound(rs), TypeUrl.Cluster);
  assert.equal(get(rs, `outbound|9080||${REVIEWS}`).lb_policy, 'RANDOM');
  const p9090 = get(rs, `outbound|9090||${REVIEWS}`);
  assert.equal(p9090.lb_policy, 'ROUND_ROBIN');
  assert.deepEqual(((p9090.circuit_breakers as { thresholds: Obj[] }).thresholds[0]).max_connections, { value: 10 }, 'components the port does not set stay');
});

void test('subset policy merges over the parent per component; subset port-level wins', () => {
  const rs = cds(
    dr(`  trafficPolicy:
    loadBalancer: {simple: RANDOM}
    outlierDetection: {consecutive5xxErrors: 7}
    portLevelSettings: [{port: {number: 9080}, connectionPool: {tcp: {maxConnections: 5}}}]
  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy:
      loadBalancer: {simple: ROUND_ROBIN}
      portLevelSettings: [{port: {number: 9080}, loadBalancer: {simple: LEAST_REQUEST}}]
  - name: v2
    labels: {version: v2}
    trafficPolicy: {connectionPool: {tcp: {maxConnections: 9}}}`),
  );
  assertGolden('cds-subset-merge', outbound(rs), TypeUrl.Cluster);
  const v1 = get(rs, `outbound|9080|v1|${REVIEWS}`);
  assert.equal(v1.lb_policy, 'LEAST_REQUEST', 'subset port-level > subset');
  assert.deepEqual((v1.outlier_detection as Obj).consecutive_5xx, { value: 7 }, 'parent outlier detection is inherited');
  assert.deepEqual(((v1.circuit_breakers as { thresholds: Obj[] }).thresholds[0]).max_connections, { value: 5 }, 'parent port-level pool is inherited');
  const v2 = get(rs, `outbound|9080|v2|${REVIEWS}`);
  assert.equal(v2.lb_policy, 'RANDOM');
  assert.deepEqual(((v2.circuit_breakers as { thresholds: Obj[] }).thresholds[0]).max_connections, { value: 9 });
});

void test('exportTo hides a service from other namespaces', () => {
  const yaml = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: private, namespace: team-a}
spec: {hosts: [private], exportTo: ['.'], location: MESH_INTERNAL, resolution: STATIC, ports: [{number: 80, name: http}], endpoints: [{address: 127.0.4.1}]}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: public, namespace: team-a}
spec: {hosts: [public], location: MESH_INTERNAL, resolution: STATIC, ports: [{number: 80, name: http}], endpoints: [{address: 127.0.4.2}]}
`;
  const other = outbound(cds(yaml, { namespace: 'default' }));
  assertGolden('cds-export-to', other, TypeUrl.Cluster);
  assert.deepEqual(other.map((r) => r.name), ['outbound|80||public.team-a.svc.cluster.local']);
  const own = outbound(cds(yaml, { namespace: 'team-a' })).map((r) => r.name).sort();
  assert.deepEqual(own, ['outbound|80||private.team-a.svc.cluster.local', 'outbound|80||public.team-a.svc.cluster.local']);
});

void test('Sidecar egress hosts scope the outbound clusters', () => {
  const yaml = `${BASE}---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ratings, namespace: other}
spec: {hosts: [ratings], location: MESH_INTERNAL, resolution: STATIC, ports: [{number: 9080, name: http}], endpoints: [{address: 127.0.5.1}]}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: default}
spec:
  egress: [{hosts: [./*]}]
`;
  const rs = cds(yaml);
  assertGolden('cds-sidecar-egress', outbound(rs), TypeUrl.Cluster);
  assert.deepEqual(outbound(rs).map((r) => r.name), [`outbound|9080||${REVIEWS}`]);
  assert.ok(outbound(cds(yaml, { namespace: 'other' })).some((r) => r.name === 'outbound|9080||ratings.other.svc.cluster.local'));
});

void test('proxyless gRPC: only requested clusters, EDS/RING_HASH shapes grpc-js-xds accepts', () => {
  const yaml = dr(`  trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}, outlierDetection: {consecutive5xxErrors: 2}, connectionPool: {http: {http2MaxRequests: 50}}}
  subsets:
  - {name: v1, labels: {version: v1}, trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x-user, maglev: {tableSize: 65537}}}}}
  - {name: v2, labels: {version: v2}, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}`);
  const names = [`outbound|9080||${REVIEWS}`, `outbound|9080|v1|${REVIEWS}`, `outbound|9080|v2|${REVIEWS}`, 'outbound|9080|nope|reviews.default.svc.cluster.local', 'outbound|1||unknown.host'];
  const rs = cds(yaml, { isGrpc: true, metadata: { GENERATOR: 'grpc' } }, names);
  assertGolden('cds-grpc', rs, TypeUrl.Cluster);
  assert.deepEqual(rs.map((r) => r.name), names.slice(0, 3));
  for (const r of rs) {
    assert.equal(r.resource.type, 'EDS');
    assert.ok(['ROUND_ROBIN', 'RING_HASH'].includes(r.resource.lb_policy as string));
    assert.equal(r.resource.connect_timeout, undefined);
  }
  assert.equal(get(rs, `outbound|9080||${REVIEWS}`).lb_policy, 'ROUND_ROBIN', 'LEAST_REQUEST is not available to gRPC');
  assert.equal(get(rs, `outbound|9080|v1|${REVIEWS}`).lb_policy, 'RING_HASH', 'maglev falls back to ring hash');
  const tls = (get(rs, `outbound|9080|v2|${REVIEWS}`).transport_socket as Obj).typed_config as Obj;
  assert.deepEqual((tls.common_tls_context as Obj).tls_certificate_provider_instance, { instance_name: 'default', certificate_name: 'default' });
  assert.equal((tls.common_tls_context as Obj).tls_params, undefined);
});

void test('warmup: slow start window, aggression and minimum weight as Istio', () => {
  const rs = cds(dr(`  trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST, warmup: {duration: 60s, aggression: 2}}}`));
  assert.deepEqual(get(rs, `outbound|9080||${REVIEWS}`).least_request_lb_config, {
    slow_start_config: { aggression: { default_value: 2, runtime_key: '(' }, min_weight_percent: { value: 10 }, slow_start_window: { seconds: 60, nanos: 0 } },
  });
});

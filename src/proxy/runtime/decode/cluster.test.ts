// Cluster decoding: discovery types, load balancing (legacy and typed policies), Envoy's defaults, circuit breakers,
// outlier detection, upstream HTTP options, upstream TLS, and refused cluster features.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TypeUrl } from '../../../xds/types.js';
import { decodeCluster } from './cluster.js';
import { T, enc, errs, ok, opaqueAny, testCtx } from './testing.js';

const C = TypeUrl.Cluster;
const decode = (o: object): ReturnType<typeof decodeCluster> => decodeCluster(enc(C, o), testCtx);
const LB = 'type.googleapis.com/envoy.extensions.load_balancing_policies';
const httpOpts = (o: object): object => ({ 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': T.httpOptions, ...o } });

test('EDS cluster with Envoy defaults', () => {
  const c = ok(decode({ name: 'outbound|9080||reviews.default.svc.cluster.local', type: 'EDS', eds_cluster_config: { eds_config: { ads: {} } } }));
  assert.equal(c.type, 'EDS');
  assert.equal(c.edsServiceName, 'outbound|9080||reviews.default.svc.cluster.local', 'no service_name: the cluster name');
  assert.equal(c.lbPolicy, 'ROUND_ROBIN');
  assert.equal(c.connectTimeoutMs, 5000);
  assert.deepEqual(c.circuitBreakers, { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 });
  assert.equal(c.outlierDetection, undefined);
  assert.equal(c.protocol, 'http1');
  assert.equal(c.maxRequestsPerConnection, 0);
  assert.equal(c.idleTimeoutMs, 3_600_000);
  assert.equal(c.maxConnectionDurationMs, 0);
  assert.equal(c.localityWeighted, false);
  assert.equal(c.tls, undefined);
  assert.equal(c.loadAssignment, undefined);
  assert.match(c.hash, /^[\w-]{22}$/);
});

test('Istio-shaped cluster: LB, thresholds, outlier detection, HTTP/2 options, ISTIO_MUTUAL TLS', () => {
  const c = ok(
    decode({
      name: 'outbound|9080|v1|reviews.default.svc.cluster.local',
      type: 'EDS',
      eds_cluster_config: { service_name: 'outbound|9080|v1|reviews.default.svc.cluster.local', eds_config: { ads: {}, initial_fetch_timeout: { seconds: 0 } } },
      connect_timeout: { nanos: 250_000_000 },
      lb_policy: 'LEAST_REQUEST',
      least_request_lb_config: { choice_count: { value: 3 } },
      common_lb_config: { locality_weighted_lb_config: {}, healthy_panic_threshold: { value: 0 } },
      circuit_breakers: { thresholds: [{ priority: 'HIGH', max_connections: { value: 1 } }, { max_connections: { value: 100 }, max_pending_requests: { value: 10 }, max_retries: { value: 4294967295 }, track_remaining: true }] },
      outlier_detection: { consecutive_5xx: { value: 3 }, interval: { seconds: 1 }, base_ejection_time: { seconds: 5 }, max_ejection_percent: { value: 50 }, enforcing_consecutive_gateway_failure: { value: 0 }, split_external_local_origin_errors: true },
      typed_extension_protocol_options: httpOpts({ explicit_http_config: { http2_protocol_options: {} }, common_http_protocol_options: { idle_timeout: { seconds: 30 }, max_requests_per_connection: { value: 5 }, max_connection_duration: { seconds: 3600 } }, upstream_http_protocol_options: { auto_sni: true } }),
      transport_socket: {
        name: 'envoy.transport_sockets.tls',
        typed_config: {
          '@type': T.upstreamTls,
          sni: 'outbound_.9080_.v1_.reviews.default.svc.cluster.local',
          common_tls_context: {
            alpn_protocols: ['istio-peer-exchange', 'istio'],
            tls_certificate_sds_secret_configs: [{ name: 'default', sds_config: { ads: {} } }],
            combined_validation_context: { default_validation_context: { match_subject_alt_names: [{ exact: 'spiffe://cluster.local/ns/default/sa/reviews' }] }, validation_context_sds_secret_config: { name: 'ROOTCA' } },
            tls_params: { tls_minimum_protocol_version: 'TLSv1_2' },
          },
        },
      },
      upstream_bind_config: { source_address: { address: '127.0.0.6', port_value: 0 } },
    }),
  );
  assert.equal(c.lbPolicy, 'LEAST_REQUEST');
  assert.deepEqual(c.leastRequest, { choiceCount: 3 });
  assert.equal(c.localityWeighted, true);
  assert.equal(c.healthyPanicThresholdPercent, 0);
  assert.equal(c.connectTimeoutMs, 250);
  assert.deepEqual(c.circuitBreakers, { maxConnections: 100, maxPendingRequests: 10, maxRequests: 1024, maxRetries: 4294967295 });
  assert.deepEqual(c.outlierDetection, {
    consecutive5xx: 3,
    consecutiveGatewayFailure: 5,
    consecutiveLocalOriginFailure: 5,
    enforcingConsecutive5xx: 100,
    enforcingConsecutiveGatewayFailure: 0,
    intervalMs: 1000,
    baseEjectionTimeMs: 5000,
    maxEjectionPercent: 50,
    splitExternalLocalOriginErrors: true,
  });
  assert.equal(c.protocol, 'http2');
  assert.equal(c.idleTimeoutMs, 30_000);
  assert.equal(c.maxRequestsPerConnection, 5);
  assert.equal(c.maxConnectionDurationMs, 3_600_000);
  assert.ok(c.tls);
  assert.equal(c.tls.sni, 'outbound_.9080_.v1_.reviews.default.svc.cluster.local');
  assert.equal(c.tls.sdsCertificate, 'default');
  assert.equal(c.tls.sdsValidation, 'ROOTCA');
  assert.deepEqual(c.tls.alpn, ['istio-peer-exchange', 'istio']);
  assert.equal(c.tls.matchSans[0]?.test('spiffe://cluster.local/ns/default/sa/reviews'), true);
  assert.equal(c.tls.skipVerify, false);
  assert.equal(c.tls.autoSni, true);
  assert.equal(c.tls.minVersion, 'TLSv1.2');
  assert.equal(c.upstreamBindAddress, '127.0.0.6');
});

test('upstream TLS from files, system roots, and no validation at all', () => {
  const tls = (ctx: object): object => ({ name: 'envoy.transport_sockets.tls', typed_config: { '@type': T.upstreamTls, common_tls_context: ctx } });
  const files = ok(decode({ name: 'a', type: 'EDS', transport_socket: tls({ tls_certificates: [{ certificate_chain: { filename: '/etc/certs/cert.pem' }, private_key: { filename: '/etc/certs/key.pem' } }], validation_context: { trusted_ca: { filename: '/etc/certs/ca.pem' } } }) })).tls;
  assert.deepEqual({ ...files, matchSans: [] }, { alpn: [], matchSans: [], skipVerify: false, autoSni: false, certChain: 'CERT-PEM', privateKey: 'KEY-PEM', caCert: 'CA-PEM' });
  const system = ok(decode({ name: 'a', type: 'EDS', transport_socket: tls({ validation_context: { system_root_certs: {} } }) })).tls;
  assert.equal(system?.skipVerify, false);
  assert.equal(system.caCert, undefined);
  assert.equal(ok(decode({ name: 'a', type: 'EDS', transport_socket: tls({}) })).tls?.skipVerify, true);
});

test('static, DNS and original-dst clusters', () => {
  const la = (addr: string, port: number): object => ({ endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: addr, port_value: port } } } }] }] });
  const s = ok(decode({ name: 'inbound|9080||', type: 'STATIC', load_assignment: { cluster_name: 'inbound|9080||', ...la('127.0.0.1', 9080) } }));
  assert.deepEqual(s.loadAssignment, { clusterName: 'inbound|9080||', overprovisioningFactor: 140, localities: [{ locality: '', priority: 0, weight: 1, endpoints: [{ address: '127.0.0.1', port: 9080, weight: 1, health: 'UNKNOWN' }] }] });
  const dns = ok(decode({ name: 'outbound|443||api.example.com', type: 'STRICT_DNS', dns_lookup_family: 'V4_ONLY', dns_refresh_rate: { seconds: 60 }, load_assignment: la('api.example.com', 443) }));
  assert.equal(dns.type, 'STRICT_DNS');
  assert.equal(dns.loadAssignment?.localities[0]?.endpoints[0]?.address, 'api.example.com');
  assert.equal(dns.loadAssignment.clusterName, 'outbound|443||api.example.com');
  assert.equal(dns.dnsRefreshRateMs, 60_000);
  assert.equal(dns.dnsLookupFamily, 'V4_ONLY');
  const od = ok(decode({ name: 'PassthroughCluster', type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED', typed_extension_protocol_options: httpOpts({ use_downstream_protocol_config: { http_protocol_options: {}, http2_protocol_options: {} } }) }));
  assert.equal(od.lbPolicy, 'CLUSTER_PROVIDED');
  assert.equal(od.protocol, 'downstream');
  assert.deepEqual(errs(decode({ name: 'x', type: 'STATIC', load_assignment: la('example.com', 80) })), ['cluster x: load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address: "example.com" is not an IP address']);
  assert.deepEqual(errs(decode({ name: 'x', type: 'LOGICAL_DNS', load_assignment: { endpoints: [] } })), ['cluster x: load_assignment: LOGICAL_DNS clusters must have exactly one endpoint, found 0']);
});

test('hash-based and typed load balancing policies', () => {
  const rh = ok(decode({ name: 'a', type: 'EDS', lb_policy: 'RING_HASH', ring_hash_lb_config: { minimum_ring_size: { value: 2048 } } }));
  assert.deepEqual(rh.ringHash, { minRingSize: 2048, maxRingSize: 8 * 1024 * 1024 });
  assert.deepEqual(ok(decode({ name: 'a', type: 'EDS', lb_policy: 'MAGLEV' })).maglev, { tableSize: 65537 });
  assert.equal(ok(decode({ name: 'a', type: 'EDS', lb_policy: 'RANDOM' })).lbPolicy, 'RANDOM');
  const typed = ok(
    decode({
      name: 'a',
      type: 'EDS',
      load_balancing_policy: {
        policies: [
          { typed_extension_config: { name: 'cswrr', typed_config: opaqueAny('type.googleapis.com/envoy.extensions.load_balancing_policies.client_side_weighted_round_robin.v3.ClientSideWeightedRoundRobin', new Uint8Array()) } },
          { typed_extension_config: { name: 'wrr', typed_config: { '@type': `${LB}.wrr_locality.v3.WrrLocality`, endpoint_picking_policy: { policies: [{ typed_extension_config: { name: 'rh', typed_config: { '@type': `${LB}.ring_hash.v3.RingHash`, minimum_ring_size: { value: 64 }, maximum_ring_size: { value: 128 } } } }] } } } },
        ],
      },
    }),
  );
  assert.equal(typed.lbPolicy, 'RING_HASH');
  assert.deepEqual(typed.ringHash, { minRingSize: 64, maxRingSize: 128 });
  assert.equal(typed.localityWeighted, true);
  const lr = ok(decode({ name: 'a', type: 'EDS', load_balancing_policy: { policies: [{ typed_extension_config: { name: 'lr', typed_config: { '@type': `${LB}.least_request.v3.LeastRequest`, choice_count: { value: 4 } } } }] } }));
  assert.deepEqual([lr.lbPolicy, lr.leastRequest], ['LEAST_REQUEST', { choiceCount: 4 }]);
  assert.deepEqual(errs(decode({ name: 'a', type: 'EDS', load_balancing_policy: { policies: [{ typed_extension_config: { name: 'pf', typed_config: { '@type': `${LB}.pick_first.v3.PickFirst` } } }] } })), [
    'cluster a: load_balancing_policy.policies: no supported load balancing policy among [envoy.extensions.load_balancing_policies.pick_first.v3.PickFirst]',
  ]);
});

test('refused cluster features, with paths', () => {
  assert.deepEqual(errs(decode({ name: 'agg', cluster_type: { name: 'envoy.clusters.aggregate', typed_config: opaqueAny('type.googleapis.com/envoy.extensions.clusters.aggregate.v3.ClusterConfig') } })), ['cluster agg: cluster_type: custom cluster type envoy.clusters.aggregate is not supported']);
  assert.deepEqual(
    errs(
      decode({
        name: 'x',
        type: 'ORIGINAL_DST',
        lb_policy: 'ROUND_ROBIN',
        health_checks: [{ timeout: { seconds: 1 }, interval: { seconds: 1 }, tcp_health_check: {} }],
        transport_socket_matches: [{ name: 'tlsMode-istio', match: {}, transport_socket: { name: 'raw' } }],
        typed_extension_protocol_options: httpOpts({ explicit_http_config: { http3_protocol_options: {} } }),
        maglev_lb_config: {},
      }),
    ),
    [
      'cluster x: typed_extension_protocol_options[envoy.extensions.upstreams.http.v3.HttpProtocolOptions].explicit_http_config.http3_protocol_options: HTTP/3 upstreams are not supported',
      'cluster x: lb_policy: LB policy ROUND_ROBIN is not valid for cluster type ORIGINAL_DST; only CLUSTER_PROVIDED is allowed',
      'cluster x: transport_socket_matches: per-endpoint transport socket selection is not supported',
      'cluster x: health_checks: active health checking is not supported',
    ],
  );
  assert.deepEqual(errs(decode({ name: 'm', type: 'EDS', lb_policy: 'MAGLEV', maglev_lb_config: { table_size: { value: 1000 } } })), ['cluster m: maglev_lb_config.table_size: 1000 is not a prime number']);
});

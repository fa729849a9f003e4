// Runs the generated CDS/EDS for a proxyless gRPC node through @grpc/grpc-js-xds's own resource validators (the code
// its XdsClient uses to ACK/NACK), so what we send gRPC clients is accepted without a network round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { pushContextFromYaml, testProxy } from '../../model/testing.js';
import { encode } from '../../../xds/codec.js';
import { TypeUrl } from '../../../xds/types.js';
import { clusterGenerator } from './index.js';
import { endpointGenerator } from '../endpoint/index.js';

interface Decoded {
  name: string;
  error?: string;
}
interface ResourceType {
  decode(context: unknown, resource: { type_url: string; value: Uint8Array }): Decoded;
}
const require = createRequire(import.meta.url);
const { ClusterResourceType } = require('@grpc/grpc-js-xds/build/src/xds-resource-type/cluster-resource-type.js') as { ClusterResourceType: { get(): ResourceType } };
const { EndpointResourceType } = require('@grpc/grpc-js-xds/build/src/xds-resource-type/endpoint-resource-type.js') as { EndpointResourceType: { get(): ResourceType } };

const CONTEXT = { bootstrap: { certificateProviders: { default: {} } }, server: {} };
const HOST = 'reviews.default.svc.cluster.local';

const YAML = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 9080, name: grpc, protocol: GRPC}]
  workloadSelector: {labels: {app: reviews}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: r1, namespace: default}
spec: {address: 127.0.0.1, ports: {grpc: 50051}, labels: {app: reviews, version: v1}, locality: us/east/a}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: r2, namespace: default}
spec: {address: 127.0.0.1, ports: {grpc: 50052}, labels: {app: reviews, version: v2}, locality: us/west/a, weight: 5}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: r3, namespace: default}
spec: {address: 127.0.0.2, ports: {grpc: 50053}, labels: {app: reviews, version: v2}, locality: eu/west/a}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: default}
spec: {hosts: [ext.example.com], resolution: DNS, ports: [{number: 443, name: grpc, protocol: GRPC}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  trafficPolicy:
    loadBalancer: {simple: LEAST_REQUEST}
    outlierDetection: {consecutive5xxErrors: 3, interval: 1s, baseEjectionTime: 30s, maxEjectionPercent: 100}
    connectionPool: {http: {http2MaxRequests: 100, maxRequestsPerConnection: 10, idleTimeout: 10s}, tcp: {connectTimeout: 1s}}
  subsets:
  - {name: v1, labels: {version: v1}, trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x-user, maglev: {tableSize: 65537}}}}}
  - {name: v2, labels: {version: v2}, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}, loadBalancer: {consistentHash: {httpHeaderName: x-user, ringHash: {minimumRingSize: 64}}}}}
  - {name: rand, labels: {version: v2}, trafficPolicy: {loadBalancer: {simple: RANDOM}}}
`;

void test('grpc-js-xds accepts every Cluster and ClusterLoadAssignment generated for a gRPC node', () => {
  const push = pushContextFromYaml(YAML);
  const proxy = testProxy({ ip: '127.0.0.9', locality: 'us/east/a', metadata: { GENERATOR: 'grpc' } });
  const names = ['', 'v1', 'v2', 'rand'].map((s) => `outbound|9080|${s}|${HOST}`).concat('outbound|443||ext.example.com');
  const clusters = clusterGenerator.generate(proxy, push, { names });
  assert.equal(clusters.length, names.length);
  for (const c of clusters) {
    const d = ClusterResourceType.get().decode(CONTEXT, { type_url: TypeUrl.Cluster, value: encode(TypeUrl.Cluster, c.resource) });
    assert.equal(d.error, undefined, `${c.name}: ${d.error}`);
    assert.equal(d.name, c.name);
  }
  const edsNames = names.slice(0, 4);
  for (const e of endpointGenerator.generate(proxy, push, { names: edsNames })) {
    const d = EndpointResourceType.get().decode(CONTEXT, { type_url: TypeUrl.ClusterLoadAssignment, value: encode(TypeUrl.ClusterLoadAssignment, e.resource) });
    assert.equal(d.error, undefined, `${e.name}: ${d.error}`);
    assert.equal(d.name, e.name);
  }
});

void test('the validator is real: the Envoy-sidecar variant of the same cluster is rejected by grpc-js-xds', () => {
  const push = pushContextFromYaml(YAML);
  const envoy = clusterGenerator.generate(testProxy({ ip: '127.0.0.9' }), push, {});
  const c = envoy.find((r) => r.name === `outbound|9080||${HOST}`);
  assert.ok(c);
  const d = ClusterResourceType.get().decode(CONTEXT, { type_url: TypeUrl.Cluster, value: encode(TypeUrl.Cluster, c.resource) });
  assert.match(d.error ?? '', /unsupported lb_policy: LEAST_REQUEST/);
});

// The Node the proxy announces: Istio's node id and metadata, as the control plane's proxyFromNode reads them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromStruct } from '../../xds/codec.js';
import { parseNodeId } from '../../xds/types.js';
import { buildNode, proxyNodeId } from './node.js';

test('node id TYPE~IP~POD.NAMESPACE~NAMESPACE.svc.DOMAIN and Istio metadata', () => {
  assert.equal(proxyNodeId({ type: 'router', ip: '10.0.0.1', podName: 'gw-0', namespace: 'istio-system', domain: 'mesh.local' }), 'router~10.0.0.1~gw-0.istio-system~istio-system.svc.mesh.local');
  const n = buildNode({
    type: 'sidecar',
    ip: '127.0.12.1',
    podName: 'reviews-v1-0',
    namespace: 'default',
    labels: { app: 'reviews', version: 'v1' },
    serviceAccount: 'bookinfo-reviews',
    workloadGroup: 'reviews',
    interceptionMode: 'NONE',
    instanceIps: ['127.0.12.1', 'fd00::1'],
    network: 'net1',
    istioVersion: '1.24.0',
    locality: { region: 'r', zone: 'z', subZone: 's' },
    extraMetadata: { POD_PORTS: '[{"name":"http","containerPort":9080}]' },
  });
  assert.deepEqual(parseNodeId(n.id), { type: 'sidecar', ip: '127.0.12.1', id: 'reviews-v1-0.default', dnsDomain: 'default.svc.cluster.local' });
  assert.equal(n.cluster, 'reviews.default');
  assert.deepEqual(n.locality, { region: 'r', zone: 'z', sub_zone: 's' });
  assert.deepEqual(fromStruct(n.metadata), {
    NAMESPACE: 'default',
    LABELS: { app: 'reviews', version: 'v1' },
    SERVICE_ACCOUNT: 'bookinfo-reviews',
    WORKLOAD_NAME: 'reviews-v1-0',
    INSTANCE_IPS: '127.0.12.1,fd00::1',
    INTERCEPTION_MODE: 'NONE',
    CLUSTER_ID: 'Kubernetes',
    WORKLOAD_GROUP: 'reviews',
    NETWORK: 'net1',
    ISTIO_VERSION: '1.24.0',
    POD_PORTS: '[{"name":"http","containerPort":9080}]',
  });
});

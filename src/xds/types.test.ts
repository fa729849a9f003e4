import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterName, parseClusterName, parseNodeId } from './types.js';

test('cluster names round-trip in Istio form', () => {
  const n = clusterName('outbound', 9080, 'v1', 'reviews.default.svc.cluster.local');
  assert.equal(n, 'outbound|9080|v1|reviews.default.svc.cluster.local');
  assert.deepEqual(parseClusterName(n), { direction: 'outbound', port: 9080, subset: 'v1', host: 'reviews.default.svc.cluster.local' });
  assert.equal(parseClusterName('PassthroughCluster'), undefined);
});

test('node ids parse and reject malformed ones', () => {
  assert.deepEqual(parseNodeId('sidecar~10.0.0.1~reviews-v1.default~default.svc.cluster.local'), {
    type: 'sidecar', ip: '10.0.0.1', id: 'reviews-v1.default', dnsDomain: 'default.svc.cluster.local',
  });
  assert.match((parseNodeId('gateway~1~2~3') as { error: string }).error, /not sidecar or router/);
  assert.match((parseNodeId('a~b') as { error: string }).error, /4 parts/);
});

// VirtualService delegation through the PushContext: merged matches, inherited settings, conflicts and missing delegates.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configureLogging } from '../../shared/log.js';
import { pushContextFromYaml, testProxy } from './testing.js';

configureLogging({ level: 'none' });

const yaml = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: root, namespace: default}
spec:
  hosts: [bookinfo.example.com]
  http:
  - name: reviews
    match: [{uri: {prefix: /reviews}}]
    timeout: 5s
    delegate: {name: reviews-delegate, namespace: reviews}
  - name: missing
    match: [{uri: {prefix: /gone}}]
    delegate: {name: nope}
  - name: hidden
    match: [{uri: {prefix: /hidden}}]
    delegate: {name: private, namespace: other}
  - name: rest
    route: [{destination: {host: productpage}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-delegate, namespace: reviews}
spec:
  http:
  - name: v2
    match: [{uri: {prefix: /reviews/v2}, headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: v2}}]
    timeout: 1s
  - name: conflict
    match: [{uri: {prefix: /ratings}}]
    route: [{destination: {host: ratings}}]
  - name: default
    route: [{destination: {host: reviews, subset: v1}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: private, namespace: other}
spec:
  exportTo: ["."]
  http:
  - route: [{destination: {host: secret}}]
`;

void describe('delegate VirtualServices', () => {
  const push = pushContextFromYaml(yaml);
  const [root] = push.virtualServices(testProxy(), 'mesh');

  void it('replaces a delegate route by the delegate routes under the root match', () => {
    assert.ok(root);
    assert.deepEqual(
      root.spec.http?.map((r) => r.name),
      ['reviews-v2', 'reviews-default', 'rest'],
    );
    const [v2, dflt] = root.spec.http ?? [];
    assert.deepEqual(v2?.match, [{ uri: { prefix: '/reviews/v2' }, headers: { 'end-user': { exact: 'jason' } } }]);
    assert.equal(v2?.timeout, '1s', 'the delegate keeps its own settings');
    assert.equal(v2?.route?.[0]?.destination.host, 'reviews.reviews.svc.cluster.local', 'short names resolve in the delegate namespace');
    assert.deepEqual(dflt?.match, [{ uri: { prefix: '/reviews' } }]);
    assert.equal(dflt?.timeout, '5s', 'unset fields come from the root route');
    assert.equal(root.spec.http?.some((r) => r.delegate), false);
  });

  void it('drops delegate routes whose match does not narrow the root, and delegates not exported to the root', () => {
    assert.equal(root?.spec.http?.some((r) => r.name === 'reviews-conflict'), false);
    assert.equal(root?.spec.http?.some((r) => r.name?.startsWith('hidden')), false);
  });

  void it('keeps delegates out of the root list but reachable', () => {
    assert.equal(push.virtualServices(testProxy(), 'mesh').length, 1);
    assert.ok(push.delegateVirtualService('reviews', 'reviews-delegate'));
  });
});

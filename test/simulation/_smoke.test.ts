import { test } from 'node:test';
import { pushContextFromYaml, testProxy } from '../../src/controlplane/model/testing.js';
import { buildSnapshot, simulateProxy } from './harness.js';
import { BOOKINFO, join } from './fixtures.js';
void test('smoke', () => {
  const push = pushContextFromYaml(join(BOOKINFO, `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - route: [{destination: {host: reviews, subset: v1}}]`));
  const proxy = testProxy({ labels: { app: 'productpage', version: 'v1' }, ip: '10.0.0.10' });
  const snap = buildSnapshot(push, proxy);
  console.log(JSON.stringify(snap.listeners.map((l) => l.name)));
  console.log(JSON.stringify(snap.routes, null, 1).slice(0, 6000));
  console.log(simulateProxy(push, proxy, { port: 9080, host: 'reviews', headers: { 'end-user': 'jason' } }));
  console.log(simulateProxy(push, proxy, { port: 9080, host: 'reviews:9080' }));
});

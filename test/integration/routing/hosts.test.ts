// Which Host headers reach which service, and which VirtualServices apply: Kubernetes-style short names
// (reviews, reviews.default, with and without port), VirtualService short hosts resolved in their namespace, and
// wildcard VirtualService hosts covering several services.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { App } from '../support/apps.js';
import { dest, serviceEntry, virtualService, workloadEntry } from '../support/istio.js';
import { Mesh } from '../support/mesh.js';
import type { Sidecar } from '../support/sidecar.js';

const REVIEWS = 'reviews.default.svc.cluster.local';
let mesh: Mesh;
let client: Sidecar;
let reviews: App;
let a: App;
let b: App;

before(async () => {
  mesh = await Mesh.create();
  reviews = await mesh.app('reviews');
  a = await mesh.app('a');
  b = await mesh.app('b');
  const port = mesh.port;
  mesh.write('svc.yaml', [
    serviceEntry({ name: 'reviews', host: REVIEWS, port, app: 'reviews' }),
    workloadEntry({ name: 'reviews', address: reviews.ip, port: reviews.port, labels: { app: 'reviews' } }),
    serviceEntry({ name: 'a', host: 'a.wild.test', port, app: 'a' }),
    workloadEntry({ name: 'a', address: a.ip, port: a.port, labels: { app: 'a' } }),
    serviceEntry({ name: 'b', host: 'b.wild.test', port, app: 'b' }),
    workloadEntry({ name: 'b', address: b.ip, port: b.port, labels: { app: 'b' } }),
  ]);
  mesh.write('vs.yaml', [
    virtualService({ name: 'reviews', hosts: ['reviews'], http: [{ match: [{ uri: { prefix: '/vs' } }], directResponse: { status: 418, body: { string: 'short host VS' } } }, { route: [dest(REVIEWS)] }] }),
    virtualService({ name: 'wild', hosts: ['*.wild.test'], http: [{ match: [{ uri: { prefix: '/vs' } }], directResponse: { status: 418, body: { string: 'wildcard VS' } } }, { route: [dest('a.wild.test')] }] }),
  ]);
  await mesh.startDiscovery();
  client = await mesh.client({ name: 'client' });
});

after(async () => {
  await mesh?.close();
});

test('a cluster.local service answers to its short names, with and without the port', async () => {
  for (const host of ['reviews', 'reviews.default', 'reviews.default.svc', REVIEWS, `reviews:${mesh.port}`, `${REVIEWS}:${mesh.port}`]) {
    const r = await client.request(host, '/');
    assert.equal(r.status, 200, host);
    assert.equal(r.app, 'reviews', host);
  }
  assert.equal((await client.request('reviews.other', '/')).app, undefined, 'another namespace is another service');
});

test('a VirtualService with a short host applies to the namespace-qualified service', async () => {
  const r = await client.request('reviews', '/vs');
  assert.deepEqual([r.status, r.body], [418, 'short host VS']);
  assert.equal((await client.request(REVIEWS, '/vs')).status, 418);
});

test('a wildcard VirtualService host applies to every matching service', async () => {
  for (const host of ['a.wild.test', 'b.wild.test']) {
    const r = await client.request(host, '/vs');
    assert.deepEqual([r.status, r.body], [418, 'wildcard VS'], host);
  }
  // Its default route sends b.wild.test traffic to a.
  assert.equal((await client.request('b.wild.test', '/')).app, 'a');
});

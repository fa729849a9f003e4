// Local-mode planning: one loopback address per replica in a block per service, the bindings checked before start,
// and the environment and argv each app gets.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { loadMeshFile, parseMeshFile } from './mesh-file.js';
import type { MeshSpec } from './mesh-file.js';
import { appArgv, appEnv, bindings, expandVars, openUrls, planMesh } from './plan.js';

const BOOKINFO = fileURLToPath(new URL('../../samples/bookinfo/mesh.yaml', import.meta.url));

function mesh(yaml: string): MeshSpec {
  const r = parseMeshFile(yaml, '/srv/mesh.yaml');
  assert.deepEqual(r.errors, []);
  return r.mesh!;
}

test('Bookinfo addresses: a block per service, replicas numbered within it', async () => {
  const m = (await loadMeshFile(BOOKINFO)).mesh!;
  const { plan, errors } = planMesh(m);
  assert.deepEqual(errors, []);
  const ips = Object.fromEntries(plan!.instances.map((i) => [i.name, i.ip]));
  assert.deepEqual(ips, {
    'productpage-v1': '127.0.10.1',
    'details-v1': '127.0.11.1',
    'reviews-v1': '127.0.12.1',
    'reviews-v2': '127.0.12.2',
    'reviews-v3': '127.0.12.3',
    'ratings-v1': '127.0.13.1',
    'httpbin-v1': '127.0.14.1',
    'httpbin-v2': '127.0.14.2',
    sleep: '127.0.15.1',
  });
  const reviews = plan!.instances.find((i) => i.name === 'reviews-v2')!;
  assert.equal(reviews.proxyId, 'sidecar~127.0.12.2~reviews-v2.default~default.svc.cluster.local');
  assert.deepEqual(reviews.labels, { app: 'reviews', version: 'v2', 'isthmus.io/instance': 'reviews-v2' });
  assert.equal(reviews.ports[0]?.listen, 19080);
  assert.deepEqual(plan!.services.map((s) => s.hostname), ['productpage', 'details', 'reviews', 'ratings', 'httpbin'].map((s) => `${s}.default.svc.cluster.local`));
  assert.equal(plan!.gateways[0]?.proxyId, 'router~127.0.0.1~istio-ingressgateway.istio-system~istio-system.svc.cluster.local');
  assert.deepEqual(openUrls(plan!), ['http://127.0.0.1:8080/productpage']);
});

test('replicas get <name>-N and consecutive addresses; the prefix moves every block', () => {
  const { plan } = planMesh(mesh(`addressPrefix: "127.42"
workloads:
- {name: a, service: {port: 8080}, command: [x], replicas: 3}
- {name: b, command: [x], sidecar: false, service: {port: 9000}}
`));
  assert.deepEqual(plan!.instances.map((i) => `${i.name}=${i.ip}`), ['a-1=127.42.10.1', 'a-2=127.42.10.2', 'a-3=127.42.10.3', 'b=127.42.11.1']);
  // Without a sidecar the app listens on the service port itself, and has no proxy.
  const b = plan!.instances[3];
  assert.equal(b.proxyId, undefined);
  assert.equal(b.ports[0]?.listen, 9000);
});

test('bindings list every address:port of every process; a workload may not take a gateway address', () => {
  const m = mesh(`controlPlane: {grpcPort: 0, httpPort: 0, monitoringPort: 0}
gateways: [{name: gw, address: 127.0.1.1, ports: [{port: 8080, hostPort: 9999}]}]
workloads: [{name: a, service: {port: 9080}, command: [x]}]
`);
  const b = bindings(planMesh(m).plan!).map((x) => `${x.host}:${x.port}`);
  assert.deepEqual(b.sort(), [
    '127.0.0.1:9999',
    '127.0.1.1:15000', '127.0.1.1:15020', '127.0.1.1:15021', '127.0.1.1:8080',
    '127.0.10.1:15000', '127.0.10.1:15001', '127.0.10.1:15020', '127.0.10.1:15021', '127.0.10.1:19080', '127.0.10.1:9080',
  ].sort());
  const clash = planMesh(mesh('gateways: [{name: gw, address: 127.0.10.1, ports: [8080]}]\nworkloads: [{name: a, command: [x]}]\n'));
  assert.match(clash.errors[0]?.message ?? '', /a would get address 127\.0\.10\.1, which is the address of gateway gw/);
});

test('apps get BIND, HTTP_PROXY and their identity; the shell proxy settings are dropped; $(VAR) expands', () => {
  const m = mesh(`workloads:
- name: web
  service: {port: 8000}
  serviceAccount: web-sa
  command: [node, app.js, --listen, $(BIND), $(UNKNOWN), $$(BIND)]
  env: {GREETING: "hi from $(WORKLOAD_NAME)", PORT: 8000}
`);
  const inst = planMesh(m).plan!.instances[0];
  const env = appEnv(inst, { PATH: '/bin', HTTPS_PROXY: 'http://corp:3128', no_proxy: 'x', HOME: '/home/u' });
  assert.equal(env.BIND, '127.0.10.1:18000');
  assert.equal(env.HTTP_PROXY, 'http://127.0.10.1:15001');
  assert.equal(env.http_proxy, 'http://127.0.10.1:15001');
  assert.equal(env.HTTPS_PROXY, undefined);
  assert.equal(env.no_proxy, undefined);
  assert.equal(env.PATH, '/bin');
  assert.equal(env.WORKLOAD_NAME, 'web');
  assert.equal(env.POD_NAMESPACE, 'default');
  assert.equal(env.SERVICE_ACCOUNT, 'web-sa');
  assert.equal(env.INSTANCE_IP, '127.0.10.1');
  assert.equal(env.GREETING, 'hi from web');
  assert.equal(env.PORT, '8000');
  assert.deepEqual(appArgv(inst, env), ['node', 'app.js', '--listen', '127.0.10.1:18000', '$(UNKNOWN)', '$(BIND)']);
  assert.equal(expandVars('$(constructor)', {}), '$(constructor)');
});

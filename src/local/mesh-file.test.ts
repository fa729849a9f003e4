// mesh.yaml validation: defaults, the bundled Bookinfo file, and every error reported with its line and field path.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { formatError } from '../api/errors.js';
import { loadMeshFile, parseMeshFile } from './mesh-file.js';

const BOOKINFO = fileURLToPath(new URL('../../samples/bookinfo/mesh.yaml', import.meta.url));

function errors(yaml: string): string[] {
  const r = parseMeshFile(yaml, '/tmp/x/mesh.yaml', 'mesh.yaml');
  assert.equal(r.mesh, undefined, 'expected errors');
  return r.errors.map(formatError);
}

test('the bundled Bookinfo mesh file is valid', async () => {
  const r = await loadMeshFile(BOOKINFO);
  assert.deepEqual(r.errors.map(formatError), []);
  const m = r.mesh!;
  assert.equal(m.name, 'bookinfo');
  assert.deepEqual(m.workloads.map((w) => w.name), ['productpage-v1', 'details-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3', 'ratings-v1', 'httpbin-v1', 'httpbin-v2', 'sleep']);
  assert.equal(m.gateways[0]?.labels.istio, 'ingressgateway');
  assert.equal(m.gateways[0]?.namespace, 'istio-system');
  assert.ok(m.config[0]?.endsWith('samples/bookinfo/networking/bookinfo-gateway.yaml'));
  const reviews = m.workloads.find((w) => w.name === 'reviews-v2')!;
  assert.deepEqual(reviews.service, { name: 'reviews', ports: [{ number: 9080, protocol: 'HTTP', name: 'http', appPort: 19080 }] });
  assert.equal(reviews.serviceAccount, 'bookinfo-reviews');
  assert.equal(reviews.healthPath, '/health');
  assert.equal(reviews.sidecar, true);
  assert.equal(m.workloads.find((w) => w.name === 'sleep')?.service, undefined);
});

test('defaults: namespace default, app label from the service, control plane ports, one replica', () => {
  const r = parseMeshFile('workloads:\n- name: web\n  service: {port: 8000}\n  command: [node, app.js]\n', '/srv/m/mesh.yaml');
  assert.deepEqual(r.errors, []);
  const m = r.mesh!;
  assert.equal(m.name, 'mesh');
  assert.equal(m.addressPrefix, '127.0');
  assert.deepEqual(m.controlPlane, { address: '127.0.0.1', grpcPort: 15010, httpPort: 15080, monitoringPort: 15014, logLevel: 'info', accessLogFile: '' });
  const w = m.workloads[0];
  assert.equal(w.namespace, 'default');
  assert.equal(w.service?.name, 'web');
  assert.deepEqual(w.labels, { app: 'web' });
  assert.equal(w.replicas, 1);
  assert.equal(w.workingDir, '/srv/m');
  assert.equal(w.restart, 'always');
});

test('every error is reported, with line and field path', () => {
  const got = errors(`name: Bad_Name
addressPrefix: 10.0
controlPlane: {grpcPort: 99999, colour: blue}
gateways:
- name: gw
  address: 192.168.1.1
  ports: [{port: 15000}]
workloads:
- name: reviews-v1
  service: {name: reviews, port: 9080}
  labels: {app: other}
  command: "node app.js"
- service: {name: reviews, port: 9081, protocol: SCTP}
  command: [node, app.js]
  replicas: 0
open:
- {gateway: nope, path: /x}
`);
  const expect = [
    'mesh.yaml:1: name: "Bad_Name" is not valid',
    'mesh.yaml:2: addressPrefix: "10.0" is not valid',
    'mesh.yaml:3: controlPlane.grpcPort: expected an integer 0-65535, got 99999',
    'mesh.yaml:3: controlPlane.colour: unknown field',
    'mesh.yaml:6: gateways[0].address: "192.168.1.1" is not a loopback IPv4 address',
    'mesh.yaml:7: gateways[0].ports[0]: port 15000 is reserved for the gateway proxy (proxy admin)',
    'mesh.yaml:11: workloads[0].labels.app: must be "reviews"',
    'mesh.yaml:12: workloads[0].command: expected a list of strings (argv)',
    'mesh.yaml:13: workloads[1].name: required',
    'mesh.yaml:13: workloads[1].service.protocol: expected one of HTTP, HTTP2, GRPC, TCP, got "SCTP"',
    'mesh.yaml:13: workloads[1].service: service default/reviews is declared with other ports at workloads[0].service',
    'mesh.yaml:15: workloads[1].replicas: expected an integer 1-254, got 0',
    'mesh.yaml:17: open[0].gateway: no gateway named "nope" (gateways: gw)',
  ];
  for (const e of expect) assert.ok(got.some((g) => g.startsWith(e)), `missing ${JSON.stringify(e)} in:\n${got.join('\n')}`);
});

test('ports: reserved, service port reused as app port, duplicate names and replica names', () => {
  const got = errors(`workloads:
- name: a
  service: {port: 5000}
  command: [x]
- name: b
  service: {port: 9080, appPort: 9080}
  command: [x]
- name: a-1
  command: [x]
- name: c
  replicas: 2
  command: [x]
- name: c-2
  command: [x]
`);
  const expect = [
    'workloads[0].service: app port 15000 is reserved for the sidecar (proxy admin)',
    'workloads[1].service: app port 9080 is already used as the service port',
    'workloads[4].name: name "c-2" is already used by workloads[3].name',
  ];
  for (const e of expect) assert.ok(got.some((g) => g.includes(e)), `missing ${JSON.stringify(e)} in:\n${got.join('\n')}`);
});

test('an unquoted addressPrefix keeps the digits as written', () => {
  const r = parseMeshFile('addressPrefix: 127.10\nworkloads: []\n', '/m.yaml');
  assert.equal(r.mesh?.addressPrefix, '127.10');
});

test('YAML syntax errors and an empty file are reported, not thrown', () => {
  assert.match(errors('workloads: [\n')[0], /^mesh\.yaml:\d+: YAML syntax error/);
  assert.match(errors('')[0], /the mesh file is empty/);
});

test('a health path needs a service; multi-port services use ports', () => {
  const got = errors('workloads:\n- name: s\n  command: [x]\n  health: /h\n- name: t\n  command: [x]\n  service: {port: 80, ports: [{number: 81}]}\n');
  assert.ok(got.some((g) => g.includes('workloads[0].health: a health path needs a service port')), got.join('\n'));
  assert.ok(got.some((g) => g.includes('workloads[1].service.ports: use either port/protocol/appPort or ports')), got.join('\n'));
  const ok = parseMeshFile('workloads:\n- name: t\n  command: [x]\n  service: {ports: [{number: 8080, name: http-web}, {number: 9090, protocol: GRPC}]}\n', '/m.yaml');
  assert.deepEqual(ok.errors, []);
  assert.deepEqual(ok.mesh?.workloads[0]?.service?.ports, [
    { number: 8080, protocol: 'HTTP', name: 'http-web', appPort: 18080 },
    { number: 9090, protocol: 'GRPC', name: 'grpc', appPort: 19090 },
  ]);
});

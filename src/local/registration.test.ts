// The registration the runner writes (ServiceEntry, WorkloadEntry, Sidecar per instance) validates as Istio YAML, and
// the control plane's generators turn it into what local mode needs: inbound <ip>:<port> → app on <ip>:<appPort>,
// endpoints on each replica's address, and (once generators support it) an HTTP proxy on <ip>:15001.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { formatError } from '../api/errors.js';
import { parseDocuments } from '../api/load.js';
import { defaultGenerators } from '../controlplane/generate/index.js';
import { pushContextFromYaml, testProxy } from '../controlplane/model/testing.js';
import { TypeUrl } from '../xds/types.js';
import { loadMeshFile } from './mesh-file.js';
import type { InstancePlan, MeshPlan } from './plan.js';
import { planMesh } from './plan.js';
import { registrationKeys, registrationResources, registrationYaml } from './registration.js';

const BOOKINFO = fileURLToPath(new URL('../../samples/bookinfo/mesh.yaml', import.meta.url));
const GATEWAY_YAML = fileURLToPath(new URL('../../samples/bookinfo/networking/bookinfo-gateway.yaml', import.meta.url));
type Obj = Record<string, unknown>;

async function bookinfo(): Promise<MeshPlan> {
  return planMesh((await loadMeshFile(BOOKINFO)).mesh!).plan!;
}

function sidecarProxy(i: InstancePlan) {
  return testProxy({ ip: i.ip, name: i.name, labels: i.labels, serviceAccount: i.workload.serviceAccount, metadata: { INTERCEPTION_MODE: 'NONE' } });
}

function generate(yaml: string, proxy: ReturnType<typeof testProxy>, typeUrl: string, names?: string[]): Obj[] {
  const push = pushContextFromYaml(yaml);
  const gen = defaultGenerators().get(typeUrl)!;
  return gen.generate(proxy, push, names ? { names } : {}).map((r) => r.resource);
}

test('registration YAML validates: a ServiceEntry per service, a WorkloadEntry and a Sidecar per instance', async () => {
  const plan = await bookinfo();
  const yaml = registrationYaml(plan);
  const r = parseDocuments(yaml, 'registration.yaml');
  assert.deepEqual(r.errors.map(formatError), []);
  assert.deepEqual(r.warnings.map(formatError), []);
  const kinds = r.configs.map((c) => c.meta.kind);
  assert.equal(kinds.filter((k) => k === 'ServiceEntry').length, 5);
  assert.equal(kinds.filter((k) => k === 'WorkloadEntry').length, 9);
  assert.equal(kinds.filter((k) => k === 'Sidecar').length, 9);
  assert.ok(registrationKeys(registrationResources(plan)).includes('Sidecar/default/reviews-v2'));
  const se = r.configs.find((c) => c.meta.kind === 'ServiceEntry' && c.meta.name === 'reviews')!.spec as Obj;
  assert.deepEqual(se, { hosts: ['reviews.default.svc.cluster.local'], location: 'MESH_INTERNAL', resolution: 'STATIC', ports: [{ number: 9080, name: 'http', protocol: 'HTTP' }], workloadSelector: { labels: { app: 'reviews' } } });
});

test('generators: the sidecar listens on <ip>:9080 and forwards to the app on <ip>:19080; EDS lists every replica', async () => {
  const plan = await bookinfo();
  const yaml = registrationYaml(plan);
  const pp = plan.instances.find((i) => i.name === 'productpage-v1')!;
  const listeners = generate(yaml, sidecarProxy(pp), TypeUrl.Listener);
  const inbound = listeners.find((l) => l.name === '127.0.10.1_9080');
  assert.ok(inbound, `no inbound listener; got ${listeners.map((l) => String(l.name)).join(', ')}`);
  assert.deepEqual(inbound.address, { socket_address: { address: '127.0.10.1', port_value: 9080 } });
  const clusters = generate(yaml, sidecarProxy(pp), TypeUrl.Cluster);
  const cluster = clusters.find((c) => c.name === 'inbound|9080||') as { load_assignment?: { endpoints: { lb_endpoints: { endpoint: { address: unknown } }[] }[] } } | undefined;
  assert.deepEqual(cluster?.load_assignment?.endpoints[0]?.lb_endpoints[0]?.endpoint.address, { socket_address: { address: '127.0.10.1', port_value: 19080 } });
  const eds = generate(yaml, sidecarProxy(pp), TypeUrl.ClusterLoadAssignment, ['outbound|9080||reviews.default.svc.cluster.local'])[0] as { endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { address: string; port_value: number } } } }[] }[] };
  const addrs = eds.endpoints.flatMap((l) => l.lb_endpoints.map((e) => `${e.endpoint.address.socket_address.address}:${e.endpoint.address.socket_address.port_value}`)).sort();
  assert.deepEqual(addrs, ['127.0.12.1:9080', '127.0.12.2:9080', '127.0.12.3:9080']);
});

test('generators: the ingress gateway serves bookinfo-gateway on port 8080 and routes /productpage to productpage', async () => {
  const plan = await bookinfo();
  const yaml = `${registrationYaml(plan)}\n---\n${readFileSync(GATEWAY_YAML, 'utf8')}`;
  const g = plan.gateways[0];
  const proxy = testProxy({ type: 'router', ip: g.ip, name: g.spec.name, namespace: g.spec.namespace, labels: g.spec.labels, metadata: { INTERCEPTION_MODE: 'NONE' } });
  const listeners = generate(yaml, proxy, TypeUrl.Listener);
  assert.deepEqual(listeners.map((l) => (l.address as { socket_address: { port_value: number } }).socket_address.port_value), [8080]);
  const routes = JSON.stringify(generate(yaml, proxy, TypeUrl.RouteConfiguration, ['http.8080']));
  assert.match(routes, /"path":"\/productpage"/);
  assert.match(routes, /outbound\|9080\|\|productpage\.default\.svc\.cluster\.local/);
});

// Local mode's outbound path: the app sends absolute-URI requests (GET http://reviews:9080/... ) to <ip>:15001, a
// Sidecar egress port of protocol HTTP_PROXY built like Istio's HTTP proxy listener (HCM, rds "http_proxy",
// allow_absolute_url) with an "http_proxy" route configuration over every service port.
test('generators: the HTTP_PROXY egress port is an HTTP proxy on <ip>:15001 routing by host:port', async () => {
  const plan = await bookinfo();
  const yaml = registrationYaml(plan);
  const pp = plan.instances.find((i) => i.name === 'productpage-v1')!;
  const l = generate(yaml, sidecarProxy(pp), TypeUrl.Listener).find((x) => x.name === '127.0.10.1_15001');
  const hcm = JSON.stringify(l);
  assert.match(hcm, /http_connection_manager/);
  assert.match(hcm, /"route_config_name":"http_proxy"/);
  assert.match(hcm, /"allow_absolute_url":\{"value":true\}/);
  const rc = JSON.stringify(generate(yaml, sidecarProxy(pp), TypeUrl.RouteConfiguration, ['http_proxy']));
  assert.match(rc, /"reviews:9080"/);
  assert.match(rc, /"httpbin:8000"/);
  assert.match(rc, /outbound\|9080\|\|reviews\.default\.svc\.cluster\.local/);
});

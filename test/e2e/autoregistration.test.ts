// A proxy that connects with WorkloadGroup metadata is auto-registered (as istiod does for VMs): it becomes an
// endpoint of the services selecting it while connected, and disappears after the grace period once it leaves.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdsTestClient, testNode } from '../../src/controlplane/server/testkit.js';
import type { SotwRequest, SotwResponse } from '../../src/controlplane/server/ads-service.js';
import { decodeToObject } from '../../src/xds/codec.js';
import { TypeUrl } from '../../src/xds/types.js';
import { startDiscovery, type DiscoveryProcess } from '../support/discovery-process.js';

const CLUSTER = 'outbound|9080||ratings.default.svc.cluster.local';
const CONFIG = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ratings, namespace: default}
spec:
  hosts: [ratings.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 9080, name: http, protocol: HTTP}]
  workloadSelector: {labels: {app: ratings}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: {name: ratings-vm, namespace: default}
spec:
  metadata: {labels: {app: ratings, version: v1}}
  template: {serviceAccount: ratings, ports: {http: 9080}}
`;

let dir: string;
let discovery: DiscoveryProcess;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'isthmus-autoreg-'));
  writeFileSync(join(dir, 'ratings.yaml'), CONFIG);
  discovery = await startDiscovery({ configDir: dir, env: { PILOT_WORKLOAD_ENTRY_GRACE_PERIOD: '300' } });
});

after(async () => {
  await discovery?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function endpointsOf(res: SotwResponse): string[] {
  const out: string[] = [];
  for (const r of res.resources) {
    const cla = decodeToObject(TypeUrl.ClusterLoadAssignment, r.value) as { endpoints?: { lb_endpoints?: { endpoint: { address: { socket_address: { address: string; port_value: number } } } }[] }[] };
    for (const g of cla.endpoints ?? []) for (const e of g.lb_endpoints ?? []) out.push(`${e.endpoint.address.socket_address.address}:${e.endpoint.address.socket_address.port_value}`);
  }
  return out.sort();
}

/** Reads EDS responses (ACKing each) until `want` holds. */
async function edsUntil(c: AdsTestClient<SotwRequest, SotwResponse>, want: (eps: string[]) => boolean): Promise<string[]> {
  for (;;) {
    const res = await c.next(5000);
    c.send({ type_url: res.type_url, version_info: res.version_info, response_nonce: res.nonce, resource_names: res.type_url === TypeUrl.ClusterLoadAssignment ? [CLUSTER] : [] });
    if (res.type_url !== TypeUrl.ClusterLoadAssignment) continue;
    const eps = endpointsOf(res);
    if (want(eps)) return eps;
  }
}

test('a WorkloadGroup proxy is an endpoint while connected and is removed after the grace period', async () => {
  const observer = AdsTestClient.sotw(discovery.grpc);
  observer.send({ node: testNode('sidecar~127.0.0.2~productpage-1.default~default.svc.cluster.local'), type_url: TypeUrl.ClusterLoadAssignment, resource_names: [CLUSTER] });
  assert.deepEqual(await edsUntil(observer, () => true), [], 'no endpoints before the VM connects');

  const vm = AdsTestClient.sotw(discovery.grpc);
  vm.send({
    node: testNode('sidecar~127.0.0.77~ratings-vm-1.default~default.svc.cluster.local', { NAMESPACE: 'default', WORKLOAD_GROUP: 'ratings-vm', INSTANCE_IPS: '127.0.0.77' }),
    type_url: TypeUrl.Cluster,
    resource_names: [],
  });
  assert.deepEqual(await edsUntil(observer, (eps) => eps.length > 0), ['127.0.0.77:9080']);

  const configz = JSON.stringify(await discovery.debug('/debug/configz'));
  assert.match(configz, /ratings-vm-127\.0\.0\.77/, 'the auto-registered WorkloadEntry is visible in configz');

  vm.close();
  const t0 = Date.now();
  assert.deepEqual(await edsUntil(observer, (eps) => eps.length === 0), []);
  assert.ok(Date.now() - t0 >= 250, 'kept for the grace period');
  observer.close();
});

// The composition root in-process: files → push → ADS client, file edits reach the client, debug/metrics, busy ports, close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configureLogging } from '../shared/log.js';
import { TypeUrl } from '../xds/types.js';
import type { Generator } from './generate/types.js';
import { runDiscovery } from './main.js';
import { AdsTestClient, resourceNames, testNode } from './server/testkit.js';

configureLogging({ level: 'error' });

/** A minimal CDS generator over the real PushContext: one EDS cluster per service port. */
const cds: Generator = {
  typeUrl: TypeUrl.Cluster,
  generate: (_proxy, push) =>
    push.services.flatMap((s) =>
      s.ports.map((p) => {
        const name = `outbound|${p.port}||${s.hostname}`;
        return { name, resource: { name, type: 'EDS', eds_cluster_config: { eds_config: { ads: {} } } } };
      }),
    ),
};

const serviceEntry = (name: string, port: number): string => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: ${name}
  namespace: default
spec:
  hosts: [${name}.default.svc.cluster.local]
  ports: [{number: ${port}, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: 127.0.0.10}]
`;

test('runDiscovery serves the config dir over ADS, follows edits, and shuts down', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'isthmus-discovery-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'reviews.yaml'), serviceEntry('reviews', 9080));
  const lines: string[] = [];
  const d = await runDiscovery({
    configDirs: [dir],
    grpcAddr: '127.0.0.1:0',
    httpAddr: '127.0.0.1:0',
    monitoringAddr: '127.0.0.1:0',
    env: { PILOT_DEBOUNCE_AFTER: '10' },
    stdout: { write: (s) => lines.push(s) },
    handleSignals: false,
    generators: new Map([[TypeUrl.Cluster, cds]]),
  });
  t.after(() => d.close());
  assert.equal(lines.length, 1);
  const ready = JSON.parse(lines[0] ?? '') as Record<string, string>;
  assert.deepEqual(Object.keys(ready), ['event', 'grpc', 'http', 'monitoring']);
  assert.equal(ready.event, 'ready');
  assert.equal(ready.grpc, d.grpcAddress);
  assert.match(ready.grpc ?? '', /^127\.0\.0\.1:\d+$/);

  const c = AdsTestClient.sotw(d.grpcAddress);
  t.after(() => c.close());
  c.send({ node: testNode(), type_url: TypeUrl.Cluster });
  const first = await c.next();
  assert.deepEqual(resourceNames(first), ['outbound|9080||reviews.default.svc.cluster.local']);
  c.send({ type_url: TypeUrl.Cluster, response_nonce: first.nonce, version_info: first.version_info });

  await writeFile(join(dir, 'ratings.yaml'), serviceEntry('ratings', 9080));
  const second = await c.next();
  assert.notEqual(second.version_info, first.version_info);
  assert.deepEqual(resourceNames(second).sort(), ['outbound|9080||ratings.default.svc.cluster.local', 'outbound|9080||reviews.default.svc.cluster.local']);

  const base = `http://${d.httpAddress}`;
  assert.equal((await fetch(`${base}/ready`)).status, 200);
  const configz = (await (await fetch(`${base}/debug/configz`)).json()) as { meta: { name: string } }[];
  assert.deepEqual(configz.map((x) => x.meta.name).sort(), ['ratings', 'reviews']);
  const registryz = (await (await fetch(`${base}/debug/registryz`)).json()) as { hostname: string; endpoints: { address: string }[] }[];
  assert.equal(registryz.find((s) => s.hostname === 'reviews.default.svc.cluster.local')?.endpoints[0]?.address, '127.0.0.10');
  const metrics = await (await fetch(`http://${d.monitoringAddress}/metrics`)).text();
  assert.match(metrics, /^pilot_k8s_cfg_events\{type="ServiceEntry",event="add"\} 2$/m);
  assert.match(metrics, /^process_resident_memory_bytes /m);

  // An invalid resource is rejected alone and counted.
  await writeFile(join(dir, 'bad.yaml'), serviceEntry('bad', 0).replace('resolution: STATIC', 'resolution: SOMETIMES'));
  await waitFor(async () => /galley_validation_failed\{type="ServiceEntry",reason="invalid"\} 1/.test(await (await fetch(`http://${d.monitoringAddress}/metrics`)).text()));

  const status = c.status;
  await d.close();
  await d.done;
  assert.equal((await status).code, 0);
});

test('runDiscovery fails with the busy address and leaves nothing listening', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'isthmus-discovery-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const quiet = { write: () => true };
  const first = await runDiscovery({ configDirs: [dir], grpcAddr: '127.0.0.1:0', httpAddr: '127.0.0.1:0', monitoringAddr: '127.0.0.1:0', stdout: quiet, handleSignals: false, generators: new Map() });
  t.after(() => first.close());
  await assert.rejects(
    runDiscovery({ configDirs: [dir], grpcAddr: '127.0.0.1:0', httpAddr: first.httpAddress, monitoringAddr: '127.0.0.1:0', stdout: quiet, handleSignals: false, generators: new Map() }),
    new RegExp(`cannot listen for debug on ${first.httpAddress.replace(/\./g, '\\.')}: address already in use`),
  );
  await assert.rejects(
    runDiscovery({ configDirs: [dir], grpcAddr: first.grpcAddress, stdout: quiet, handleSignals: false, generators: new Map() }),
    new RegExp(`cannot listen for xDS on ${first.grpcAddress.replace(/\./g, '\\.')}: address already in use`),
  );
  await assert.rejects(runDiscovery({ configDirs: [join(dir, 'missing')], stdout: quiet, handleSignals: false, generators: new Map() }), /does not exist/);
});

/** Polls an asynchronous condition (for effects with no event to await, like a file watcher's reload). */
async function waitFor(cond: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

// The proxy's ADS client against the real control plane (runDiscovery in-process, Bookinfo sample config in a temp
// directory): first full config, a VirtualService change arriving as a new snapshot (SotW and Delta), and a control
// plane restart on the same port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDiscovery } from '../../src/controlplane/main.js';
import type { Discovery } from '../../src/controlplane/main.js';
import { configureLogging } from '../../src/shared/log.js';
import type { ConfigSnapshot } from '../../src/proxy/runtime/types.js';
import { AdsClient } from '../../src/proxy/xds-client/ads-client.js';
import { REPO_ROOT } from '../support/discovery-process.js';

configureLogging({ level: 'none' });

const REVIEWS = 'reviews.default.svc.cluster.local';
const NODE = { type: 'sidecar' as const, ip: '127.0.10.1', podName: 'productpage-v1-0', namespace: 'default', labels: { app: 'productpage', version: 'v1' }, serviceAccount: 'bookinfo-productpage' };

function configDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'isthmus-xds-client-'));
  cpSync(join(REPO_ROOT, 'samples', 'bookinfo', 'platform'), join(dir, 'platform'), { recursive: true });
  cpSync(join(REPO_ROOT, 'samples', 'bookinfo', 'networking'), join(dir, 'networking'), { recursive: true });
  return dir;
}

function discovery(dir: string, grpcAddr = '127.0.0.1:0'): Promise<Discovery> {
  return runDiscovery({ configDirs: [dir], grpcAddr, httpAddr: '127.0.0.1:0', monitoringAddr: '127.0.0.1:0', handleSignals: false, stdout: { write: () => true } });
}

/** The cluster the sidecar's route for reviews:9080 sends `/` to. */
function reviewsCluster(s: ConfigSnapshot): string | undefined {
  const a = s.routes.get('9080')?.findVirtualHost('reviews:9080')?.routes.at(-1)?.action;
  return a?.type === 'route' ? a.cluster : undefined;
}

function snapshotWhere(c: AdsClient, pred: (s: ConfigSnapshot) => boolean, timeoutMs = 10_000): Promise<ConfigSnapshot> {
  if (pred(c.source.current())) return Promise.resolve(c.source.current());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`snapshot condition not met within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = c.source.subscribe((s) => {
      if (!pred(s)) return;
      clearTimeout(timer);
      off();
      resolve(s);
    });
  });
}

for (const delta of [false, true]) {
  test(`${delta ? 'Delta' : 'SotW'} against isthmus discovery: full config, then a VirtualService change`, async (t) => {
    const dir = configDir();
    const d = await discovery(dir);
    const c = new AdsClient({ server: d.grpcAddress, node: NODE, delta, backoff: { baseMs: 20, maxMs: 200 } });
    t.after(async () => {
      c.close();
      await d.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const nacks: string[] = [];
    c.on('nack', (n) => nacks.push(n.detail));
    c.start();
    await c.source.ready;
    const s = c.source.current();
    assert.ok(s.listeners.has('virtualOutbound') && s.listeners.has('virtualInbound'));
    assert.equal(reviewsCluster(s), `outbound|9080|v1|${REVIEWS}`);
    assert.ok(s.endpoints.get(`outbound|9080|v2|${REVIEWS}`)?.localities[0]?.endpoints.some((e) => e.address === '127.0.12.2'));

    const file = join(dir, 'networking', 'virtual-service-all-v1.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/host: reviews\n(\s+)subset: v1/, 'host: reviews\n$1subset: v2'));
    const next = await snapshotWhere(c, (x) => reviewsCluster(x) === `outbound|9080|v2|${REVIEWS}`);
    assert.equal(next.listeners.get('virtualOutbound'), s.listeners.get('virtualOutbound'), 'an unchanged listener keeps its object');
    assert.deepEqual(nacks, []);
    const st = c.state();
    assert.equal(st.protocol, delta ? 'delta' : 'sotw');
    assert.equal(st.types.rds?.lastNack, undefined);
    assert.ok(st.types.rds?.version);
  });
}

test('control plane restarted on the same address: the client reconnects and follows the new instance', async (t) => {
  const dir = configDir();
  let d = await discovery(dir);
  const c = new AdsClient({ server: d.grpcAddress, node: NODE, backoff: { baseMs: 20, maxMs: 300 } });
  t.after(async () => {
    c.close();
    await d.close();
    rmSync(dir, { recursive: true, force: true });
  });
  c.start();
  await c.source.ready;
  const before = c.source.current();
  const down = once(c, 'disconnected');
  await d.close();
  await down;
  assert.equal(c.source.current(), before, 'the last config keeps serving while the control plane is away');

  const file = join(dir, 'networking', 'virtual-service-all-v1.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/host: reviews\n(\s+)subset: v1/, 'host: reviews\n$1subset: v3'));
  const up = once(c, 'connected');
  d = await discovery(dir, c.state().server);
  await up;
  await snapshotWhere(c, (x) => reviewsCluster(x) === `outbound|9080|v3|${REVIEWS}`);
  assert.equal(c.state().connected, true);
  assert.ok(c.state().reconnects >= 1);
});

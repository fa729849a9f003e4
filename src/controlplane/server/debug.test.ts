// Debug and monitoring endpoints against a live xDS server with a connected client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configureLogging } from '../../shared/log.js';
import { TypeUrl } from '../../xds/types.js';
import type { SyncEntry } from './debug.js';
import { debugHandler, metricsHandler } from './debug.js';
import { closeHttp, listenHttp, parseAddr } from './listen.js';
import type { FakeWorld } from './testkit.js';
import { AdsTestClient, nextRequestEvent, startTestServer, testNode } from './testkit.js';

configureLogging({ level: 'error' });

const A = 'outbound|80||a.default.svc.cluster.local';
const world: FakeWorld = { clusters: { [A]: ['10.0.0.1'] }, listeners: { '0.0.0.0_80': 80 }, routes: { '80': ['a'] } };
const NODE = 'sidecar~127.0.0.2~app-1.default~default.svc.cluster.local';

async function get(base: string, path: string): Promise<{ status: number; body: string; type: string }> {
  const res = await fetch(base + path);
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') ?? '' };
}

test('debug endpoints: ready, syncz, adsz, config_dump, configz, registryz, push_status; /metrics', async (t) => {
  const s = await startTestServer(world);
  let ready = false;
  const debug = await listenHttp(
    debugHandler({ xds: s.xds, ready: () => ready, configs: () => [{ kind: 'VirtualService', name: 'a' }], registry: async () => [{ hostname: 'a.default.svc.cluster.local' }] }),
    '127.0.0.1:0',
    'debug',
  );
  const mon = await listenHttp(metricsHandler(s.metrics), '127.0.0.1:0', 'monitoring');
  const c = AdsTestClient.sotw(s.address);
  t.after(async () => {
    c.close();
    await s.close();
    await closeHttp(debug.server);
    await closeHttp(mon.server);
  });
  const base = `http://${debug.address}`;

  assert.equal((await get(base, '/ready')).status, 503);
  ready = true;
  assert.equal((await get(base, '/ready')).status, 200);

  c.send({ node: testNode(NODE), type_url: TypeUrl.Cluster });
  const cds = await c.next();
  const acked = nextRequestEvent((e) => e.kind === 'ack');
  c.send({ type_url: TypeUrl.Cluster, response_nonce: cds.nonce, version_info: cds.version_info });
  await acked;
  c.send({ type_url: TypeUrl.Listener });
  const lds = await c.next();
  const nacked = nextRequestEvent((e) => e.kind === 'nack');
  c.send({ type_url: TypeUrl.Listener, response_nonce: lds.nonce, error_detail: { message: 'listener 0.0.0.0_80: nope' } });
  await nacked;

  const sync = JSON.parse((await get(base, '/debug/syncz')).body) as SyncEntry[];
  assert.equal(sync.length, 1);
  assert.equal(sync[0]?.proxy, NODE);
  assert.deepEqual(sync[0]?.types.cds, { sent: 'v1', acked: 'v1', nonce: cds.nonce, status: 'SYNCED' });
  assert.equal(sync[0]?.types.lds?.status, 'STALE');
  assert.equal(sync[0]?.types.lds?.nack?.message, 'listener 0.0.0.0_80: nope');

  const ads = JSON.parse((await get(base, '/debug/adsz')).body) as { totalClients: number; clients: { node: string; watches: Record<string, { wildcard: boolean }> }[] };
  assert.equal(ads.totalClients, 1);
  assert.equal(ads.clients[0]?.node, NODE);
  assert.equal(ads.clients[0]?.watches.cds?.wildcard, true);

  const dumpRes = await get(base, `/debug/config_dump?proxyID=${encodeURIComponent(NODE)}`);
  assert.equal(dumpRes.status, 200);
  const dump = JSON.parse(dumpRes.body) as { configs: Record<string, unknown>[] };
  const clusters = dump.configs.find((x) => x['@type'] === 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump') as { dynamic_active_clusters: { cluster: Record<string, unknown> }[] };
  assert.equal(clusters.dynamic_active_clusters[0]?.cluster.name, A);
  assert.equal((clusters.dynamic_active_clusters[0]?.cluster.connect_timeout as { seconds: string }).seconds, '10');
  const listeners = dump.configs.find((x) => x['@type'] === 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump') as { dynamic_listeners: { name: string }[] };
  assert.equal(listeners.dynamic_listeners[0]?.name, '0.0.0.0_80');

  assert.equal((await get(base, '/debug/config_dump?proxyID=app-1.default')).status, 200, 'istioctl form POD.NAMESPACE');
  assert.equal((await get(base, '/debug/config_dump?proxyID=nobody')).status, 404);
  assert.equal((await get(base, '/debug/config_dump')).status, 400);
  assert.deepEqual(JSON.parse((await get(base, '/debug/configz')).body), [{ kind: 'VirtualService', name: 'a' }]);
  assert.deepEqual(JSON.parse((await get(base, '/debug/registryz')).body), [{ hostname: 'a.default.svc.cluster.local' }]);
  s.push('v2', world);
  await s.xds.idle();
  const ps = JSON.parse((await get(base, '/debug/push_status')).body) as { lastPush: { version: string; connections: number } };
  assert.equal(ps.lastPush.version, 'v2');
  assert.equal(ps.lastPush.connections, 1);
  assert.equal((await get(base, '/nope')).status, 404);

  const metrics = await get(`http://${mon.address}`, '/metrics');
  assert.equal(metrics.status, 200);
  assert.match(metrics.type, /text\/plain/);
  assert.match(metrics.body, /^pilot_xds 1$/m);
  assert.match(metrics.body, /^pilot_total_xds_rejects\{type="lds"\} 1$/m);
  assert.match(metrics.body, /^pilot_xds_pushes\{type="cds"\} 1$/m);
  assert.match(metrics.body, /pilot_proxy_convergence_time_bucket/);
  assert.match(metrics.body, /pilot_xds_push_time_bucket\{le="[0-9.]+",type="cds"\}/);
});

test('listen addresses: parsing, busy ports named in the error', async (t) => {
  assert.deepEqual(parseAddr('127.0.0.1:15010'), { host: '127.0.0.1', port: 15010 });
  assert.deepEqual(parseAddr('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(parseAddr(':8080'), { host: '127.0.0.1', port: 8080 });
  assert.throws(() => parseAddr('localhost'), /invalid listen address "localhost"/);
  assert.throws(() => parseAddr('1.2.3.4:99999'), /invalid listen address/);
  const first = await listenHttp((_q, r) => r.end(), '127.0.0.1:0', 'debug');
  t.after(() => closeHttp(first.server));
  await assert.rejects(listenHttp((_q, r) => r.end(), first.address, 'debug'), (e: Error) => {
    assert.match(e.message, new RegExp(`cannot listen for debug on ${first.address.replace(/\./g, '\\.')}: address already in use`));
    return true;
  });
});

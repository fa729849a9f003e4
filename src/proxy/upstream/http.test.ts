// HTTP/1.1 dispatch through real servers: load-balancing distribution, streamed bodies and trailers, upgrades,
// DNS and original-destination clusters, source binding, priority failover.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Stats } from '../telemetry/stats.js';
import { UpstreamClusters } from './cluster-manager.js';
import { seededRandom } from './lb/types.js';
import { bodyOf, cluster, Collector, header, httpServer, loadAssignment, MemoryConfigSource, req, send, snapshot, type TestServer } from './testing.js';

async function servers(n: number): Promise<TestServer[]> {
  return Promise.all(Array.from({ length: n }, () => httpServer()));
}

function tally(results: { body: string }[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of results) m.set(r.body, (m.get(r.body) ?? 0) + 1);
  return m;
}

test('round robin spreads requests evenly and by weight over real servers', async (t) => {
  const ss = await servers(3);
  t.after(() => Promise.all(ss.map((s) => s.close())));
  const src = new MemoryConfigSource(
    snapshot([
      cluster('even', ss.map((s) => ({ port: s.port }))),
      cluster('weighted', [{ port: ss[0].port, weight: 1 }, { port: ss[1].port, weight: 3 }]),
    ]),
  );
  const stats = new Stats();
  const cm = new UpstreamClusters({ config: src, stats, random: seededRandom(1) });
  t.after(() => cm.close());
  const even = cm.get('even')!;
  const r1 = [];
  for (let i = 0; i < 30; i++) r1.push(await send(even));
  assert.deepEqual([...tally(r1).values()], [10, 10, 10]);
  assert.ok(r1.every((r) => r.status === 200 && r.host === `127.0.0.1:${r.body}`));
  const weighted = cm.get('weighted')!;
  const r2 = [];
  for (let i = 0; i < 40; i++) r2.push(await send(weighted));
  const w = tally(r2);
  assert.equal(w.get(String(ss[0].port)), 10);
  assert.equal(w.get(String(ss[1].port)), 30);
  // Keep-alive: one connection per server for sequential requests.
  assert.equal(ss[2].connections.size, 1);
  assert.equal(stats.get('cluster.even.upstream_cx_total'), 3);
  assert.equal(stats.get('cluster.even.upstream_cx_active'), 3);
  assert.equal(stats.get('cluster.even.upstream_rq_active'), 0);
});

test('ring hash and maglev keep a hash on one server; least request avoids a busy one', async (t) => {
  const release: (() => void)[] = [];
  // The first three requests are held (the host is busy); later ones are answered at once.
  const slow = await httpServer((_q, res) => (release.length < 3 ? release.push(() => res.end('slow')) : res.end('slow')));
  const ss = await servers(3);
  t.after(() => Promise.all([slow, ...ss].map((s) => s.close())));
  const eps = ss.map((s) => ({ port: s.port }));
  const src = new MemoryConfigSource(
    snapshot([
      cluster('ring', eps, { lbPolicy: 'RING_HASH', ringHash: { minRingSize: 1024, maxRingSize: 8192 } }),
      cluster('maglev', eps, { lbPolicy: 'MAGLEV' }),
      cluster('lr', [{ port: slow.port }, ...eps.slice(0, 2)], { lbPolicy: 'LEAST_REQUEST' }),
    ]),
  );
  const cm = new UpstreamClusters({ config: src, stats: new Stats(), random: seededRandom(2) });
  t.after(() => cm.close());
  for (const name of ['ring', 'maglev']) {
    const c = cm.get(name)!;
    for (const hash of [1, 77777, 4000000000]) {
      const first = await send(c, { hash });
      for (let i = 0; i < 5; i++) assert.equal((await send(c, { hash })).body, first.body, `${name} hash ${hash}`);
    }
    const seen = new Set<string>();
    for (let h = 0; h < 60; h++) seen.add((await send(c, { hash: h * 71234567 })).body);
    assert.equal(seen.size, 3, `${name} uses every host`);
  }
  // Occupy the slow host with 3 requests; power-of-two-choices then picks it only when both choices are it (1/9).
  const lr = cm.get('lr')!;
  const busy = [1, 2, 3].map(() => new Collector());
  const others = new Set([`127.0.0.1:${ss[0].port}`, `127.0.0.1:${ss[1].port}`]);
  for (const h of busy) lr.dispatch(req({ exclude: others }), h);
  while (release.length < 3) await once(slow.server, 'request');
  let toSlow = 0;
  for (let i = 0; i < 45; i++) if ((await send(lr)).body === 'slow') toSlow++;
  assert.ok(toSlow < 12, `busy host got ${toSlow} of 45`);
  for (const r of release) r();
  for (const h of busy) assert.equal((await h.done).body, 'slow');
});

test('request and response bodies stream both ways; HTTP/1.1 trailers pass through; raw headers kept', async (t) => {
  const s = await httpServer((q, res) => {
    const parts: Buffer[] = [];
    q.on('data', (c: Buffer) => parts.push(c));
    q.on('end', () => {
      res.setHeader('x-got', q.headers['x-in'] ?? '');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.setHeader('Trailer', 'x-checksum');
      res.write(`${q.method} ${q.url} ${q.headers.host} `);
      res.addTrailers({ 'x-checksum': 'abc' });
      res.end(Buffer.concat(parts));
    });
  });
  t.after(() => s.close());
  const cm = new UpstreamClusters({ config: new MemoryConfigSource(snapshot([cluster('c', [{ port: s.port }])])), stats: new Stats() });
  t.after(() => cm.close());
  const r = await send(cm.get('c')!, { method: 'POST', path: '/up?x=1', headers: ['host', 'api.example', 'x-in', 'v', 'content-type', 'text/plain'], body: bodyOf('payload') });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'POST /up?x=1 api.example payload');
  assert.equal(header(r.headers, 'x-got'), 'v');
  assert.deepEqual(r.headers.filter((_, i) => r.headers[i - 1] === 'set-cookie'), ['a=1', 'b=2']);
  assert.deepEqual(r.trailers, ['x-checksum', 'abc']);
});

test('HTTP/1.1 upgrade hands over the upstream socket', async (t) => {
  const s = await httpServer();
  s.server.on('upgrade', (q, sock) => {
    sock.write('HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n');
    sock.on('data', (d: Buffer) => sock.write(Buffer.concat([Buffer.from('echo:'), d])));
    sock.on('end', () => sock.end());
  });
  t.after(() => s.close());
  const stats = new Stats();
  const cm = new UpstreamClusters({ config: new MemoryConfigSource(snapshot([cluster('ws', [{ port: s.port }])])), stats });
  t.after(() => cm.close());
  const h = new Collector();
  cm.get('ws')!.dispatch(req({ upgrade: 'websocket' }), h);
  const r = await h.done;
  assert.equal(r.status, 101);
  assert.equal(header(r.headers, 'upgrade'), 'websocket');
  const sock = h.upgraded!;
  sock.write('hi');
  const [d] = (await once(sock, 'data')) as [Buffer];
  assert.equal(d.toString(), 'echo:hi');
  assert.equal(stats.get('cluster.ws.upstream_cx_active'), 1, 'an upgraded connection stays counted');
  sock.destroy();
  await once(sock, 'close');
  assert.equal(stats.get('cluster.ws.upstream_cx_active'), 0);
});

test('STRICT_DNS and LOGICAL_DNS resolve hostnames; auto host rewrite; ORIGINAL_DST follows the original destination; source bind', async (t) => {
  const s = await httpServer((q, res) => res.end(q.url === '/host' ? q.headers.host : q.socket.remoteAddress));
  t.after(() => s.close());
  const lookups: string[] = [];
  const dns = async (name: string): Promise<string[]> => {
    lookups.push(name);
    return name === 'svc.test' ? ['127.0.0.1', '127.0.0.2'] : [];
  };
  const src = new MemoryConfigSource(
    snapshot([
      cluster('strict', [{ address: 'svc.test', port: s.port }], { type: 'STRICT_DNS' }),
      cluster('logical', [{ address: 'svc.test', port: s.port }], { type: 'LOGICAL_DNS' }),
      cluster('orig', [], { type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED', loadAssignment: undefined, upstreamBindAddress: '127.0.0.6' }),
    ]),
  );
  const cm = new UpstreamClusters({ config: src, stats: new Stats(), dns });
  t.after(() => cm.close());
  const strict = cm.get('strict')!;
  await strict.resolved();
  assert.deepEqual(strict.hosts().map((h) => h.key).sort(), [`127.0.0.1:${s.port}`, `127.0.0.2:${s.port}`]);
  const logical = cm.get('logical')!;
  await logical.resolved();
  assert.deepEqual(logical.hosts().map((h) => h.key), [`127.0.0.1:${s.port}`]);
  assert.equal((await send(logical)).status, 200);
  assert.ok(lookups.includes('svc.test'));
  assert.equal((await send(logical, { path: '/host', headers: ['host', 'original.example'], autoHostRewrite: true })).body, 'svc.test');
  assert.equal((await send(logical, { path: '/host', headers: ['host', 'original.example'] })).body, 'original.example');

  const orig = cm.get('orig')!;
  const none = await send(orig);
  assert.equal(none.error?.flag, 'UH');
  const r = await send(orig, { originalDst: { address: '127.0.0.1', port: s.port } });
  assert.equal(r.status, 200);
  const rw = await send(orig, { path: '/host', originalDst: { address: '127.0.0.1', port: s.port }, autoHostRewrite: true });
  assert.equal(rw.body, `127.0.0.1:${s.port}`, 'without a hostname the host header becomes address:port');
  assert.equal(r.body, '127.0.0.6', 'upstream socket bound to upstreamBindAddress');
});

test('priority failover: unhealthy priority-0 endpoints spill to priority 1; endpoint updates keep live pools', async (t) => {
  const ss = await servers(3);
  t.after(() => Promise.all(ss.map((s) => s.close())));
  const eds = (p0Health: 'HEALTHY' | 'UNHEALTHY') =>
    loadAssignment('eds', [
      { port: ss[0].port, priority: 0, health: p0Health },
      { port: ss[1].port, priority: 1 },
    ]);
  const c = cluster('eds', [], { type: 'EDS', loadAssignment: undefined });
  const src = new MemoryConfigSource(snapshot([c], [eds('HEALTHY')]));
  const cm = new UpstreamClusters({ config: src, stats: new Stats(), random: seededRandom(3) });
  t.after(() => cm.close());
  for (let i = 0; i < 5; i++) assert.equal((await send(cm.get('eds')!)).body, String(ss[0].port));
  src.set(snapshot([c], [eds('UNHEALTHY')]));
  for (let i = 0; i < 5; i++) assert.equal((await send(cm.get('eds')!)).body, String(ss[1].port));
  // A new endpoint set that still contains ss[1]: same cluster object, same connection to ss[1].
  const before = cm.get('eds');
  src.set(snapshot([c], [loadAssignment('eds', [{ port: ss[1].port }, { port: ss[2].port }])]));
  assert.equal(cm.get('eds'), before);
  const seen = new Set<string>();
  for (let i = 0; i < 6; i++) seen.add((await send(cm.get('eds')!)).body);
  assert.deepEqual([...seen].sort(), [String(ss[1].port), String(ss[2].port)].sort());
  assert.equal(ss[1].connections.size, 1, 'the remaining host kept its pooled connection');
});

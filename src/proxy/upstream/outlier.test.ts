// Outlier detection through real servers: a host answering 503 is ejected after N consecutive errors, traffic
// goes to the others, and it comes back after the ejection time (fake clock, one interval timer per cluster).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import type { OutlierDetectionConfig } from '../runtime/types.js';
import { Stats } from '../telemetry/stats.js';
import { UpstreamClusters } from './cluster-manager.js';
import { seededRandom } from './lb/types.js';
import { cluster, FakeTimers, httpServer, MemoryConfigSource, send, snapshot } from './testing.js';

const OD: OutlierDetectionConfig = {
  consecutive5xx: 3,
  consecutiveGatewayFailure: 0,
  consecutiveLocalOriginFailure: 5,
  enforcingConsecutive5xx: 100,
  enforcingConsecutiveGatewayFailure: 0,
  intervalMs: 1000,
  baseEjectionTimeMs: 30_000,
  maxEjectionPercent: 100,
  splitExternalLocalOriginErrors: false,
};

test('a host returning 503 is ejected after 3 errors, traffic goes elsewhere, and it returns after the ejection time', async (t) => {
  let failing = true;
  const bad = await httpServer((_q, res) => {
    res.statusCode = failing ? 503 : 200;
    res.end('bad');
  });
  const good = await Promise.all([httpServer(), httpServer()]);
  t.after(() => Promise.all([bad, ...good].map((s) => s.close())));
  const timers = new FakeTimers();
  const stats = new Stats();
  const src = new MemoryConfigSource(snapshot([cluster('od', [bad, ...good].map((s) => ({ port: s.port })), { outlierDetection: OD, healthyPanicThresholdPercent: 0 })]));
  const cm = new UpstreamClusters({ config: src, stats, timers, random: seededRandom(1) });
  t.after(() => cm.close());
  const c = cm.get('od')!;
  const P = 'cluster.od.outlier_detection.';
  let errors = 0;
  for (let i = 0; i < 9; i++) if ((await send(c)).status === 503) errors++;
  assert.equal(errors, 3, 'round robin reached the bad host three times');
  assert.equal(stats.get(P + 'ejections_active'), 1);
  assert.equal(stats.get(P + 'ejections_enforced_total'), 1);
  assert.equal(stats.get(P + 'ejections_enforced_consecutive_5xx'), 1);
  assert.equal(stats.get(P + 'ejections_detected_consecutive_5xx'), 1);
  const badKey = `127.0.0.1:${bad.port}`;
  assert.equal(c.hosts().find((h) => h.key === badKey)?.ejected, true);
  for (let i = 0; i < 20; i++) assert.notEqual((await send(c)).body, 'bad');

  // Not yet: the interval runs, but base ejection time (30 s × 1) has not passed.
  timers.advance(29_000);
  assert.equal(stats.get(P + 'ejections_active'), 1);
  failing = false;
  timers.advance(1_000);
  assert.equal(stats.get(P + 'ejections_active'), 0);
  assert.equal(c.hosts().find((h) => h.key === badKey)?.ejected, false);
  const bodies = new Set<string>();
  for (let i = 0; i < 6; i++) bodies.add((await send(c)).body);
  assert.ok(bodies.has('bad'), 'the host takes traffic again');
});

test('max ejection percent caps ejections (at least one host); connect failures count as local-origin errors', async (t) => {
  const bad = await Promise.all([0, 1].map(() => httpServer((_q, res) => ((res.statusCode = 502), res.end('bad')))));
  const dead = createServer();
  dead.listen(0, '127.0.0.1');
  await once(dead, 'listening');
  const deadPort = (dead.address() as AddressInfo).port;
  dead.close();
  const ok = await httpServer();
  t.after(() => Promise.all([...bad, ok].map((s) => s.close())));
  const timers = new FakeTimers();
  const stats = new Stats();
  const od = { ...OD, consecutive5xx: 0, consecutiveGatewayFailure: 2, enforcingConsecutiveGatewayFailure: 100, maxEjectionPercent: 10 };
  const local = { ...OD, consecutive5xx: 2, splitExternalLocalOriginErrors: false };
  const src = new MemoryConfigSource(
    snapshot([
      cluster('gw', [...bad, ok].map((s) => ({ port: s.port })), { outlierDetection: od, healthyPanicThresholdPercent: 0 }),
      cluster('lo', [{ port: deadPort }, { port: ok.port }], { outlierDetection: local, healthyPanicThresholdPercent: 0 }),
    ]),
  );
  const cm = new UpstreamClusters({ config: src, stats, timers, random: seededRandom(2) });
  t.after(() => cm.close());
  for (let i = 0; i < 12; i++) await send(cm.get('gw')!);
  assert.equal(stats.get('cluster.gw.outlier_detection.ejections_active'), 1, '10% of 3 hosts still allows one ejection');
  assert.ok(stats.get('cluster.gw.outlier_detection.ejections_overflow') >= 1);
  assert.equal(stats.get('cluster.gw.outlier_detection.ejections_enforced_consecutive_gateway_failure'), 1);

  const lo = cm.get('lo')!;
  const flags: string[] = [];
  for (let i = 0; i < 6; i++) {
    const r = await send(lo);
    flags.push(r.error ? r.error.flag : String(r.status));
  }
  assert.deepEqual(flags.filter((f) => f === 'UF').length, 2, flags.join(','));
  assert.equal(stats.get('cluster.lo.outlier_detection.ejections_active'), 1);
  assert.ok(flags.slice(-2).every((f) => f === '200'));
});

test('a replaced or removed cluster gives back its ejections: ejections_active does not stay stuck', async (t) => {
  const bad = await httpServer((_q, res) => ((res.statusCode = 503), res.end('bad')));
  const ok = await httpServer();
  t.after(() => Promise.all([bad, ok].map((s) => s.close())));
  const timers = new FakeTimers();
  const stats = new Stats();
  const hosts = [{ port: bad.port }, { port: ok.port }];
  const src = new MemoryConfigSource(snapshot([cluster('od', hosts, { outlierDetection: OD, healthyPanicThresholdPercent: 0 })]));
  const cm = new UpstreamClusters({ config: src, stats, timers, random: seededRandom(1) });
  t.after(() => cm.close());
  for (let i = 0; i < 6; i++) await send(cm.get('od')!);
  const active = 'cluster.od.outlier_detection.ejections_active';
  assert.equal(stats.get(active), 1);
  // A changed cluster (new outlier settings) starts with fresh hosts and no ejection, as in Envoy.
  src.set(snapshot([cluster('od', hosts, { outlierDetection: { ...OD, consecutive5xx: 10 }, healthyPanicThresholdPercent: 0 })]));
  assert.equal(stats.get(active), 0);
  assert.equal(cm.get('od')!.hosts().filter((h) => h.ejected).length, 0);
  for (let i = 0; i < 6; i++) await send(cm.get('od')!);
  assert.equal(stats.get(active), 0, 'five 503s are below the new threshold');
  for (let i = 0; i < 14; i++) await send(cm.get('od')!);
  assert.equal(stats.get(active), 1);
  src.set(snapshot([]));
  assert.equal(stats.get(active), 0, 'removed cluster');
  await cm.settled();
});

// Unit tests of the pure load balancers: distributions with a seeded RNG, consistency of the hash-based ones,
// exclusion sets, priority load and locality weighting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EdfScheduler } from './edf.js';
import { hashKey, murmur3 } from './hash.js';
import { LeastRequestPicker } from './least-request.js';
import { MaglevPicker } from './maglev.js';
import { computePriorityLoad, PriorityLoadBalancer, type LbEntry } from './priority.js';
import { RandomPicker } from './random.js';
import { RingHashPicker } from './ring-hash.js';
import { RoundRobinPicker } from './round-robin.js';
import { seededRandom, type Picker } from './types.js';

interface H extends LbEntry {
  key: string;
  weight: number;
  activeRequests: number;
  priority: number;
  locality: string;
  localityWeight: number;
  available: boolean;
}

function hosts(n: number, weights?: number[]): H[] {
  return Array.from({ length: n }, (_, i) => ({
    key: `10.0.0.${i + 1}:80`,
    weight: weights?.[i] ?? 1,
    activeRequests: 0,
    priority: 0,
    locality: 'r/z/s',
    localityWeight: 1,
    available: true,
  }));
}

function counts(p: Picker<H>, n: number, hash?: () => number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const h = p.pick(hash?.(), undefined) as H;
    m.set(h.key, (m.get(h.key) ?? 0) + 1);
  }
  return m;
}

test('murmur3 matches the reference test vectors', () => {
  assert.equal(murmur3(new Uint8Array(0), 0), 0);
  assert.equal(murmur3(new Uint8Array(0), 1), 0x514e28b7);
  assert.equal(hashKey('hello'), 0x248bfa47);
  assert.equal(hashKey('The quick brown fox jumps over the lazy dog'), 0x2e4ff723);
  assert.equal(hashKey('héllo'), murmur3(Buffer.from('héllo')));
});

test('EDF scheduler interleaves by weight', () => {
  const edf = new EdfScheduler<string>();
  edf.add('a', 1);
  edf.add('b', 3);
  const seq: string[] = [];
  for (let i = 0; i < 8; i++) {
    const x = edf.pick() as string;
    seq.push(x);
    edf.add(x, x === 'a' ? 1 : 3);
  }
  assert.equal(seq.filter((x) => x === 'a').length, 2);
  assert.ok(!seq.join('').includes('aa'), seq.join(''));
});

test('round robin: equal weights rotate, unequal weights are exact and smooth', () => {
  const hs = hosts(3);
  const rr = new RoundRobinPicker(hs, seededRandom(1));
  const first = [0, 1, 2].map(() => (rr.pick(undefined, undefined) as H).key);
  assert.equal(new Set(first).size, 3);
  assert.deepEqual([0, 1, 2].map(() => (rr.pick(undefined, undefined) as H).key), first);

  const w = hosts(3, [1, 2, 3]);
  const wrr = new RoundRobinPicker(w, seededRandom(2));
  const c = counts(wrr, 600);
  assert.deepEqual([...w].map((h) => c.get(h.key)), [100, 200, 300]);
  // Smooth: in any 6 consecutive picks the weight-3 host appears 2..4 times.
  const seq = Array.from({ length: 60 }, () => (wrr.pick(undefined, undefined) as H).key);
  for (let i = 0; i + 6 <= seq.length; i++) {
    const n = seq.slice(i, i + 6).filter((k) => k === w[2].key).length;
    assert.ok(n >= 2 && n <= 4, `window ${i}: ${n}`);
  }
});

test('exclusion set is honoured, and ignored when it covers every host', () => {
  const hs = hosts(3);
  const ex = new Set([hs[0].key, hs[1].key]);
  const rnd = seededRandom(3);
  const pickers: Picker<H>[] = [
    new RoundRobinPicker(hs, rnd),
    new LeastRequestPicker(hs, rnd),
    new RandomPicker(hs, rnd),
    new RingHashPicker(hs, rnd, 64, 1024),
    new MaglevPicker(hs, rnd, 251),
  ];
  for (const p of pickers) {
    for (let i = 0; i < 20; i++) assert.equal(p.pick(i * 7919, ex)?.key, hs[2].key, p.constructor.name);
    assert.ok(p.pick(5, new Set(hs.map((h) => h.key))), `${p.constructor.name} with all excluded`);
  }
});

test('least request: power of two choices prefers idle hosts; weighted uses weight/(active+1)', () => {
  const hs = hosts(4);
  hs[0].activeRequests = 10;
  hs[1].activeRequests = 10;
  hs[2].activeRequests = 10;
  const lr = new LeastRequestPicker(hs, seededRandom(4));
  const c = counts(lr, 4000);
  // The idle host wins whenever it is one of the two choices: P = 1 - (3/4)^2 = 43.75%.
  const idle = c.get(hs[3].key) ?? 0;
  assert.ok(idle > 1550 && idle < 1950, `idle host got ${idle}`);

  const w = hosts(2, [1, 3]);
  const wlr = new LeastRequestPicker(w, seededRandom(5));
  const wc = counts(wlr, 400);
  assert.equal(wc.get(w[0].key), 100);
  w[1].activeRequests = 5; // effective weight 3/6 = 0.5 < 1
  const wc2 = counts(wlr, 300);
  assert.ok((wc2.get(w[0].key) ?? 0) > (wc2.get(w[1].key) ?? 0));
});

test('random: roughly uniform, ignores weights', () => {
  const hs = hosts(4, [1, 1, 1, 10]);
  const c = counts(new RandomPicker(hs, seededRandom(6)), 8000);
  for (const h of hs) assert.ok(Math.abs((c.get(h.key) ?? 0) - 2000) < 200, `${h.key} ${c.get(h.key)}`);
});

test('ring hash: sized by min ring size, weighted, consistent, minimal disruption', () => {
  const hs = hosts(4, [1, 1, 1, 2]);
  const ring = new RingHashPicker(hs, seededRandom(7), 1024, 8 * 1024 * 1024);
  assert.ok(ring.size >= 1024, `ring size ${ring.size}`);
  const rnd = seededRandom(8);
  const keys = Array.from({ length: 5000 }, () => Math.floor(rnd() * 4294967296));
  const c = new Map<string, number>();
  for (const k of keys) {
    const h = ring.pick(k, undefined) as H;
    assert.equal(ring.pick(k, undefined), h, 'same hash, same host');
    c.set(h.key, (c.get(h.key) ?? 0) + 1);
  }
  const heavy = (c.get(hs[3].key) ?? 0) / 5000;
  assert.ok(heavy > 0.3 && heavy < 0.5, `weight-2 host share ${heavy}`);
  // Removing host 0 moves its keys; the others mostly stay (entry counts per host grow a little as the ring rescales).
  const ring2 = new RingHashPicker(hs.slice(1), seededRandom(7), 1024, 8 * 1024 * 1024);
  let moved = 0;
  for (const k of keys) {
    const before = ring.pick(k, undefined) as H;
    const after = ring2.pick(k, undefined) as H;
    if (before.key !== hs[0].key && before.key !== after.key) moved++;
  }
  assert.ok(moved < 0.15 * keys.length, `moved ${moved}`);
  const small = new RingHashPicker(hosts(2), seededRandom(9), 8, 16);
  assert.ok(small.size <= 16 && small.size >= 8);
});

test('maglev: table filled by weight, consistent, little disruption on removal', () => {
  const hs = hosts(5, [1, 1, 1, 1, 2]);
  const m = new MaglevPicker(hs, seededRandom(10));
  assert.equal(m.table.length, 65537);
  const share = m.table.filter((i) => i === 4).length / m.table.length;
  assert.ok(Math.abs(share - 2 / 6) < 0.01, `weight-2 share ${share}`);
  const m2 = new MaglevPicker(hs.slice(0, 4).concat([hs[4]]), seededRandom(11));
  for (let k = 0; k < 1000; k++) assert.equal(m2.pick(k * 104729, undefined)?.key, m.pick(k * 104729, undefined)?.key);
  const removed = new MaglevPicker([hs[1], hs[2], hs[3], hs[4]], seededRandom(12));
  let moved = 0;
  for (let k = 0; k < 10000; k++) {
    const b = m.pick(k * 7919, undefined) as H;
    const a = removed.pick(k * 7919, undefined) as H;
    if (b.key !== hs[0].key && a.key !== b.key) moved++;
  }
  assert.ok(moved < 1000, `moved ${moved} of ~8300 keys`);
});

test('priority load: overprovisioning spill, scaling, all-down', () => {
  assert.deepEqual(computePriorityLoad([{ healthy: 10, total: 10 }, { healthy: 10, total: 10 }], 140), [100, 0]);
  assert.deepEqual(computePriorityLoad([{ healthy: 5, total: 10 }, { healthy: 10, total: 10 }], 140), [70, 30]);
  assert.deepEqual(computePriorityLoad([{ healthy: 0, total: 10 }, { healthy: 10, total: 10 }], 140), [0, 100]);
  const scaled = computePriorityLoad([{ healthy: 2, total: 10 }, { healthy: 2, total: 10 }], 140);
  assert.ok(Math.abs(scaled[0] - 50) < 1e-9 && Math.abs(scaled[1] - 50) < 1e-9, String(scaled));
  assert.deepEqual(computePriorityLoad([{ healthy: 0, total: 3 }, { healthy: 0, total: 3 }], 140), [100, 0]);
});

test('priority LB: failover to the next priority, panic threshold, locality weights', () => {
  const opts = { random: seededRandom(13), overprovisioningFactor: 140, localityWeighted: false, panicThreshold: 50 };
  const hs = hosts(4);
  hs[2].priority = 1;
  hs[3].priority = 1;
  const lb = new PriorityLoadBalancer<H>('ROUND_ROBIN', opts);
  lb.update(hs);
  for (let i = 0; i < 20; i++) assert.equal((lb.choose(undefined, undefined) as H).priority, 0);
  hs[0].available = false;
  hs[1].available = false;
  lb.update(hs);
  for (let i = 0; i < 20; i++) assert.equal((lb.choose(undefined, undefined) as H).priority, 1);

  // One of four available: below the 50% panic threshold every host is used; with threshold 0, only the healthy one.
  const single = hosts(4).map((h, i) => ({ ...h, available: i === 0 }));
  const panicLb = new PriorityLoadBalancer<H>('ROUND_ROBIN', opts);
  panicLb.update(single);
  assert.deepEqual(panicLb.panicLevels, [true]);
  assert.equal(new Set(Array.from({ length: 8 }, () => panicLb.choose(undefined, undefined)?.key)).size, 4);
  const strict = new PriorityLoadBalancer<H>('ROUND_ROBIN', { ...opts, panicThreshold: 0 });
  strict.update(single);
  assert.equal(new Set(Array.from({ length: 8 }, () => strict.choose(undefined, undefined)?.key)).size, 1);
  strict.update(single.map((h) => ({ ...h, available: false })));
  assert.equal(strict.choose(undefined, undefined), undefined);

  const loc = hosts(4).map((h, i) => ({ ...h, locality: i < 2 ? 'a' : 'b', localityWeight: i < 2 ? 1 : 3 }));
  const locLb = new PriorityLoadBalancer<H>('RANDOM', { ...opts, localityWeighted: true });
  locLb.update(loc);
  let inB = 0;
  for (let i = 0; i < 400; i++) if ((locLb.choose(undefined, undefined) as H).locality === 'b') inB++;
  assert.equal(inB, 300);
});

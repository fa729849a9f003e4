// Acceptance test of `isthmus discovery` with a real third-party xDS client: proxyless gRPC (@grpc/grpc-js-xds)
// resolves xds:/// targets from Istio YAML and honours weights, header matches, faults, retries, subsets + LB policy,
// and live edits of the config dir. Findings about what grpc-js-xds needs: GRPC-XDS-NOTES.md beside this file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import grpc from '@grpc/grpc-js';
import { describe as show, nodeIdFor, writeBootstrap } from '../support/xds-client.js';
import type { CallResult, XdsEchoClient } from '../support/xds-client.js';
import { runChildClient } from '../support/run-child-client.js';
import { dest, workloadEntry } from '../support/istio-yaml.js';
import { startEchoServer } from '../support/echo-server.js';
import { runCalls, serverName, startMesh, tally } from './grpc-xds-fixture.js';
import type { Mesh } from './grpc-xds-fixture.js';

/** First successful resolution (LDS→RDS→CDS→EDS over a fresh ADS stream) must happen within this. */
const RESOLVE_MS = 10_000;

void describe('proxyless gRPC (grpc-js-xds) against isthmus discovery', () => {
  let mesh: Mesh;

  before(async () => {
    mesh = await startMesh();
  });
  after(async () => {
    await mesh?.close();
  });

  /** A client for `ns` whose first call has succeeded (or the test fails with discovery diagnostics). */
  const readyClient = async (ns: string, o: { pod?: string; pred?: (r: CallResult) => boolean } = {}): Promise<XdsEchoClient> => {
    const pod = o.pod ?? `client-${ns}`;
    const c = mesh.client(ns, pod);
    try {
      await c.until(o.pred ?? ((r) => r.ok), RESOLVE_MS);
    } catch (e) {
      assert.fail(`${String(e)}${await mesh.diagnostics(nodeIdFor(ns, pod))}`);
    }
    return c;
  };

  void test('weights 70/20/10 across subsets: 1,000 calls, each share within ±5 points', async (t) => {
    const c = await readyClient('default');
    const results = await runCalls(c, 1000, 8);
    const counts = tally(results);
    t.diagnostic(`split: ${JSON.stringify([...counts])}`);
    const shares = { v1: 0.7, v2: 0.2, v3: 0.1 };
    for (const [v, want] of Object.entries(shares)) {
      const got = (counts.get(serverName('default', v)) ?? 0) / results.length;
      assert.ok(Math.abs(got - want) <= 0.05, `${v}: ${(got * 100).toFixed(1)}% (want ${want * 100}% ± 5): ${JSON.stringify([...counts])}`);
    }
    assert.equal(results.filter((r) => !r.ok).length, 0, JSON.stringify([...counts]));
  });

  void test('header match: end-user: jason → v2, everyone else → v1', async () => {
    const c = await readyClient('headers');
    const jason = tally(await runCalls(c, 20, 4, { headers: { 'end-user': 'jason' } }));
    assert.deepEqual([...jason], [[serverName('headers', 'v2'), 20]]);
    const bob = tally(await runCalls(c, 20, 4, { headers: { 'end-user': 'bob' } }));
    assert.deepEqual([...bob], [[serverName('headers', 'v1'), 20]]);
    const anon = tally(await runCalls(c, 20, 4));
    assert.deepEqual([...anon], [[serverName('headers', 'v1'), 20]]);
    const r = await c.call({ headers: { 'end-user': 'jason' } });
    assert.ok(r.ok && r.reply.headers['end-user'] === 'jason', `the server saw the request metadata: ${show(r)}`);
  });

  void test('fault abort: httpStatus 503 → UNAVAILABLE, grpcStatus RESOURCE_EXHAUSTED → RESOURCE_EXHAUSTED; server never reached', async () => {
    const c = await readyClient('faults');
    const v1 = mesh.scenario('faults').server('v1');
    const before = v1.calls;
    const http = await runCalls(c, 10, 2, { headers: { 'x-fault': 'abort-http' } });
    for (const r of http) assert.ok(!r.ok && r.code === grpc.status.UNAVAILABLE, show(r));
    const g = await runCalls(c, 10, 2, { headers: { 'x-fault': 'abort-grpc' } });
    for (const r of g) assert.ok(!r.ok && r.code === grpc.status.RESOURCE_EXHAUSTED, show(r));
    assert.equal(v1.calls, before, 'aborted calls must not reach the server');
    const ok = await c.call();
    assert.ok(ok.ok, `calls without the fault header succeed: ${show(ok)}`);
  });

  void test('fault delay: fixedDelay 1s at 100% → the call takes ≥ 1 s and succeeds; other routes are not delayed', async () => {
    const c = await readyClient('faults', { pod: 'client-faults-delay' });
    const [d1, d2] = await Promise.all([c.call({ headers: { 'x-fault': 'delay' } }), c.call({ headers: { 'x-fault': 'delay' } })]);
    for (const r of [d1, d2]) {
      assert.ok(r?.ok, r ? show(r) : 'missing');
      assert.ok(r.ms >= 1000, `delayed call took ${r.ms.toFixed(0)} ms`);
    }
    const fast = await c.call();
    assert.ok(fast.ok && fast.ms < 500, show(fast));
  });

  void test('timeout: VirtualService timeout 0.3s on a route delayed 1s → DEADLINE_EXCEEDED after ~0.3 s', async () => {
    const c = await readyClient('faults', { pod: 'client-faults-timeout' });
    const r = await c.call({ headers: { 'x-fault': 'timeout' }, deadlineMs: 5000 });
    assert.ok(!r.ok && r.code === grpc.status.DEADLINE_EXCEEDED, show(r));
    assert.ok(r.ms >= 250 && r.ms < 900, `timed out after ${r.ms.toFixed(0)} ms`);
  });

  void test('retries: attempts 3 survives 3 UNAVAILABLE; attempts 0 does not retry; unset → Istio default of 2 retries', async () => {
    const c = await readyClient('retries');
    const v1 = mesh.scenario('retries').server('v1');

    v1.reset();
    v1.failNext(3);
    const three = await c.call({ headers: { 'x-retry': 'three' } });
    assert.ok(three.ok, `attempts: 3 → ${show(three)}`);
    assert.equal(v1.calls, 4, 'three failed attempts + one success');

    v1.reset();
    v1.failNext(1);
    const none = await c.call({ headers: { 'x-retry': 'none' } });
    assert.ok(!none.ok && none.code === grpc.status.UNAVAILABLE, `attempts: 0 → ${show(none)}`);
    assert.equal(v1.calls, 1, 'no retry with attempts: 0');

    v1.reset();
    v1.failNext(2);
    const dflt = await c.call();
    assert.ok(dflt.ok, `no retries field → Istio default (2 retries on unavailable): ${show(dflt)}`);
    assert.equal(v1.calls, 3);

    v1.reset();
    v1.failNext(3);
    const dflt3 = await c.call();
    assert.ok(!dflt3.ok && dflt3.code === grpc.status.UNAVAILABLE, `Istio default is exactly 2 retries: ${show(dflt3)}`);
    assert.equal(v1.calls, 3);
    v1.reset();
  });

  void test('subset + ROUND_ROBIN: even spread over the 3 endpoints of subset v1, none to v2', async () => {
    const c = await readyClient('lb-rr');
    const names = ['v1-a', 'v1-b', 'v1-c'].map((s) => serverName('lb-rr', s));
    // Warm up until every endpoint is connected (round_robin only picks READY subchannels).
    const seen = new Set<string>();
    const sawAll = (r: CallResult): boolean => {
      if (r.ok) seen.add(r.reply.server);
      return names.every((n) => seen.has(n));
    };
    await c.until(sawAll, RESOLVE_MS);
    const t = tally(await runCalls(c, 300, 1));
    for (const n of names) {
      const k = t.get(n) ?? 0;
      assert.ok(k >= 85 && k <= 115, `${n}: ${k} of 300: ${JSON.stringify([...t])}`);
    }
    assert.equal(t.get(serverName('lb-rr', 'v2')), undefined, 'subset v1 only');
  });

  void test('subset + consistentHash on x-user: same user → same endpoint, different users spread', async () => {
    const c = await readyClient('lb-hash');
    const chosen = new Map<string, string>();
    for (let u = 0; u < 12; u++) {
      const user = `user-${u}`;
      const t = tally(await runCalls(c, 8, 2, { headers: { 'x-user': user } }));
      assert.equal(t.size, 1, `${user} went to ${JSON.stringify([...t])}`);
      const [server] = [...t.keys()];
      assert.ok(server?.startsWith('lb-hash/reviews-v1-'), `${user} → ${server}`);
      chosen.set(user, server);
    }
    const distinct = new Set(chosen.values());
    assert.ok(distinct.size >= 2, `12 users all hashed to ${JSON.stringify([...distinct])}`);
  });

  void test('LEAST_REQUEST and a subset-level maglev consistentHash still work for gRPC (no NACK; maglev is sticky)', async () => {
    const c = await readyClient('lb-other');
    const v1 = tally(await runCalls(c, 20, 2));
    assert.ok([...v1.keys()].every((k) => k.startsWith('lb-other/reviews-v1-')), `LEAST_REQUEST subset v1: ${JSON.stringify([...v1])}`);
    const chosen = new Set<string>();
    for (let u = 0; u < 12; u++) {
      const t = tally(await runCalls(c, 6, 2, { headers: { 'x-subset': 'v2', 'x-user': `user-${u}` } }));
      assert.equal(t.size, 1, `user-${u} went to ${JSON.stringify([...t])}`);
      const [server] = [...t.keys()];
      assert.ok(server?.startsWith('lb-other/reviews-v2-'), `user-${u} → ${server}`);
      chosen.add(server);
    }
    assert.ok(chosen.size >= 2, `12 users all hashed to ${JSON.stringify([...chosen])}`);
  });

  void test('live edit: rewriting the VirtualService (v1 → v2) reaches the client within 1 s; no RPC fails', async (t) => {
    const c = await readyClient('live', { pred: (r) => r.ok && r.reply.server === serverName('live', 'v1') });
    const v1 = serverName('live', 'v1');
    const v2 = serverName('live', 'v2');
    type Rec = { start: number; end: number; r: CallResult };
    const recs: Rec[] = [];
    let stop = false;
    let writeAt = 0;
    let firstV2At = 0;
    const loop = async (): Promise<void> => {
      while (!stop) {
        const start = performance.now();
        const r = await c.call({ deadlineMs: 5000 });
        const end = performance.now();
        recs.push({ start, end, r });
        if (writeAt > 0 && firstV2At === 0 && r.ok && r.reply.server === v2) firstV2At = end;
      }
    };
    const loops = Array.from({ length: 4 }, loop);
    try {
      // Steady state first: 40 calls all on v1.
      const deadline = Date.now() + 5000;
      while (recs.length < 40 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(recs.every((x) => x.r.ok && x.r.reply.server === v1), `before the edit: ${JSON.stringify([...tally(recs.map((x) => x.r))])}`);
      writeAt = performance.now();
      mesh.writeVirtualService('live', [{ route: [dest(mesh.scenario('live').host, 'v2')] }]);
      const until = Date.now() + 3000;
      while (firstV2At === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      // Keep the loop running until 100 more RPCs have started after the switch (or 3 s), then stop.
      const settle = Date.now() + 3000;
      while (firstV2At > 0 && recs.filter((x) => x.start > firstV2At).length < 100 && Date.now() < settle) await new Promise((r) => setTimeout(r, 20));
    } finally {
      stop = true;
      await Promise.all(loops);
    }
    const failures = recs.filter((x) => !x.r.ok);
    assert.equal(failures.length, 0, `failed RPCs during the edit: ${failures.slice(0, 5).map((x) => show(x.r)).join('; ')}`);
    assert.ok(firstV2At > 0, `v2 never observed within 3 s of the write${await mesh.diagnostics(nodeIdFor('live', 'client-live'))}`);
    const latency = firstV2At - writeAt;
    t.diagnostic(`edit → first v2 reply: ${latency.toFixed(0)} ms; ${recs.length} RPCs in the loop, 0 failed`);
    assert.ok(latency <= 1000, `the edit reached the client after ${latency.toFixed(0)} ms`);
    const lateV1 = recs.filter((x) => x.start > firstV2At && x.r.ok && x.r.reply.server === v1);
    assert.equal(lateV1.length, 0, `${lateV1.length} calls started after v2 was observed still went to v1 (flapping config)`);
  });

  void test('endpoint change: a new WorkloadEntry reaches the client within 1 s, as an EDS-only push', async (t) => {
    const ns = 'live';
    const id = nodeIdFor(ns, 'client-live-eds');
    const c = await readyClient(ns, { pod: 'client-live-eds', pred: (r) => r.ok && r.reply.server === serverName(ns, 'v2') });
    const extra = await startEchoServer(serverName(ns, 'v2-b'));
    try {
      const before = syncFor(asSyncz(await mesh.discovery.debug('/debug/syncz')), id);
      const writeAt = performance.now();
      mesh.writeDocs(ns, 'extra-endpoint.yaml', [
        workloadEntry({ name: 'reviews-v2-b', namespace: ns, address: extra.host, port: extra.port, labels: { app: 'reviews', version: 'v2' } }),
      ]);
      const r = await c.until((x) => !x.ok || x.reply.server === extra.name, 3000);
      assert.ok(r.ok, `no RPC may fail while endpoints change: ${show(r)}`);
      const latency = performance.now() - writeAt;
      t.diagnostic(`new endpoint → first reply from it: ${latency.toFixed(0)} ms`);
      assert.ok(latency <= 1000, `the new endpoint was used after ${latency.toFixed(0)} ms`);
      const after = syncFor(asSyncz(await mesh.discovery.debug('/debug/syncz')), id);
      assert.notEqual(after['eds'], before['eds'], 'EDS was pushed');
      for (const ty of ['lds', 'rds', 'cds']) assert.equal(after[ty], before[ty], `${ty} must not be pushed for an endpoint-only change`);
    } finally {
      rmSync(join(mesh.dir, ns, 'extra-endpoint.yaml'), { force: true });
      await extra.close();
    }
  });

  void test('production bootstrap path: a child process with GRPC_XDS_BOOTSTRAP resolves and calls', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'isthmus-e2e-bootstrap-'));
    try {
      const path = join(dir, 'bootstrap.json');
      writeBootstrap(path, { serverUri: mesh.discovery.grpc, namespace: 'default', podName: 'child-client' });
      const rep = await runChildClient({ bootstrapPath: path, target: mesh.scenario('default').target, count: 20, timeoutMs: RESOLVE_MS });
      assert.ok(rep.firstOkMs !== null, `child never got a reply${await mesh.diagnostics(nodeIdFor('default', 'child-client'))}`);
      assert.equal(rep.results.length, 20);
      for (const r of rep.results) assert.ok(r.ok && r.server?.startsWith('default/reviews-v'), JSON.stringify(r));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void test('debug: /debug/syncz shows every proxyless client SYNCED on lds/rds/cds/eds, with no NACK', async () => {
    const pods = ['default', 'headers', 'faults', 'retries', 'lb-rr', 'lb-hash', 'lb-other', 'live'].map((ns) => nodeIdFor(ns, `client-${ns}`));
    const problems = (entries: SyncEntry[]): string[] => {
      const out: string[] = [];
      for (const id of pods) {
        const e = entries.find((x) => x.proxy === id);
        if (!e) {
          out.push(`${id}: not connected`);
          continue;
        }
        for (const t of ['lds', 'rds', 'cds', 'eds']) {
          const st = e.types[t];
          if (st?.status !== 'SYNCED') out.push(`${id} ${t}: ${JSON.stringify(st)}`);
        }
      }
      for (const e of entries) for (const [t, st] of Object.entries(e.types)) if (st.nack) out.push(`${e.proxy} ${t} NACK: ${st.nack.message}`);
      return out;
    };
    let last: string[] = [];
    const end = Date.now() + 3000;
    do {
      last = problems(asSyncz(await mesh.discovery.debug('/debug/syncz')));
      if (last.length === 0) return;
      await new Promise((r) => setTimeout(r, 50));
    } while (Date.now() < end);
    assert.fail(last.join('\n'));
  });
});

interface SyncEntry {
  proxy: string;
  types: Record<string, { status?: string; sent?: string; nack?: { message?: string } }>;
}

/** Sent version per type for one node. */
function syncFor(entries: SyncEntry[], id: string): Record<string, string | undefined> {
  const e = entries.find((x) => x.proxy === id);
  assert.ok(e, `${id} not in syncz`);
  return Object.fromEntries(Object.entries(e.types).map(([k, v]) => [k, v.sent]));
}

/** Narrows the /debug/syncz body (an array of {proxy, types: {lds: {status, nack?}, ...}}). */
function asSyncz(body: unknown): SyncEntry[] {
  assert.ok(Array.isArray(body), `syncz is not an array: ${JSON.stringify(body).slice(0, 300)}`);
  return body.map((x: unknown) => {
    const o = (typeof x === 'object' && x !== null ? x : {}) as { proxy?: unknown; types?: unknown };
    return { proxy: String(o.proxy), types: (typeof o.types === 'object' && o.types !== null ? o.types : {}) as SyncEntry['types'] };
  });
}

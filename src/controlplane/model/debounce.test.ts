// Debouncer timing with a fake clock: quiet period, max delay, merging, and no overlapping pushes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PushRequest } from '../generate/types.js';
import { FakeClock } from './clock.js';
import { Debouncer, mergePushRequests } from './debounce.js';
import { pushRequestForConfig, pushRequestForRegistry } from './push-request.js';

function req(o: Partial<PushRequest> & { start: number }): PushRequest {
  return { full: false, configsUpdated: new Set(), servicesUpdated: new Set(), reasons: [], ...o };
}

function setup(onPush?: (r: PushRequest) => void | Promise<void>): { clock: FakeClock; d: Debouncer; pushes: { at: number; req: PushRequest }[] } {
  const clock = new FakeClock(1000);
  const pushes: { at: number; req: PushRequest }[] = [];
  const d = new Debouncer({
    debounceAfterMs: 100,
    debounceMaxMs: 10_000,
    clock,
    onPush: (r) => {
      pushes.push({ at: clock.now(), req: r });
      return onPush?.(r);
    },
  });
  return { clock, d, pushes };
}

void describe('Debouncer', () => {
  void it('pushes after 100 ms of quiet', () => {
    const { clock, d, pushes } = setup();
    d.enqueue(req({ full: true, start: clock.now(), reasons: ['config'] }));
    clock.advance(99);
    assert.equal(pushes.length, 0);
    clock.advance(1);
    assert.equal(pushes.length, 1);
    assert.equal(pushes[0]?.at, 1100);
  });

  void it('restarts the quiet period on each event and merges the requests', () => {
    const { clock, d, pushes } = setup();
    d.enqueue(req({ full: false, start: clock.now(), servicesUpdated: new Set(['a']), reasons: ['endpoint'] }));
    clock.advance(60);
    d.enqueue(req({ full: true, start: clock.now(), configsUpdated: new Set(['VirtualService/default/x']), reasons: ['config'] }));
    clock.advance(60);
    d.enqueue(req({ full: false, start: clock.now(), servicesUpdated: new Set(['b']), reasons: ['endpoint'] }));
    clock.advance(99);
    assert.equal(pushes.length, 0);
    clock.advance(1);
    assert.equal(pushes.length, 1);
    const r = pushes[0].req;
    assert.equal(pushes[0]?.at, 1220);
    assert.equal(r.full, true);
    assert.deepEqual([...r.servicesUpdated].sort(), ['a', 'b']);
    assert.deepEqual([...r.configsUpdated], ['VirtualService/default/x']);
    assert.deepEqual(r.reasons, ['endpoint', 'config']);
    assert.equal(r.start, 1000, 'earliest start kept');
    assert.equal(d.events, 3);
  });

  void it('pushes at most debounceMax after the first event under a steady stream', () => {
    const { clock, d, pushes } = setup();
    const first = clock.now();
    for (let t = 0; t < 12_000; t += 50) {
      d.enqueue(req({ start: clock.now() }));
      clock.advance(50);
      if (pushes.length > 0) break;
    }
    assert.equal(pushes.length, 1);
    assert.equal(pushes[0].at - first, 10_000);
  });

  void it('holds the next push until the running one finishes', async () => {
    let release!: () => void;
    const { clock, d, pushes } = setup(() => new Promise<void>((r) => (release = r)));
    d.enqueue(req({ start: clock.now() }));
    clock.advance(100);
    assert.equal(pushes.length, 1);
    d.enqueue(req({ start: clock.now(), servicesUpdated: new Set(['late']) }));
    clock.advance(500);
    assert.equal(pushes.length, 1, 'no second push while the first runs');
    release();
    await new Promise((r) => setImmediate(r));
    assert.equal(pushes.length, 2);
    assert.deepEqual([...pushes[1].req.servicesUpdated], ['late']);
  });

  void it('drops pending work on close', () => {
    const { clock, d, pushes } = setup();
    d.enqueue(req({ start: clock.now() }));
    d.close();
    clock.advance(1000);
    d.enqueue(req({ start: clock.now() }));
    clock.advance(1000);
    assert.equal(pushes.length, 0);
    assert.equal(clock.pending, 0);
  });

  void it('merges like Istio', () => {
    const m = mergePushRequests(req({ full: false, start: 5, reasons: ['a'] }), req({ full: false, start: 3, reasons: ['a', 'b'] }));
    assert.equal(m.full, false);
    assert.equal(m.start, 3);
    assert.deepEqual(m.reasons, ['a', 'b']);
  });
});

void describe('push requests from events', () => {
  void it('maps config events to full pushes, leaving registry kinds to the registry', () => {
    const cfg = { meta: { kind: 'VirtualService' as const, group: '', version: '', name: 'x', namespace: 'default', labels: {}, annotations: {}, resourceVersion: '1' }, spec: {} };
    const r = pushRequestForConfig({ type: 'add', kind: 'VirtualService', key: 'VirtualService/default/x', config: cfg }, 5);
    assert.equal(r?.full, true);
    assert.deepEqual([...(r?.configsUpdated ?? [])], ['VirtualService/default/x']);
    assert.equal(pushRequestForConfig({ type: 'add', kind: 'ServiceEntry', key: 'ServiceEntry/default/x', config: { ...cfg, meta: { ...cfg.meta, kind: 'ServiceEntry' } } }, 5), undefined);
  });

  void it('maps registry events to full or EDS-only pushes', () => {
    const eds = pushRequestForRegistry({ full: false, servicesUpdated: new Set(['a']), configsUpdated: new Set(['WorkloadEntry/default/w']), reason: 'workloadentry' }, 7);
    assert.equal(eds?.full, false);
    assert.deepEqual(eds?.reasons, ['endpoint']);
    assert.equal(pushRequestForRegistry({ full: false, servicesUpdated: new Set(), configsUpdated: new Set(), reason: 'workloadentry' }, 7), undefined);
    assert.equal(pushRequestForRegistry({ full: true, servicesUpdated: new Set(['a']), configsUpdated: new Set(), reason: 'serviceentry' }, 7)?.full, true);
  });
});

// Push queue: per-connection merging while queued and while in progress, bounded concurrency, removal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PushRequest } from '../generate/types.js';
import { PushQueue, mergePushRequests } from './push-queue.js';

function req(full: boolean, services: string[] = [], start = 1000, reason = 'config'): PushRequest {
  return { full, configsUpdated: new Set(full ? [`VirtualService/default/${reason}`] : []), servicesUpdated: new Set(services), reasons: [reason], start };
}

test('merging ORs full, unions the sets and keeps the earliest start', () => {
  const m = mergePushRequests(req(false, ['a'], 5, 'endpoint'), req(true, ['b'], 3, 'config'));
  assert.equal(m.full, true);
  assert.deepEqual([...m.servicesUpdated].sort(), ['a', 'b']);
  assert.deepEqual([...m.configsUpdated], ['VirtualService/default/config']);
  assert.deepEqual(m.reasons, ['endpoint', 'config']);
  assert.equal(m.start, 3);
});

test('requests for a connection that is being pushed to merge into one follow-up push', async () => {
  const seen: [string, PushRequest][] = [];
  const release: (() => void)[] = [];
  const q = new PushQueue<string>((key, r) => {
    seen.push([key, r]);
    return new Promise<void>((resolve) => release.push(resolve));
  }, 10);
  q.enqueue('c1', req(false, ['a']));
  q.enqueue('c1', req(false, ['b'])); // merged while queued
  await new Promise((r) => setImmediate(r));
  assert.equal(seen.length, 1);
  assert.deepEqual([...(seen[0]?.[1].servicesUpdated ?? [])].sort(), ['a', 'b']);
  q.enqueue('c1', req(false, ['c'])); // in progress: deferred
  q.enqueue('c1', req(true, [], 999)); // merged into the deferred one
  await new Promise((r) => setImmediate(r));
  assert.equal(seen.length, 1, 'nothing starts while the first push is in progress');
  release.shift()?.();
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.equal(seen.length, 2);
  const second = seen[1]?.[1];
  assert.equal(second?.full, true);
  assert.deepEqual([...(second?.servicesUpdated ?? [])], ['c']);
  assert.equal(second?.start, 999);
  release.shift()?.();
  await q.idle();
});

test('concurrency is bounded and removed connections are skipped', async () => {
  const running = new Map<string, () => void>();
  const done: string[] = [];
  const q = new PushQueue<string>(
    (key) =>
      new Promise<void>((resolve) =>
        running.set(key, () => {
          running.delete(key);
          done.push(key);
          resolve();
        }),
      ),
    2,
  );
  for (const k of ['a', 'b', 'c', 'd', 'e']) q.enqueue(k, req(true));
  q.remove('d');
  const ticks = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  await ticks();
  assert.deepEqual([...running.keys()], ['a', 'b']);
  while (running.size > 0) {
    assert.ok(running.size <= 2);
    [...running.values()][0]?.();
    await ticks();
  }
  await q.idle();
  assert.deepEqual(done, ['a', 'b', 'c', 'e']);
});

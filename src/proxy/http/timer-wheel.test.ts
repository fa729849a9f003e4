// Timer wheel: firing order and granularity, cancel, reschedule from a callback, long delays past one rotation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TimerNode, TimerWheel } from './timer-wheel.js';

function fakeClock(): { now: () => number; advance(ms: number): void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

test('fires due nodes once, in ticks, and not before their deadline', () => {
  const c = fakeClock();
  const w = new TimerWheel({ tickMs: 10, slots: 8, now: c.now });
  const fired: number[] = [];
  const target = { onTimer: (k: number) => fired.push(k) };
  const a = new TimerNode(target, 1);
  const b = new TimerNode(target, 2);
  w.schedule(a, 25);
  w.schedule(b, 5);
  c.advance(10);
  w.tick();
  assert.deepEqual(fired, [2]);
  c.advance(10);
  w.tick();
  assert.deepEqual(fired, [2]);
  c.advance(10);
  w.tick();
  assert.deepEqual(fired, [2, 1]);
  assert.equal(w.size, 0);
  w.close();
});

test('cancel, reschedule, and delays longer than a rotation', () => {
  const c = fakeClock();
  const w = new TimerWheel({ tickMs: 10, slots: 4, now: c.now });
  const fired: string[] = [];
  const long = new TimerNode({ onTimer: () => fired.push('long') }, 0);
  const cancelled = new TimerNode({ onTimer: () => fired.push('cancelled') }, 0);
  w.schedule(long, 95);
  w.schedule(cancelled, 10);
  w.cancel(cancelled);
  assert.equal(cancelled.scheduled, false);
  for (let i = 0; i < 9; i++) {
    c.advance(10);
    w.tick();
  }
  assert.deepEqual(fired, []);
  c.advance(10);
  w.tick();
  assert.deepEqual(fired, ['long']);
  w.close();
});

test('a callback may cancel another due node or reschedule itself', () => {
  const c = fakeClock();
  const w = new TimerWheel({ tickMs: 10, slots: 16, now: c.now });
  const fired: string[] = [];
  const n2 = new TimerNode({ onTimer: () => fired.push('n2') }, 0);
  let again = true;
  const n1: TimerNode = new TimerNode(
    {
      onTimer: () => {
        fired.push('n1');
        w.cancel(n2);
        if (again) {
          again = false;
          w.schedule(n1, 10);
        }
      },
    },
    0,
  );
  // Slots are LIFO lists: n1, scheduled last, fires first and cancels n2 although n2 was collected as due too.
  w.schedule(n2, 10);
  w.schedule(n1, 10);
  c.advance(10);
  w.tick();
  assert.deepEqual(fired, ['n1']);
  c.advance(10);
  w.tick();
  assert.deepEqual(fired, ['n1', 'n1']);
  w.close();
});

test('real time: the interval runs only while timers are pending', async () => {
  const w = new TimerWheel({ tickMs: 5 });
  const t0 = performance.now();
  // The wheel's interval is unref'd (sockets keep a proxy alive); hold the loop open for the test.
  const guard = setTimeout(() => {}, 1000);
  await new Promise<void>((resolve) => w.schedule(new TimerNode({ onTimer: () => resolve() }, 0), 30));
  clearTimeout(guard);
  const took = performance.now() - t0;
  assert.ok(took >= 29 && took < 200, `fired after ${took} ms`);
  assert.equal(w.size, 0);
  w.close();
});

// Reconnect backoff: full jitter under an exponentially growing ceiling, capped, reset after a healthy stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from './backoff.js';

test('ceilings double from the base up to the cap; the delay is uniform below the ceiling', () => {
  const max = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 0.999999 });
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => max.next()), [99, 199, 399, 799, 999, 999]);
  assert.equal(max.attempts, 6);
  max.reset();
  assert.equal(max.next(), 99);
  const min = new Backoff({ random: () => 0 });
  assert.equal(min.next(), 0, 'full jitter may retry at once');
  const half = new Backoff({ baseMs: 100, maxMs: 15_000, random: () => 0.5 });
  for (let i = 0; i < 40; i++) half.next();
  assert.equal(half.next(), 7500, 'capped at 15 s, no overflow after many attempts');
  assert.throws(() => new Backoff({ baseMs: 0 }), RangeError);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration } from './duration.js';

test('parseDuration accepts protobuf JSON and Go-style durations, in milliseconds', () => {
  const cases: [string, number][] = [
    ['1s', 1000], ['0.5s', 500], ['1.25s', 1250], ['100ms', 100], ['1m', 60_000], ['1h', 3_600_000], ['1m30s', 90_000],
    ['1h2m3s4ms', 3_723_004], ['0', 0], ['0s', 0], ['250us', 0.25], ['1500000ns', 1.5], ['.5s', 500], ['-1s', -1000], ['2.5h', 9_000_000],
  ];
  for (const [s, ms] of cases) assert.equal(parseDuration(s), ms, s);
});

test('parseDuration rejects what is not a duration', () => {
  for (const s of ['', '1', '10', 's', '1x', '1 s', '1s ', 'one second', '1.2.3s', '--1s', '1d', 'ms', '-']) assert.equal(parseDuration(s), undefined, JSON.stringify(s));
});

test('formatDuration writes protobuf JSON durations', () => {
  assert.equal(formatDuration(1500), '1.5s');
  assert.equal(formatDuration(100), '0.1s');
  assert.equal(formatDuration(60_000), '60s');
});

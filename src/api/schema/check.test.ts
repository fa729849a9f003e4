import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorList } from '../errors.js';
import { checkValue } from './check.js';
import { bool, dur, int, list, map, msg, oneOfStr, port, required, str } from './dsl.js';
import { SPEC_SCHEMAS } from './index.js';

const schema = msg('T', {
  name: required(str),
  count: int,
  on: bool,
  wait: dur,
  mode: oneOfStr('A', 'B'),
  tags: map(str),
  items: list(msg('Item', { port, a: str, b: str }, [['a', 'b']])),
});

function check(v: unknown): { out: unknown; errors: string[] } {
  const errs = new ErrorList();
  const out = checkValue(v, schema, 'spec', errs);
  return { out, errors: errs.items.map((e) => `${e.path}: ${e.message}`) };
}

test('well-typed values pass through unchanged; nulls count as absent', () => {
  const v = { name: 'x', count: 3, on: true, wait: '1m30s', mode: 'A', tags: { a: 'b' }, items: [{ port: 80, a: 'x' }] };
  assert.deepEqual(check(v), { out: v, errors: [] });
  assert.deepEqual(check({ name: 'x', count: null }), { out: { name: 'x' }, errors: [] });
});

test('every problem is reported with its path, and bad values are dropped from the sanitized copy', () => {
  const r = check({ count: 1.5, on: 'yes', wait: '5 minutes', mode: 'C', tags: { a: 1 }, items: [{ port: 70000000000, a: 'x', b: 'y', c: 1 }, null], extra: {} });
  assert.deepEqual(r.errors, [
    'spec.count: expected integer, got 1.5',
    'spec.on: expected bool, got string',
    'spec.wait: invalid duration "5 minutes"',
    'spec.mode: invalid value "C", must be one of A, B',
    'spec.tags.a: expected string, got number',
    'spec.items[0].port: must be <= 4294967295, got 70000000000',
    'spec.items[0].c: unknown field',
    'spec.items[0]: only one of a, b may be set, got a and b',
    'spec.items[1]: list item must not be null',
    'spec.extra: unknown field',
    'spec.name: required field is missing',
  ]);
  assert.deepEqual(r.out, { tags: {}, items: [{ a: 'x', b: 'y' }] });
  assert.deepEqual(check('nope').errors, ['spec: expected object (T), got string']);
  assert.deepEqual(check({ name: 'x', items: {} }).errors, ['spec.items: expected list, got object']);
});

test('every kind has a schema that accepts an empty-but-valid shape without crashing', () => {
  for (const [kind, s] of Object.entries(SPEC_SCHEMAS)) {
    const errs = new ErrorList();
    assert.doesNotThrow(() => checkValue({}, s, 'spec', errs), kind);
  }
});

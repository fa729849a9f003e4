import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TypeUrl } from '../../xds/types.js';
import { firstDifference, goldenText, sortKeys } from './golden.js';

void test('golden text is sorted by name, keys sorted, wire view', () => {
  const text = goldenText(
    [
      { name: 'b', resource: { name: 'b', type: 'STATIC', connect_timeout: { seconds: 1, nanos: 0 } } },
      { name: 'a', resource: { name: 'a', type: 'EDS', eds_cluster_config: { service_name: 'a', eds_config: { ads: {}, resource_api_version: 'V3' } } } },
    ],
    TypeUrl.Cluster,
  );
  const parsed = JSON.parse(text) as { name: string }[];
  assert.deepEqual(parsed.map((r) => r.name), ['a', 'b']);
  assert.match(text, /"connect_timeout": "1s"/);
  assert.deepEqual(Object.keys(parsed[0]), ['@type', 'eds_cluster_config', 'name', 'type']);
});

void test('golden text rejects unknown fields and duplicate names', () => {
  assert.throws(() => goldenText([{ name: 'x', resource: { name: 'x', typ: 'EDS' } }], TypeUrl.Cluster), /\.typ: no such field/);
  assert.throws(
    () => goldenText([{ name: 'x', resource: { name: 'x' } }, { name: 'x', resource: { name: 'x' } }], TypeUrl.Cluster),
    /duplicate resource name/,
  );
});

void test('first difference shows context and both sides', () => {
  const d = firstDifference('a\nb\nc\nd', 'a\nb\nX\nd');
  assert.match(d, /line 3/);
  assert.match(d, /- c/);
  assert.match(d, /\+ X/);
  assert.equal(firstDifference('same', 'same'), '');
  assert.deepEqual(sortKeys({ b: 1, a: [{ d: 1, c: 2 }] }), { a: [{ c: 2, d: 1 }], b: 1 });
});

void test('proto3-JSON view: durations, wrappers, structs', () => {
  const text = goldenText(
    [{ name: 'c', resource: { name: 'c', connect_timeout: { seconds: 0, nanos: 250_000_000 }, max_requests_per_connection: { value: 3 }, metadata: { filter_metadata: { istio: { fields: { a: { stringValue: 'b' } } } } } } }],
    TypeUrl.Cluster,
  );
  const [c] = JSON.parse(text) as Record<string, unknown>[];
  assert.deepEqual(c, { '@type': TypeUrl.Cluster, connect_timeout: '0.250s', max_requests_per_connection: 3, metadata: { filter_metadata: { istio: { a: 'b' } } }, name: 'c' });
});

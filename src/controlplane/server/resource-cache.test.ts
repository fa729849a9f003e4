// The shared encoding cache: identical resources are encoded once and share bytes; old versions age out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeToObject } from '../../xds/codec.js';
import { TypeUrl } from '../../xds/types.js';
import { ResourceCache } from './resource-cache.js';

const cluster = (name: string, seconds = 1): { name: string; resource: Record<string, unknown> } => ({ name, resource: { name, type: 'EDS', connect_timeout: { seconds, nanos: 0 } } });

test('identical resources (for different proxies) are encoded once and share bytes', () => {
  const cache = new ResourceCache();
  cache.begin('v1');
  const a = cache.encode(TypeUrl.Cluster, cluster('c1'));
  const b = cache.encode(TypeUrl.Cluster, cluster('c1'));
  assert.equal(a.any.value, b.any.value);
  assert.equal(a.hash, b.hash);
  assert.equal(cache.encodes, 1);
  assert.equal(decodeToObject(TypeUrl.Cluster, a.any.value).name, 'c1');
  const c = cache.encode(TypeUrl.Cluster, cluster('c1', 2));
  assert.notEqual(c.hash, a.hash);
  assert.equal(cache.encodes, 2);
});

test('entries survive one version change, then age out', () => {
  const cache = new ResourceCache();
  cache.begin('v1');
  cache.encode(TypeUrl.Cluster, cluster('c1'));
  cache.begin('v2');
  cache.encode(TypeUrl.Cluster, cluster('c1'));
  assert.equal(cache.encodes, 1, 'unchanged across one push: not re-encoded');
  cache.begin('v3');
  cache.begin('v4');
  cache.encode(TypeUrl.Cluster, cluster('c1'));
  assert.equal(cache.encodes, 2);
  assert.ok(cache.size <= 1);
});

test('the cache is bounded', () => {
  const cache = new ResourceCache(10);
  cache.begin('v1');
  for (let i = 0; i < 35; i++) cache.encode(TypeUrl.Cluster, cluster(`c${i}`));
  assert.ok(cache.size <= 20);
});

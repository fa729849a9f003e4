import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorList, formatError, joinPath, sub } from './errors.js';

test('formatError: file, line, resource, path, message; unknown parts left out', () => {
  assert.equal(
    formatError({ file: 'samples/bad.yaml', line: 14, kind: 'VirtualService', namespace: 'default', name: 'reviews', path: 'spec.http[0].route', message: 'weights must sum to 100, got 90' }),
    'samples/bad.yaml:14: VirtualService default/reviews: spec.http[0].route: weights must sum to 100, got 90',
  );
  assert.equal(formatError({ file: 'a.yaml', index: 2, path: '', message: 'YAML syntax error: x' }), 'a.yaml[document 2]: YAML syntax error: x');
  assert.equal(formatError({ kind: 'WorkloadEntry', namespace: 'ns', name: 'w', path: 'spec.address', message: 'address is required' }), 'WorkloadEntry ns/w: spec.address: address is required');
  assert.equal(formatError({ file: 'a.yaml', kind: 'Gateway', namespace: 'ns', name: '', path: 'metadata.name', message: 'name is required' }), 'a.yaml: Gateway ns/<unnamed>: metadata.name: name is required');
});

test('paths: identifiers join with dots, indexes and odd map keys with brackets', () => {
  assert.equal(joinPath('', 'spec'), 'spec');
  assert.equal(joinPath('spec.http', 0), 'spec.http[0]');
  assert.equal(joinPath('spec.headers', 'x-user'), 'spec.headers["x-user"]');
  assert.equal(joinPath('m', 'app.kubernetes.io/name'), 'm["app.kubernetes.io/name"]');
  assert.equal(sub('spec.port', 'number.value'), 'spec.port.number.value');
  const l = new ErrorList();
  l.add('a', 'x');
  l.warn('b', 'y');
  assert.equal(l.length, 1);
  assert.deepEqual(l.warnings, [{ path: 'b', message: 'y' }]);
});

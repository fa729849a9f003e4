import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { ValidationError } from '../errors.js';
import { loadFile, parseDocuments } from '../load.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../testdata/${name}`, import.meta.url));
const fmt = (e: ValidationError): string => `L${e.line} ${e.name ?? '-'} ${e.path}: ${e.message}`;
/** `path: message` of every error of an inline document. */
const errorsOf = (yaml: string): string[] => parseDocuments(yaml, 'inline.yaml').errors.map((e) => `${e.path}: ${e.message}`);
const warningsOf = (yaml: string): string[] => parseDocuments(yaml, 'inline.yaml').warnings.map((e) => `${e.path}: ${e.message}`);

test('bad/envoyfilter.yaml: every error, with exact path, line and message', async () => {
  const r = await loadFile(fixture('bad/envoyfilter.yaml'));
  assert.deepEqual(r.errors.map(fmt), [
    'L7 bad spec.configPatches[0].applyTo: Envoy filter: missing applyTo',
    'L13 bad spec.configPatches[1].patch.value: Envoy filter: missing patch value for non-remove operation',
    'L16 bad spec.configPatches[2].match: Envoy filter: applyTo for cluster class objects cannot have non cluster match',
    'L20 bad spec.configPatches[2].patch.operation: Envoy filter: operation INSERT_FIRST is not supported for applyTo CLUSTER (supported: ADD, MERGE, REMOVE)',
    'L25 bad spec.configPatches[3].match.proxy.proxyVersion: Envoy filter: invalid regex for proxy version, [missing ): 1.2(]',
    'L28 bad spec.configPatches[3].match.listener.filterChain.filter.name: Envoy filter: filter match has no name to match on',
    'L35 bad spec.configPatches[4].patch.operation: Envoy filter: operation ADD is not supported for applyTo HTTP_FILTER (supported: MERGE, REMOVE, REPLACE, INSERT_BEFORE, INSERT_AFTER, INSERT_FIRST)',
  ]);
  assert.deepEqual(r.warnings.map(fmt), [
    'L5 bad spec: EnvoyFilter exposes internal implementation details that may change at any time. Prefer other APIs if possible, and exercise extreme caution, especially around upgrades.',
  ]);
  assert.equal(r.configs.length, 0);
});

const ef = (patches: string): string => `apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {name: e}\nspec:\n  configPatches:\n${patches}`;

test('REMOVE needs no value; value must be an object; subFilter needs the HTTP connection manager', () => {
  assert.deepEqual(errorsOf(ef('  - applyTo: HTTP_ROUTE\n    match: {routeConfiguration: {vhost: {name: "a:80"}}}\n    patch: {operation: REMOVE}')), []);
  assert.deepEqual(errorsOf(ef('  - applyTo: CLUSTER\n    patch: {operation: ADD, value: [1]}')), ['spec.configPatches[0].patch.value: Envoy filter: patch value must be an object']);
  assert.deepEqual(errorsOf(ef('  - applyTo: HTTP_FILTER\n    match:\n      listener:\n        filterChain:\n          filter: {name: envoy.filters.network.tcp_proxy, subFilter: {name: x}}\n    patch: {operation: REMOVE}')), [
    'spec.configPatches[0].match.listener.filterChain.filter.subFilter: Envoy filter: subfilter match requires filter match with envoy.filters.network.http_connection_manager',
  ]);
  assert.deepEqual(errorsOf(ef('  - applyTo: VIRTUAL_HOST\n    match: {cluster: {service: a}}\n    patch: {operation: MERGE, value: {}}')), [
    'spec.configPatches[0].match: Envoy filter: applyTo for http route class objects cannot have non route configuration match',
  ]);
});

test('every EnvoyFilter carries Istio\'s warning; a filter match on LISTENER patches is flagged', () => {
  const y = ef('  - applyTo: LISTENER\n    match:\n      listener:\n        filterChain:\n          filter: {name: envoy.filters.network.http_connection_manager}\n    patch: {operation: MERGE, value: {}}');
  assert.deepEqual(errorsOf(y), []);
  assert.deepEqual(warningsOf(y), [
    'spec: EnvoyFilter exposes internal implementation details that may change at any time. Prefer other APIs if possible, and exercise extreme caution, especially around upgrades.',
    'spec.configPatches[0].match.listener.filterChain.filter: Envoy filter: filter match has no effect when used with LISTENER',
  ]);
});

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

test('bad/telemetry.yaml: every error, with exact path, line and message', async () => {
  const r = await loadFile(fixture('bad/telemetry.yaml'));
  assert.deepEqual(r.errors.map(fmt), [
    'L5 bad spec: only one of targetRefs or workloadSelector can be set',
    'L14 bad spec.tracing[0].providers[0].name: providers.name may not be empty',
    'L15 bad spec.tracing[0].randomSamplingPercentage: randomSamplingPercentage must be in range [0.0, 100.0]',
    'L19 bad spec.tracing[0].customTags.a.literal.value: literal tag value may not be empty',
    'L20 bad spec.tracing[0].customTags.b: only one of literal, environment, header may be set, got literal and header',
    'L24 bad spec.metrics[0].reportingInterval: duration must not be negative, got "-5s"',
    'L27 bad spec.metrics[0].overrides[0].match.metric: invalid value "REQUEST_COUNTS", must be one of ALL_METRICS, REQUEST_COUNT, REQUEST_DURATION, REQUEST_SIZE, RESPONSE_SIZE, TCP_OPENED_CONNECTIONS, TCP_CLOSED_CONNECTIONS, TCP_SENT_BYTES, TCP_RECEIVED_BYTES, GRPC_REQUEST_MESSAGES, GRPC_RESPONSE_MESSAGES',
    'L29 bad spec.metrics[0].overrides[0].tagOverrides.t1.value: tagOverrides.value must be set when operation is UPSERT',
    'L33 bad spec.metrics[0].overrides[0].tagOverrides.t2.value: tagOverrides.value may only be set when operation is UPSERT',
    'L36 bad spec.accessLogging[0].filter.expression: filter expression may not be empty',
    'L37 bad spec.accessLogging[0].providers[0].name: required field is missing',
    'L38 bad spec.accessLogging[0].extra: unknown field',
  ]);
  assert.deepEqual(r.warnings.map(fmt), [

  ]);
  assert.equal(r.configs.length, 0);
});

const tm = (spec: string): string => `apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: t}\nspec:\n${spec}`;

test('tracing: sampling 0..100, one provider (more is a warning), custom tags', () => {
  assert.deepEqual(errorsOf(tm('  tracing:\n  - randomSamplingPercentage: 0\n  - randomSamplingPercentage: 100')), []);
  assert.deepEqual(warningsOf(tm('  tracing:\n  - providers: [{name: a}, {name: b}]')), ['spec.tracing[0].providers: multiple providers is not currently supported']);
  assert.deepEqual(errorsOf(tm('  tracing:\n  - randomSamplingPercentage: -1\n    customTags:\n      e: {environment: {name: ""}}\n      none: {}')), [
    'spec.tracing[0].randomSamplingPercentage: randomSamplingPercentage must be in range [0.0, 100.0]',
    'spec.tracing[0].customTags.e.environment.name: environment tag name may not be empty',
    'spec.tracing[0].customTags.none: custom tag must set one of literal, environment, header',
  ]);
});

test('metrics overrides and access logging: enums, durations, unknown fields', () => {
  assert.deepEqual(errorsOf(tm('  metrics:\n  - overrides:\n    - match: {metric: ALL_METRICS, mode: SERVER}\n      tagOverrides:\n        t: {value: "upstream_peer.labels[\'app\'].value"}\n    reportingInterval: 10s')), []);
  assert.deepEqual(errorsOf(tm('  metrics:\n  - overrides:\n    - match: {mode: BOTH}\n  accessLogging:\n  - disabled: "yes"')), [
    'spec.metrics[0].overrides[0].match.mode: invalid value "BOTH", must be one of CLIENT_AND_SERVER, CLIENT, SERVER',
    'spec.accessLogging[0].disabled: expected bool, got string',
  ]);
});

test('access logging filter: a CEL expression is accepted with a warning (the proxy cannot evaluate it)', () => {
  const y = tm('  accessLogging:\n  - providers: [{name: envoy}]\n    filter: {expression: "response.code >= 400"}');
  assert.deepEqual(errorsOf(y), []);
  assert.deepEqual(warningsOf(y), [
    'spec.accessLogging[0].filter.expression: CEL access log filters are not supported by isthmus: the filter is ignored and every request/connection is logged',
  ]);
  assert.deepEqual(warningsOf(tm('  accessLogging:\n  - providers: [{name: envoy}]')), []);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMeshConfig } from './mesh-config.js';

test('reads access logging, envoyFileAccessLog providers and default providers', () => {
  const r = parseMeshConfig(`
accessLogFile: /dev/stdout
accessLogEncoding: JSON
extensionProviders:
- name: text-log
  envoyFileAccessLog:
    path: /tmp/access.log
    logFormat: {text: "%RESPONSE_CODE% %RESPONSE_FLAGS%"}
- name: json-log
  envoyFileAccessLog:
    logFormat:
      labels: {code: "%RESPONSE_CODE%", flags: "%RESPONSE_FLAGS%"}
- name: prometheus
  prometheus: {}
defaultProviders:
  metrics: [prometheus]
  accessLogging: [text-log]
`);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(r.mesh, {
    accessLogFile: '/dev/stdout',
    accessLogEncoding: 'JSON',
    extensionProviders: [
      { name: 'text-log', envoyFileAccessLog: { path: '/tmp/access.log', logFormat: { text: '%RESPONSE_CODE% %RESPONSE_FLAGS%' } } },
      { name: 'json-log', envoyFileAccessLog: { logFormat: { labels: { code: '%RESPONSE_CODE%', flags: '%RESPONSE_FLAGS%' } } } },
    ],
    defaultProviders: { accessLogging: ['text-log'] },
  });
});

test('reports every error with its path; unsupported fields are warnings', () => {
  const r = parseMeshConfig(`
accessLogEncoding: XML
enableTracing: true
extensionProviders:
- envoyFileAccessLog: {}
- name: a
  envoyFileAccessLog:
    logFormat: {text: x, labels: {a: b}}
- name: a
  zipkin: {service: z, port: 9411}
- name: b
- name: c
  envoyFileAccessLog:
    logFormat:
      labels: {nested: {x: y}}
- name: d
  envoyHttpAls: {service: als, port: 9000}
`);
  assert.deepEqual(r.errors, [
    'accessLogEncoding: invalid value "XML", must be one of TEXT, JSON',
    'extensionProviders[0].name: required',
    'extensionProviders[1].envoyFileAccessLog.logFormat: only one of text or labels may be set',
    'extensionProviders[2].name: duplicate provider name "a"',
    'extensionProviders[3]: exactly one provider kind must be set, got 0',
    'extensionProviders[4].envoyFileAccessLog.logFormat.labels.nested: nested JSON access log formats are not supported',
  ]);
  assert.deepEqual(r.warnings, [
    'enableTracing: not supported by isthmus, ignored',
    'extensionProviders[5].envoyHttpAls: gRPC/OpenTelemetry access log services are not supported by isthmus; Telemetry naming "d" logs nothing',
  ]);
  assert.deepEqual(parseMeshConfig('').errors, []);
  assert.deepEqual(parseMeshConfig('[1, 2]').errors, ['(document): expected an object']);
  assert.match(parseMeshConfig('a: [').errors[0] ?? '', /^invalid YAML/);
});

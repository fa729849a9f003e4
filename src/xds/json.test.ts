import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromProtoJson, parseJsonDuration } from './json.js';
import { TypeUrl } from './types.js';
import { unknownFields } from './codec.js';

test('converts camelCase keys, durations, wrappers and nested Any', () => {
  const errors: string[] = [];
  const out = fromProtoJson('envoy.config.cluster.v3.Cluster', {
    name: 'c',
    connectTimeout: '0.25s',
    perConnectionBufferLimitBytes: 32768,
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        commonHttpProtocolOptions: { idleTimeout: '100ms' },
        explicitHttpConfig: { http2ProtocolOptions: {} },
      },
    },
  }, '', errors);
  assert.deepEqual(errors, []);
  assert.deepEqual(out.connect_timeout, { seconds: 0, nanos: 250_000_000 });
  assert.deepEqual(out.per_connection_buffer_limit_bytes, { value: 32768 });
  const opts = (out.typed_extension_protocol_options as Record<string, Record<string, unknown>>)['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
  assert.deepEqual(opts.common_http_protocol_options, { idle_timeout: { seconds: 0, nanos: 100_000_000 } });
  assert.deepEqual(unknownFields(TypeUrl.Cluster, out), []);
});

test('reports unknown fields and bad durations with paths', () => {
  const errors: string[] = [];
  fromProtoJson('envoy.config.cluster.v3.Cluster', { name: 'c', connectTimeout: 'soon', bogusField: 1 }, '', errors);
  assert.deepEqual(errors, ['.connectTimeout: invalid duration "soon"', '.bogusField: no such field in envoy.config.cluster.v3.Cluster']);
});

test('durations in proto3 JSON and Go forms', () => {
  assert.deepEqual(parseJsonDuration('1.5s'), { seconds: 1, nanos: 500_000_000 });
  assert.deepEqual(parseJsonDuration('2m'), { seconds: 120, nanos: 0 });
  assert.equal(parseJsonDuration('1 day'), undefined);
});

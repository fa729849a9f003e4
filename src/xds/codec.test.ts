import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TypeUrl } from './types.js';
import { decodeToObject, durationMs, durationToMs, encode, fromStruct, toStruct, unknownFields } from './codec.js';

test('encodes and decodes a listener with a nested Any', () => {
  const obj = {
    name: 'virtualOutbound',
    address: { socket_address: { address: '0.0.0.0', port_value: 15001 } },
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', stat_prefix: 'PassthroughCluster', cluster: 'PassthroughCluster' } }] }],
  };
  assert.deepEqual(unknownFields(TypeUrl.Listener, obj), []);
  const back = decodeToObject(TypeUrl.Listener, encode(TypeUrl.Listener, obj));
  assert.deepEqual(back, obj);
});

test('reports misspelled fields and doubly-set oneofs with their paths', () => {
  const errs = unknownFields(TypeUrl.Cluster, { name: 'c', typ: 'EDS', type: 'EDS', cluster_type: { name: 'x' } });
  assert.deepEqual(errs, ['.typ: no such field in envoy.config.cluster.v3.Cluster', '.cluster_type: oneof cluster_discovery_type already set by type']);
});

test('durations and structs convert both ways', () => {
  assert.deepEqual(durationMs(1500), { seconds: 1, nanos: 500_000_000 });
  assert.equal(durationToMs({ seconds: '2', nanos: 250_000_000 }), 2250);
  assert.equal(durationToMs('0.5s'), 500);
  const s = { a: 'b', n: 1, t: true, l: [1, 'x'], o: { k: null } };
  assert.deepEqual(fromStruct(toStruct(s)), s);
});

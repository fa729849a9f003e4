import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DestinationRule } from '../../../api/types/networking.js';
import { unknownFields } from '../../../xds/codec.js';
import { messageType } from '../../../xds/proto.js';
import { hashPolicyFor } from './lb.js';
import { effectivePolicy } from './policy.js';

const DR: DestinationRule = {
  host: 'reviews',
  trafficPolicy: {
    loadBalancer: { consistentHash: { httpHeaderName: 'x-user' } },
    portLevelSettings: [{ port: { number: 9090 }, loadBalancer: { consistentHash: { useSourceIp: true } } }],
  },
  subsets: [
    { name: 'cookie', labels: { v: '1' }, trafficPolicy: { loadBalancer: { consistentHash: { httpCookie: { name: 'session', ttl: '10s', path: '/', attributes: [{ name: 'SameSite', value: 'Strict' }] } } } } },
    { name: 'query', labels: { v: '2' }, trafficPolicy: { portLevelSettings: [{ port: { number: 9080 }, loadBalancer: { consistentHash: { httpQueryParameterName: 'u' } } }] } },
    { name: 'rr', labels: { v: '3' }, trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } } },
  ],
};

void test('hashPolicyFor follows the merged policy: subset port-level > subset > port-level > top-level', () => {
  assert.deepEqual(hashPolicyFor(DR, undefined, 9080), { header: { header_name: 'x-user' } });
  assert.deepEqual(hashPolicyFor(DR, '', 9090), { connection_properties: { source_ip: true } });
  assert.deepEqual(hashPolicyFor(DR, 'cookie', 9080), {
    cookie: { name: 'session', ttl: { seconds: 10, nanos: 0 }, path: '/', attributes: [{ name: 'SameSite', value: 'Strict' }] },
  });
  assert.deepEqual(hashPolicyFor(DR, 'query', 9080), { query_parameter: { name: 'u' } });
  assert.deepEqual(hashPolicyFor(DR, 'query', 9090), { connection_properties: { source_ip: true } });
  assert.equal(hashPolicyFor(DR, 'rr', 9080), undefined, 'a subset load balancer without consistentHash replaces the parent one');
  assert.equal(hashPolicyFor(undefined, undefined, 9080), undefined);
  const hp = messageType('envoy.config.route.v3.RouteAction.HashPolicy');
  for (const s of ['', 'cookie', 'query']) {
    assert.deepEqual(unknownFields(`type.googleapis.com/${hp.fullName.slice(1)}`, hashPolicyFor(DR, s, 9080)), []);
  }
});

void test('effectivePolicy merges components, never fields inside a component', () => {
  const dr: DestinationRule = {
    host: 'x',
    trafficPolicy: { connectionPool: { tcp: { maxConnections: 1 }, http: { maxRetries: 2 } }, tls: { mode: 'ISTIO_MUTUAL' } },
    subsets: [{ name: 's', trafficPolicy: { connectionPool: { http: { maxRetries: 5 } } } }],
  };
  assert.deepEqual(effectivePolicy(dr, 80, 's'), { connectionPool: { http: { maxRetries: 5 } }, tls: { mode: 'ISTIO_MUTUAL' } });
  assert.deepEqual(effectivePolicy(dr, 80, 'unknown'), dr.trafficPolicy);
});

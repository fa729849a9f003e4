import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MeshError } from '../../shared/errors.js';
import { nodeMetadata, proxyNodeId } from '../xds-client/node.js';
import { nodeOptions, parseDurationMs, resolveOptions } from './options.js';

test('flags win over environment, environment over defaults', () => {
  const env = {
    INSTANCE_IP: '127.0.10.1', POD_NAME: 'reviews-v1-1', POD_NAMESPACE: 'bookinfo', SERVICE_ACCOUNT: 'reviews',
    ISTIO_METAJSON_LABELS: '{"app":"reviews","version":"v1"}', ISTIO_META_WORKLOAD_GROUP: 'reviews-vms', TERMINATION_DRAIN_DURATION_SECONDS: '7',
    PILOT_ADDRESS: '127.0.0.1:15010', ISTIO_META_CUSTOM: 'x', ISTIO_DELTA_XDS: 'true',
  };
  const o = resolveOptions('sidecar', { namespace: 'other', labels: 'tier=backend' }, env);
  assert.equal(o.ip, '127.0.10.1');
  assert.equal(o.namespace, 'other');
  assert.equal(o.podName, 'reviews-v1-1');
  assert.equal(o.serviceAccount, 'reviews');
  assert.deepEqual(o.labels, { app: 'reviews', version: 'v1', tier: 'backend' });
  assert.equal(o.workloadGroup, 'reviews-vms');
  assert.equal(o.drainDurationMs, 7_000);
  assert.equal(o.listenerDrainMs, 45_000);
  assert.equal(o.delta, true);
  assert.deepEqual(o.metadata, { CUSTOM: 'x' });
  // Agent endpoints bind the workload IP by default (many local sidecars on one machine); admin stays on localhost.
  assert.equal(o.statusAddr, '127.0.10.1:15020');
  assert.equal(o.readinessAddr, '127.0.10.1:15021');
  assert.equal(o.adminAddr, '127.0.0.1:15000');
  assert.equal(o.interceptionMode, 'REDIRECT');
});

test('PROXY_CONFIG and defaults; node identity in Istio form', () => {
  const o = resolveOptions('router', { 'pod-name': 'gw-1', 'interception-mode': 'none', locality: 'us/us-east1/a' }, { PROXY_CONFIG: '{"discoveryAddress":"istiod:15012","concurrency":2,"drainDuration":"10s"}' });
  assert.equal(o.discoveryAddress, 'istiod:15012');
  assert.equal(o.concurrency, 2);
  assert.equal(o.listenerDrainMs, 10_000);
  assert.equal(o.drainDurationMs, 5_000);
  assert.equal(o.interceptionMode, 'NONE');
  const n = nodeOptions(o, '0.1.0');
  assert.equal(proxyNodeId(n), 'router~127.0.0.1~gw-1.default~default.svc.cluster.local');
  const md = nodeMetadata(n);
  assert.equal(md.INTERCEPTION_MODE, 'NONE');
  assert.equal(md.NAMESPACE, 'default');
  assert.equal(md.NAME, 'gw-1');
  assert.deepEqual(n.locality, { region: 'us', zone: 'us-east1', subZone: 'a' });
});

test('bad values are usage errors', () => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ concurrency: '0' }, /--concurrency/],
    [{ 'drain-duration': 'soon' }, /duration/],
    [{ 'log-level': 'loud' }, /--log-level/],
    [{ 'interception-mode': 'MAGIC' }, /--interception-mode/],
    [{ labels: 'novalue' }, /key=value/],
  ];
  for (const [flags, re] of bad) assert.throws(() => resolveOptions('sidecar', flags, {}), (e: unknown) => e instanceof MeshError && e.code === 'ERR_USAGE' && re.test(e.message));
  assert.throws(() => resolveOptions('sidecar', {}, { PROXY_CONFIG: '[1]' }), /PROXY_CONFIG must be a JSON object/);
  assert.equal(parseDurationMs('1.5s', 'x'), 1500);
  assert.equal(parseDurationMs('250ms', 'x'), 250);
  assert.equal(parseDurationMs('3', 'x'), 3000);
});

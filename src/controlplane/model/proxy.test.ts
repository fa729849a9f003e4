// Tests of Node → Proxy: Istio node ids, metadata (Struct), locality, and the lenient path for proxyless gRPC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toStruct } from '../../xds/codec.js';
import { messageType } from '../../xds/proto.js';
import { localityString, proxyFromNode } from './proxy.js';
import type { Proxy } from './types.js';

function ok(r: Proxy | { error: string }): Proxy {
  if ('error' in r) assert.fail(r.error);
  return r;
}

/** Round-trips a Node through protobuf the way the server decodes requests. */
function wireNode(node: Record<string, unknown>): Record<string, unknown> {
  const t = messageType('envoy.config.core.v3.Node');
  return t.toObject(t.decode(t.encode(t.fromObject(node)).finish()), { longs: String, enums: String, defaults: false });
}

test('sidecar node id and metadata become a Proxy', () => {
  const p = ok(
    proxyFromNode(
      wireNode({
        id: 'sidecar~10.0.0.5~reviews-v1-abc.bookinfo~bookinfo.svc.cluster.local',
        cluster: 'reviews.bookinfo',
        locality: { region: 'us-east1', zone: 'us-east1-b', sub_zone: 'rack1' },
        metadata: toStruct({
          NAMESPACE: 'bookinfo',
          LABELS: { app: 'reviews', version: 'v1' },
          SERVICE_ACCOUNT: 'bookinfo-reviews',
          INSTANCE_IPS: '10.0.0.5, fd00::5',
          INTERCEPTION_MODE: 'NONE',
          WORKLOAD_GROUP: 'reviews',
          ISTIO_VERSION: '1.22.0',
        }),
      }),
    ),
  );
  assert.equal(p.id, 'sidecar~10.0.0.5~reviews-v1-abc.bookinfo~bookinfo.svc.cluster.local');
  assert.equal(p.type, 'sidecar');
  assert.deepEqual(p.ips, ['10.0.0.5', 'fd00::5']);
  assert.equal(p.workloadName, 'reviews-v1-abc');
  assert.equal(p.namespace, 'bookinfo');
  assert.equal(p.dnsDomain, 'bookinfo.svc.cluster.local');
  assert.deepEqual(p.labels, { app: 'reviews', version: 'v1' });
  assert.equal(p.serviceAccount, 'bookinfo-reviews');
  assert.equal(p.locality, 'us-east1/us-east1-b/rack1');
  assert.equal(p.metadata.INTERCEPTION_MODE, 'NONE');
  assert.equal(p.metadata.WORKLOAD_GROUP, 'reviews');
  assert.equal(p.metadata.raw.ISTIO_VERSION, '1.22.0');
  assert.equal(p.isGrpc, false);
});

test('defaults: namespace from the id, IP from the id, service account default, no labels', () => {
  const p = ok(proxyFromNode({ id: 'router~127.0.0.9~ingress-1.istio-system~istio-system.svc.cluster.local' }));
  assert.equal(p.type, 'router');
  assert.equal(p.namespace, 'istio-system');
  assert.deepEqual(p.ips, ['127.0.0.9']);
  assert.equal(p.serviceAccount, 'default');
  assert.deepEqual(p.labels, {});
  assert.equal(p.locality, '');
});

test('metadata NAMESPACE wins over the id', () => {
  const p = ok(proxyFromNode({ id: 'sidecar~1.2.3.4~a.x~x.svc.cluster.local', metadata: toStruct({ NAMESPACE: 'y' }) }));
  assert.equal(p.namespace, 'y');
});

test('proxyless gRPC with an Istio id is a gRPC sidecar', () => {
  const p = ok(proxyFromNode({ id: 'sidecar~127.0.0.2~client.default~default.svc.cluster.local', metadata: toStruct({ GENERATOR: 'grpc' }) }));
  assert.equal(p.isGrpc, true);
  assert.equal(p.namespace, 'default');
});

test('proxyless gRPC with a free-form id is accepted when metadata names its namespace', () => {
  const p = ok(proxyFromNode(wireNode({ id: 'my-grpc-client', metadata: toStruct({ GENERATOR: 'grpc', NAMESPACE: 'apps', INSTANCE_IPS: '127.0.0.7' }) })));
  assert.equal(p.type, 'sidecar');
  assert.equal(p.isGrpc, true);
  assert.equal(p.namespace, 'apps');
  assert.deepEqual(p.ips, ['127.0.0.7']);
  assert.equal(p.dnsDomain, 'apps.svc.cluster.local');
  assert.equal(p.workloadName, 'my-grpc-client');
});

test('bad ids are errors that say why', () => {
  const noId = proxyFromNode({});
  assert.ok('error' in noId && /no id/.test(noId.error));
  const bad = proxyFromNode({ id: 'gateway~1.2.3.4~a.b~b.svc.cluster.local' });
  assert.ok('error' in bad && /not sidecar or router/.test(bad.error));
  const short = proxyFromNode({ id: 'nope' });
  assert.ok('error' in short && /4 parts/.test(short.error) && /NAMESPACE/.test(short.error));
});

test('locality strings drop trailing empty parts', () => {
  assert.equal(localityString({ region: 'r' }), 'r');
  assert.equal(localityString({ region: 'r', zone: 'z' }), 'r/z');
  assert.equal(localityString(undefined), '');
});

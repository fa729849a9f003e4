// meshConfig.accessLogFile reaches the proxy: the control plane adds a file access log to every HTTP connection
// manager and TCP proxy, and the proxy decodes it into Istio's default format (or JSON).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pushContextFromYaml, testProxy } from '../../src/controlplane/model/testing.js';
import { listenerGenerator } from '../../src/controlplane/generate/listener/index.js';
import { ISTIO_TEXT_FORMAT } from '../../src/controlplane/generate/listener/access-log.js';
import { decodeListener } from '../../src/proxy/runtime/decode/listener.js';
import { ISTIO_DEFAULT_FORMAT } from '../../src/proxy/http/access-log.js';
import { encode, unknownFields } from '../../src/xds/codec.js';
import { TypeUrl } from '../../src/xds/types.js';
import type { MeshConfig } from '../../src/controlplane/model/types.js';
import type { Listener } from '../../src/proxy/runtime/types.js';

const YAML = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 9080, name: http, protocol: HTTP}, {number: 3306, name: tcp, protocol: TCP}]
  endpoints: [{address: 127.0.0.9, labels: {app: reviews}}]
`;

function decoded(mesh: MeshConfig | undefined): Listener[] {
  const push = pushContextFromYaml(YAML, mesh ? { mesh } : {});
  return listenerGenerator.generate(testProxy({ ip: '127.0.0.2', name: 'productpage-v1-0' }), push, {}).map((r) => {
    assert.deepEqual(unknownFields(TypeUrl.Listener, r.resource), []);
    const d = decodeListener(encode(TypeUrl.Listener, r.resource));
    assert.ok(d.ok, d.ok ? '' : d.errors.join('\n'));
    return d.value;
  });
}

function chains(ls: Listener[]): Listener['filterChains'] {
  return ls.flatMap((l) => [...l.filterChains, ...(l.defaultFilterChain ? [l.defaultFilterChain] : [])]);
}

test('accessLogFile puts Istio\'s TEXT access log on every HTTP and TCP chain', () => {
  const all = chains(decoded({ accessLogFile: '/dev/stdout' }));
  assert.ok(all.some((c) => c.filter.type === 'http') && all.some((c) => c.filter.type === 'tcp'));
  for (const c of all) {
    assert.equal(c.filter.accessLog.length, 1, c.name);
    assert.equal(c.filter.accessLog[0].path, '/dev/stdout');
    assert.equal((c.filter.accessLog[0].format ?? ISTIO_DEFAULT_FORMAT).trimEnd(), ISTIO_DEFAULT_FORMAT.trimEnd());
  }
  assert.equal(ISTIO_TEXT_FORMAT.trimEnd(), ISTIO_DEFAULT_FORMAT.trimEnd(), 'control plane and proxy agree on Istio\'s default format');
});

test('JSON encoding and no access log by default', () => {
  const json = chains(decoded({ accessLogFile: '/tmp/x.log', accessLogEncoding: 'JSON' }));
  assert.ok(json.every((c) => c.filter.accessLog[0]?.json?.response_flags === '%RESPONSE_FLAGS%'));
  assert.ok(chains(decoded(undefined)).every((c) => c.filter.accessLog.length === 0));
});

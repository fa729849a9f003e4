// Cross-boundary check: everything the control plane's generators build for a Bookinfo-like mesh (sidecars, a Sidecar
// with captureMode NONE, an ingress gateway with TLS, VirtualService/DestinationRule features, DNS ServiceEntries) decodes
// in the proxy with zero errors, and the decoded config says what the Istio config meant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defaultGenerators } from '../../src/controlplane/generate/index.js';
import { pushContextFromYaml, testProxy } from '../../src/controlplane/model/testing.js';
import type { Proxy } from '../../src/controlplane/model/types.js';
import { encode } from '../../src/xds/codec.js';
import { PushOrder, TypeUrl } from '../../src/xds/types.js';
import { decoders } from '../../src/proxy/runtime/decode/index.js';
import type { Resource } from '../../src/proxy/runtime/decode/index.js';
import type { Cluster, Listener, RouteTable } from '../../src/proxy/runtime/types.js';
import { REPO_ROOT } from '../support/discovery-process.js';

const sampleDir = join(REPO_ROOT, 'samples', 'bookinfo');
// The sample's reviews → v1 VirtualService is replaced by the feature-rich one below.
const samples = ['platform', 'networking'].flatMap((d) =>
  readdirSync(join(sampleDir, d))
    .filter((f) => f.endsWith('.yaml') && !f.startsWith('virtual-service-')) // the tasks' VirtualServices would shadow EXTRA's
    .map((f) => readFileSync(join(sampleDir, d, f), 'utf8')),
);

const EXTRA = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-features, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match: [{headers: {end-user: {exact: jason}}, uri: {prefix: /api}}, {uri: {regex: "/re/[0-9]+"}, queryParams: {debug: {exact: "1"}}}]
    route: [{destination: {host: reviews, subset: v2}, headers: {request: {set: {x-dest: v2}}}}]
    fault: {delay: {percentage: {value: 10}, fixedDelay: 5s}, abort: {percentage: {value: 5}, httpStatus: 503}}
    retries: {attempts: 3, perTryTimeout: 500ms, retryOn: "5xx,gateway-error"}
    timeout: 3s
    mirror: {host: ratings}
    mirrorPercentage: {value: 25}
    corsPolicy: {allowOrigins: [{exact: "https://a.example.com"}, {regex: ".*\\\\.b\\\\.com"}], allowMethods: [GET, POST], maxAge: 24h}
  - match: [{uri: {prefix: /v1}}]
    rewrite: {uri: /v2, authority: reviews-internal}
    route: [{destination: {host: reviews, subset: v1}, weight: 70}, {destination: {host: reviews, subset: v3}, weight: 30}]
  - match: [{uri: {exact: /old}}]
    redirect: {uri: /new, redirectCode: 308}
  - match: [{uri: {exact: /down}}]
    directResponse: {status: 503, body: {string: maintenance}}
  - route: [{destination: {host: reviews, subset: v1}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings-policies, namespace: default}
spec:
  host: ratings
  trafficPolicy:
    loadBalancer: {consistentHash: {httpCookie: {name: session, ttl: 60s}}}
    connectionPool: {tcp: {maxConnections: 100, connectTimeout: 250ms}, http: {http1MaxPendingRequests: 10, maxRequestsPerConnection: 5, idleTimeout: 30s}}
    outlierDetection: {consecutive5xxErrors: 3, interval: 1s, baseEjectionTime: 30s, maxEjectionPercent: 50}
    tls: {mode: ISTIO_MUTUAL}
  subsets:
  - {name: v1, labels: {version: v1}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: external-api, namespace: default}
spec:
  hosts: [api.example.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{number: 443, name: tls, protocol: TLS}, {number: 80, name: http, protocol: HTTP}]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: details-local, namespace: default}
spec:
  workloadSelector: {labels: {app: details}}
  outboundTrafficPolicy: {mode: ALLOW_ANY}
  ingress:
  - port: {number: 9080, name: http, protocol: HTTP}
    defaultEndpoint: 127.0.0.1:19080
    captureMode: NONE
  egress:
  - port: {number: 9080, name: http, protocol: HTTP}
    bind: 127.0.11.1
    captureMode: NONE
    hosts: ["./*"]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: secure-gateway, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8443, name: https, protocol: HTTPS}
    hosts: ["bookinfo.example.com"]
    tls: {mode: SIMPLE, credentialName: bookinfo-cert}
  - port: {number: 8444, name: tls-passthrough, protocol: TLS}
    hosts: ["passthrough.example.com"]
    tls: {mode: PASSTHROUGH}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: secure, namespace: default}
spec:
  hosts: ["bookinfo.example.com"]
  gateways: [secure-gateway]
  http: [{route: [{destination: {host: productpage, port: {number: 9080}}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: passthrough, namespace: default}
spec:
  hosts: ["passthrough.example.com"]
  gateways: [secure-gateway]
  tls: [{match: [{port: 8444, sniHosts: [passthrough.example.com]}], route: [{destination: {host: productpage, port: {number: 9080}}}]}]
`;

interface Decoded {
  listeners: Map<string, Listener>;
  routes: Map<string, RouteTable>;
  clusters: Map<string, Cluster>;
  errors: string[];
  counts: Record<string, number>;
}

/** Generates every type for `proxy` (RDS/EDS for the names the decoded LDS/CDS reference) and decodes it. */
function generateAndDecode(proxy: Proxy, yaml: string): Decoded {
  const push = pushContextFromYaml(yaml);
  const gens = defaultGenerators({ onPatchError: (e) => assert.fail(`EnvoyFilter patch error: ${e.message}`) });
  const decs = decoders();
  const out: Decoded = { listeners: new Map(), routes: new Map(), clusters: new Map(), errors: [], counts: {} };
  const decodeAll = (typeUrl: string, names?: string[]): Resource[] => {
    const gen = gens.get(typeUrl);
    assert.ok(gen, typeUrl);
    const resources = gen.generate(proxy, push, names ? { names } : {});
    out.counts[typeUrl] = resources.length;
    return resources.flatMap((r) => {
      const d = decs.get(typeUrl)?.decode(encode(typeUrl, r.resource));
      assert.ok(d);
      if (!d.ok) {
        out.errors.push(...d.errors);
        return [];
      }
      return [d.value];
    });
  };
  for (const t of PushOrder) {
    if (t === TypeUrl.Secret) continue;
    if (t === TypeUrl.ClusterLoadAssignment) {
      const names = [...out.clusters.values()].filter((c) => c.type === 'EDS').map((c) => c.edsServiceName ?? c.name);
      decodeAll(t, names);
    } else if (t === TypeUrl.RouteConfiguration) {
      const names = new Set<string>();
      for (const l of out.listeners.values()) for (const fc of [...l.filterChains, ...(l.defaultFilterChain ? [l.defaultFilterChain] : [])]) if (fc.filter.type === 'http' && fc.filter.rdsName) names.add(fc.filter.rdsName);
      for (const r of decodeAll(t, [...names]) as RouteTable[]) out.routes.set(r.name, r);
    } else if (t === TypeUrl.Listener) {
      for (const l of decodeAll(t) as Listener[]) out.listeners.set(l.name, l);
    } else {
      for (const c of decodeAll(t) as Cluster[]) out.clusters.set(c.name, c);
    }
  }
  return out;
}

const yaml = [...samples, EXTRA].join('\n---\n');
const sidecar = (app: string, ip: string, version = 'v1'): Proxy => testProxy({ ip, name: `${app}-${version}-0`, labels: { app, version }, serviceAccount: `bookinfo-${app}` });

test('every generated resource of a Bookinfo-like mesh decodes without errors', () => {
  const proxies: [string, Proxy][] = [
    ['productpage sidecar', sidecar('productpage', '127.0.10.1')],
    ['reviews sidecar', sidecar('reviews', '127.0.12.2', 'v2')],
    ['details sidecar (captureMode NONE)', sidecar('details', '127.0.11.1')],
    ['ingress gateway', testProxy({ type: 'router', ip: '127.0.20.1', name: 'istio-ingressgateway-0', namespace: 'default', labels: { istio: 'ingressgateway' } })],
  ];
  for (const [what, p] of proxies) {
    const d = generateAndDecode(p, yaml);
    assert.deepEqual(d.errors, [], `${what}: decode errors`);
    assert.ok(d.listeners.size > 0 && d.clusters.size > 0, `${what}: has listeners and clusters`);
    for (const [t, n] of Object.entries(d.counts)) assert.ok(n > 0, `${what}: generated some ${t}`);
  }
});

test('the decoded config means what the Istio config said', () => {
  const d = generateAndDecode(sidecar('productpage', '127.0.10.1'), yaml);
  const rt = d.routes.get('9080');
  assert.ok(rt, 'route 9080');
  const vh = rt.findVirtualHost('reviews:9080');
  assert.equal(vh?.name, 'reviews.default.svc.cluster.local:9080');
  assert.equal(rt.findVirtualHost('reviews.default.svc.cluster.local:9080'), vh);
  // One Envoy route per match of an HTTP route: /api (with the header), the regex, then one each for the others.
  const [features, regex, weighted, redirect, direct, fallback] = vh?.routes ?? [];
  assert.equal(features?.match.headers[0]?.name, 'end-user');
  assert.equal(regex?.match.path?.test('/re/42'), true);
  assert.equal(regex.match.queryParams[0]?.name, 'debug');
  assert.ok(features?.action.type === 'route');
  assert.equal(features.action.cluster, 'outbound|9080|v2|reviews.default.svc.cluster.local');
  assert.equal(features.action.timeoutMs, 3000);
  assert.equal(features.action.retry?.numRetries, 3);
  assert.equal(features.action.mirrors[0]?.cluster, 'outbound|9080||ratings.default.svc.cluster.local');
  assert.equal(features.action.mirrors[0].fraction, 0.25);
  assert.equal(features.perFilter.fault?.abort?.httpStatus, 503);
  assert.equal(features.perFilter.cors?.allowOrigins[1]?.test('https://x.b.com'), true);
  assert.ok(weighted?.action.type === 'route');
  assert.deepEqual(weighted.action.weightedClusters?.clusters.map((c) => c.weight), [70, 30]);
  assert.equal(weighted.action.prefixRewrite, '/v2');
  assert.equal(redirect?.action.type === 'redirect' && redirect.action.status, 308);
  assert.deepEqual(direct?.action, { type: 'direct_response', status: 503, body: 'maintenance' });
  assert.equal(fallback?.action.type === 'route' && fallback.action.cluster, 'outbound|9080|v1|reviews.default.svc.cluster.local');

  const ratings = d.clusters.get('outbound|9080||ratings.default.svc.cluster.local');
  assert.ok(ratings);
  assert.equal(ratings.lbPolicy, 'RING_HASH');
  assert.equal(ratings.connectTimeoutMs, 250);
  assert.equal(ratings.circuitBreakers.maxConnections, 100);
  assert.equal(ratings.circuitBreakers.maxPendingRequests, 10);
  assert.equal(ratings.maxRequestsPerConnection, 5);
  assert.equal(ratings.outlierDetection?.consecutive5xx, 3);
  assert.equal(ratings.tls?.sdsCertificate, 'default');
  assert.equal(ratings.tls.sdsValidation, 'ROOTCA');
  const dns = d.clusters.get('outbound|443||api.example.com');
  assert.equal(dns?.type, 'STRICT_DNS');
  assert.equal(dns.loadAssignment?.localities[0]?.endpoints[0]?.address, 'api.example.com');

  const vo = d.listeners.get('virtualOutbound');
  assert.ok(vo?.useOriginalDst);
  assert.equal(d.listeners.get('virtualInbound')?.trafficDirection, 'INBOUND');

  const bound = generateAndDecode(sidecar('details', '127.0.11.1'), yaml);
  const egress = [...bound.listeners.values()].find((l) => l.address.address === '127.0.11.1' && l.address.port === 9080);
  assert.ok(egress, `a listener bound on 127.0.11.1:9080 among ${[...bound.listeners.keys()].join(', ')}`);
  assert.equal(egress.bindToPort, true);

  const gw = generateAndDecode(testProxy({ type: 'router', ip: '127.0.20.1', name: 'istio-ingressgateway-0', labels: { istio: 'ingressgateway' } }), yaml);
  const https = [...gw.listeners.values()].find((l) => l.address.port === 8443);
  assert.equal(https?.filterChains[0]?.tls?.sdsCertificate, 'kubernetes://bookinfo-cert');
  const passthrough = [...gw.listeners.values()].find((l) => l.address.port === 8444);
  assert.deepEqual(passthrough?.filterChains[0]?.match.serverNames, ['passthrough.example.com']);
  assert.equal(passthrough.filterChains[0]?.filter.type, 'tcp');
});

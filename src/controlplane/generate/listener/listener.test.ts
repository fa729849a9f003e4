// Sidecar LDS: virtual listeners, per-port outbound listeners (HTTP, TCP with VIP, sniffed, TLS by SNI), inbound
// chains, and Sidecar resources (captureMode NONE bound listeners, REGISTRY_ONLY) — golden plus simulated traffic.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '../../../xds/types.js';
import { pushContextFromYaml, testProxy } from '../../model/testing.js';
import { assertGolden } from '../golden.js';
import { byName, lds, rds } from '../../../../test/simulation/gen.js';
import { BOOKINFO, REVIEWS, join, outbound, serviceEntry, workloadEntry } from '../../../../test/simulation/fixtures.js';
import { buildSnapshot } from '../../../../test/simulation/harness.js';
import { simulate } from '../../../../test/simulation/simulate.js';

type Obj = Record<string, unknown>;

const productpage = testProxy({ labels: { app: 'productpage', version: 'v1' }, ip: '10.0.0.10', name: 'productpage-v1' });

void describe('sidecar listeners', () => {
  void it('builds virtualOutbound, virtualInbound and 0.0.0.0_PORT for HTTP services', () => {
    const push = pushContextFromYaml(BOOKINFO);
    const listeners = lds(push, productpage);
    assertGolden('listener-sidecar-default', listeners, TypeUrl.Listener);
    assert.deepEqual(listeners.map((l) => l.name), ['virtualOutbound', '0.0.0.0_9080', 'virtualInbound']);
    const l = byName(listeners, '0.0.0.0_9080');
    assert.deepEqual(l.bind_to_port, { value: false });
    const hcm = ((l.filter_chains as Obj[])[0].filters as Obj[])[0].typed_config as Obj;
    assert.deepEqual(hcm.rds, { config_source: { ads: {}, initial_fetch_timeout: { seconds: 0, nanos: 0 }, resource_api_version: 'V3' }, route_config_name: '9080' });
    assert.deepEqual((hcm.http_filters as Obj[]).map((f) => f.name), ['envoy.filters.http.fault', 'envoy.filters.http.cors', 'envoy.filters.http.router']);
    assert.deepEqual(hcm.use_remote_address, { value: false });

    const snap = buildSnapshot(push, productpage);
    const out = simulate(snap, { port: 9080, address: '240.240.0.1', host: 'reviews' });
    assert.equal(out.listener, '0.0.0.0_9080');
    assert.equal(out.cluster, outbound(REVIEWS));
    assert.equal(out.missingCluster, undefined);
    const unknownPort = simulate(snap, { port: 12345, address: '1.2.3.4', protocol: 'tcp' });
    assert.equal(unknownPort.listener, 'virtualOutbound');
    assert.equal(unknownPort.cluster, 'PassthroughCluster');
    assert.equal(simulate(snap, { port: 15001, protocol: 'tcp' }).cluster, 'BlackHoleCluster');
    const inbound = simulate(snap, { port: 9080, address: '10.0.0.10', callMode: 'inbound', host: 'productpage' });
    assert.equal(inbound.listener, 'virtualInbound');
    assert.equal(inbound.filterChain, 'inbound|9080||');
    assert.equal(inbound.cluster, 'inbound|9080||');
    const inboundOther = simulate(snap, { port: 7777, address: '10.0.0.10', callMode: 'inbound', host: 'x' });
    assert.equal(inboundOther.filterChain, 'virtualInbound-catchall-http');
    assert.equal(inboundOther.cluster, 'InboundPassthroughCluster');
    assert.equal(simulate(snap, { port: 7777, address: '10.0.0.10', callMode: 'inbound', protocol: 'tcp' }).cluster, 'InboundPassthroughCluster');
  });

  void it('routes TCP services on their VIP, with VirtualService tcp weights', () => {
    const push = pushContextFromYaml(
      join(
        serviceEntry('mysql', { ports: [{ number: 3306, name: 'tcp', protocol: 'TCP' }], address: '240.0.0.5' }),
        serviceEntry('mongo', { ports: [{ number: 27017, name: 'mongo', protocol: 'MONGO' }], address: '240.0.0.6' }),
        workloadEntry('mysql-1', 'mysql', '10.0.1.1', { version: 'v1' }),
        `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: mongo}
spec:
  hosts: [mongo]
  tcp:
  - match: [{port: 27017}]
    route:
    - {destination: {host: mongo, subset: a}, weight: 80}
    - {destination: {host: mongo, subset: b}, weight: 20}`,
      ),
    );
    const listeners = lds(push, productpage);
    assertGolden('listener-sidecar-tcp', listeners, TypeUrl.Listener);
    const snap = buildSnapshot(push, productpage);
    const mysql = simulate(snap, { port: 3306, address: '240.0.0.5', protocol: 'tcp' });
    assert.equal(mysql.listener, '240.0.0.5_3306');
    assert.equal(mysql.tcp, true);
    assert.equal(mysql.cluster, outbound('mysql.default.svc.cluster.local', 3306));
    const mongo = simulate(snap, { port: 27017, address: '240.0.0.6', protocol: 'tcp' });
    assert.deepEqual(mongo.weightedClusters, [
      { name: outbound('mongo.default.svc.cluster.local', 27017, 'a'), weight: 80 },
      { name: outbound('mongo.default.svc.cluster.local', 27017, 'b'), weight: 20 },
    ]);
    assert.equal(simulate(snap, { port: 3306, address: '10.9.9.9', protocol: 'tcp' }).cluster, 'PassthroughCluster');
  });

  void it('sniffs undeclared protocols and routes TLS by SNI', () => {
    const push = pushContextFromYaml(
      join(
        serviceEntry('auto', { ports: [{ number: 7070, name: 'auto' }] }),
        workloadEntry('auto-1', 'auto', '10.0.2.1'),
        `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: external}
spec:
  hosts: [api.example.com, www.example.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{number: 443, name: tls, protocol: TLS}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: external}
spec:
  hosts: [www.example.com]
  tls:
  - match: [{sniHosts: [www.example.com], port: 443}]
    route: [{destination: {host: api.example.com}}]`,
      ),
    );
    const listeners = lds(push, productpage);
    assertGolden('listener-sidecar-sniff-tls', listeners, TypeUrl.Listener);
    const snap = buildSnapshot(push, productpage);
    const http = simulate(snap, { port: 7070, address: '10.0.2.1', host: 'auto' });
    assert.equal(http.filterChain, '0.0.0.0_7070');
    assert.equal(http.cluster, outbound('auto.default.svc.cluster.local', 7070));
    assert.equal(http.routeConfig, '7070');
    const tcp = simulate(snap, { port: 7070, address: '10.0.2.1', protocol: 'tcp' });
    assert.equal(tcp.tcp, true);
    assert.equal(tcp.cluster, outbound('auto.default.svc.cluster.local', 7070));
    assert.equal(simulate(snap, { port: 443, address: '93.184.216.34', sni: 'api.example.com' }).cluster, outbound('api.example.com', 443));
    assert.equal(simulate(snap, { port: 443, address: '93.184.216.34', sni: 'www.example.com' }).cluster, outbound('api.example.com', 443));
    const other = simulate(snap, { port: 443, address: '93.184.216.34', sni: 'other.org' });
    assert.equal(other.filterChain, '0.0.0.0_443-fallback');
    assert.equal(other.cluster, 'PassthroughCluster');
  });

  void it('binds captureMode NONE egress and ingress listeners, scopes hosts, and blocks unknown traffic with REGISTRY_ONLY', () => {
    const push = pushContextFromYaml(
      join(
        BOOKINFO,
        `
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: productpage}
spec:
  workloadSelector: {labels: {app: productpage}}
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
  ingress:
  - port: {number: 9080, protocol: HTTP, name: http}
    bind: 127.0.0.10
    captureMode: NONE
    defaultEndpoint: 127.0.0.1:8080
  egress:
  - port: {number: 9080, protocol: HTTP, name: http}
    bind: 127.0.0.110
    captureMode: NONE
    hosts: [./reviews.default.svc.cluster.local, ./details.default.svc.cluster.local]
  - hosts: ["./*"]`,
      ),
    );
    const listeners = lds(push, productpage);
    assertGolden('listener-sidecar-bound', listeners, TypeUrl.Listener);
    const routes = rds(push, productpage);
    assertGolden('route-sidecar-bound', routes, TypeUrl.RouteConfiguration);
    const names = listeners.map((l) => l.name);
    assert.deepEqual(names, ['virtualOutbound', '127.0.0.110_9080', 'virtualInbound', '127.0.0.10_9080']);
    assert.equal(byName(listeners, '127.0.0.110_9080').bind_to_port, undefined, 'bound (Envoy default bind_to_port true)');
    const rc = byName(routes, '9080');
    const vhosts = (rc.virtual_hosts as Obj[]).map((v) => v.name);
    assert.deepEqual(vhosts, ['details.default.svc.cluster.local:9080', `${REVIEWS}:9080`, 'block_all']);

    const snap = buildSnapshot(push, productpage);
    const ok = simulate(snap, { callMode: 'direct', address: '127.0.0.110', port: 9080, host: 'reviews' });
    assert.equal(ok.listener, '127.0.0.110_9080');
    assert.equal(ok.cluster, outbound(REVIEWS));
    const blocked = simulate(snap, { callMode: 'direct', address: '127.0.0.110', port: 9080, host: 'ratings' });
    assert.equal(blocked.virtualHost, 'block_all');
    assert.equal(blocked.status, 502);
    assert.equal(simulate(snap, { port: 5555, address: '8.8.8.8', protocol: 'tcp' }).cluster, 'BlackHoleCluster');
    const inbound = simulate(snap, { callMode: 'direct', address: '127.0.0.10', port: 9080, host: 'productpage' });
    assert.equal(inbound.cluster, 'inbound|9080||');
    assert.equal(inbound.missingCluster, undefined);
  });

  void it('binds ingress listeners to their address when the proxy does no capture at all', () => {
    const proxy = testProxy({ labels: { app: 'reviews', version: 'v1' }, ip: '127.0.0.13', name: 'reviews-v1', metadata: { INTERCEPTION_MODE: 'NONE' } });
    const push = pushContextFromYaml(
      join(
        BOOKINFO,
        `
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: reviews}
spec:
  workloadSelector: {labels: {app: reviews}}
  ingress:
  - port: {number: 9080, protocol: HTTP, name: http}
    defaultEndpoint: 127.0.0.1:19080
  egress:
  - port: {number: 9080, protocol: HTTP, name: http}
    hosts: [./ratings.default.svc.cluster.local]`,
      ),
    );
    const listeners = lds(push, proxy);
    assertGolden('listener-sidecar-none', listeners, TypeUrl.Listener);
    assert.deepEqual(listeners.map((l) => l.name), ['127.0.0.1_9080', '127.0.0.13_9080']);
    const snap = buildSnapshot(push, proxy);
    const inbound = simulate(snap, { callMode: 'direct', address: '127.0.0.13', port: 9080, host: 'reviews' });
    assert.equal(inbound.cluster, 'inbound|9080||');
    assert.equal(inbound.missingCluster, undefined);
    assert.equal(simulate(snap, { address: '127.0.0.1', port: 9080, host: 'ratings' }).cluster, outbound('ratings.default.svc.cluster.local'));
  });
});

// Router (gateway) LDS and RDS: HTTP servers sharing `http.PORT`, terminated HTTPS with SDS credentials per SNI,
// TLS passthrough by SNI, httpsRedirect, TCP — golden plus simulated traffic.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '../../../xds/types.js';
import { pushContextFromYaml, testProxy } from '../../model/testing.js';
import { assertGolden } from '../golden.js';
import { byName, lds, rds } from '../../../../test/simulation/gen.js';
import { BOOKINFO, REVIEWS, join, outbound, serviceEntry } from '../../../../test/simulation/fixtures.js';
import { buildSnapshot } from '../../../../test/simulation/harness.js';
import { simulate } from '../../../../test/simulation/simulate.js';

type Obj = Record<string, unknown>;

const GATEWAY = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: bookinfo-gateway, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8080, name: http, protocol: HTTP}
    hosts: ["*"]
  - port: {number: 8443, name: https, protocol: HTTPS}
    hosts: [bookinfo.example.com]
    tls: {mode: SIMPLE, credentialName: bookinfo-cert, minProtocolVersion: TLSV1_2}
  - port: {number: 8443, name: https-mtls, protocol: HTTPS}
    hosts: [secure.example.com]
    tls: {mode: MUTUAL, credentialName: secure-cert}
  - port: {number: 9443, name: tls, protocol: TLS}
    hosts: [db.example.com]
    tls: {mode: PASSTHROUGH}
  - port: {number: 8081, name: http-redirect, protocol: HTTP}
    bind: 127.0.0.1
    hosts: [bookinfo.example.com]
    tls: {httpsRedirect: true}
  - port: {number: 31400, name: tcp, protocol: TCP}
    hosts: ["*"]`;

const ROUTES = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bookinfo}
spec:
  hosts: ["*"]
  gateways: [istio-system/bookinfo-gateway]
  http:
  - match: [{uri: {exact: /productpage}}, {uri: {prefix: /static}}]
    route: [{destination: {host: productpage, port: {number: 9080}}}]
  - match: [{uri: {prefix: /reviews}}]
    route: [{destination: {host: reviews}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: secure}
spec:
  hosts: [secure.example.com]
  gateways: [istio-system/bookinfo-gateway]
  http:
  - route: [{destination: {host: reviews}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db}
spec:
  hosts: [db.example.com]
  gateways: [istio-system/bookinfo-gateway]
  tls:
  - match: [{sniHosts: [db.example.com], port: 9443}]
    route: [{destination: {host: mysql, port: {number: 3306}}}]
  tcp:
  - match: [{port: 31400}]
    route: [{destination: {host: mysql}}]`;

const MYSQL = serviceEntry('mysql', { ports: [{ number: 3306, name: 'tcp', protocol: 'TCP' }], address: '240.0.0.5' });
const router = testProxy({ type: 'router', labels: { istio: 'ingressgateway' }, namespace: 'istio-system', name: 'istio-ingressgateway-1', ip: '10.0.9.1' });

void describe('gateway listeners and routes', () => {
  void it('builds listeners per port with HTTP, HTTPS, TLS passthrough, redirect and TCP servers', () => {
    const push = pushContextFromYaml(join(BOOKINFO, MYSQL, GATEWAY, ROUTES));
    const listeners = lds(push, router);
    assertGolden('listener-gateway', listeners, TypeUrl.Listener);
    const routes = rds(push, router);
    assertGolden('route-gateway', routes, TypeUrl.RouteConfiguration);
    assert.deepEqual(listeners.map((l) => l.name).sort(), ['0.0.0.0_31400', '0.0.0.0_8080', '0.0.0.0_8443', '0.0.0.0_9443', '127.0.0.1_8081']);
    assert.deepEqual(routes.map((r) => r.name), ['http.8080', 'http.8081.127.0.0.1', 'https.8443.https-mtls.bookinfo-gateway.istio-system', 'https.8443.https.bookinfo-gateway.istio-system']);
    const https = byName(listeners, '0.0.0.0_8443');
    const chains = https.filter_chains as Obj[];
    assert.deepEqual(chains.map((c) => (c.filter_chain_match as Obj).server_names), [['bookinfo.example.com'], ['secure.example.com']]);
    const tls = (chains[1].transport_socket as Obj).typed_config as Obj;
    assert.deepEqual(tls.require_client_certificate, { value: true });
    const common = tls.common_tls_context as Obj;
    assert.deepEqual((common.tls_certificate_sds_secret_configs as Obj[])[0].name, 'kubernetes://secure-cert');
    assert.equal(((common.combined_validation_context as Obj).validation_context_sds_secret_config as Obj).name, 'kubernetes://secure-cert-cacert');

    const snap = buildSnapshot(push, router);
    const direct = { callMode: 'direct' as const, address: '10.0.9.1' };
    const pp = simulate(snap, { ...direct, port: 8080, host: 'anything.example.com', path: '/productpage' });
    assert.equal(pp.listener, '0.0.0.0_8080');
    assert.equal(pp.routeConfig, 'http.8080');
    assert.equal(pp.cluster, outbound('productpage.default.svc.cluster.local'));
    assert.equal(pp.missingCluster, undefined);
    assert.equal(simulate(snap, { ...direct, port: 8080, host: 'x', path: '/nothing' }).status, 404);
    const secure = simulate(snap, { ...direct, port: 8443, sni: 'bookinfo.example.com', host: 'bookinfo.example.com', path: '/reviews/1' });
    assert.equal(secure.routeConfig, 'https.8443.https.bookinfo-gateway.istio-system');
    assert.equal(secure.cluster, outbound(REVIEWS));
    const mtls = simulate(snap, { ...direct, port: 8443, sni: 'secure.example.com', host: 'secure.example.com' });
    assert.equal(mtls.routeConfig, 'https.8443.https-mtls.bookinfo-gateway.istio-system');
    assert.equal(mtls.cluster, outbound(REVIEWS));
    const db = simulate(snap, { ...direct, port: 9443, sni: 'db.example.com' });
    assert.equal(db.tcp, true);
    assert.equal(db.cluster, outbound('mysql.default.svc.cluster.local', 3306));
    assert.equal(simulate(snap, { ...direct, port: 9443, sni: 'other.example.com' }).error, 'no filter chain matched');
    const redirect = simulate(snap, { callMode: 'direct', address: '127.0.0.1', port: 8081, host: 'bookinfo.example.com' });
    assert.equal(redirect.status, 301);
    assert.deepEqual(redirect.redirect, { scheme_redirect: 'https' });
    assert.equal(simulate(snap, { ...direct, port: 31400, protocol: 'tcp' }).cluster, outbound('mysql.default.svc.cluster.local', 3306));
  });

  void it('answers 404 from a blackhole virtual host when no VirtualService is bound', () => {
    const push = pushContextFromYaml(join(BOOKINFO, GATEWAY));
    const routes = rds(push, router, ['http.8080']);
    assertGolden('route-gateway-empty', routes, TypeUrl.RouteConfiguration);
    const rc = byName(routes, 'http.8080');
    assert.deepEqual(rc.virtual_hosts, [{ name: 'blackhole:8080', domains: ['*'], routes: [] }]);
    const listeners = lds(push, router);
    assert.ok(!listeners.some((l) => l.name === '0.0.0.0_31400'), 'TCP server without routes has no listener');
    const snap = buildSnapshot(push, router);
    assert.equal(simulate(snap, { callMode: 'direct', address: '10.0.9.1', port: 8080, host: 'x' }).status, 404);
    assert.deepEqual(byName(rds(push, router, ['http.9999']), 'http.9999').virtual_hosts, []);
  });
});

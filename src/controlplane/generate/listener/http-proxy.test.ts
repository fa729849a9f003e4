// Sidecar egress port of protocol HTTP_PROXY (local mode's outbound path): a bound HCM in HTTP-proxy mode (absolute
// URIs, CONNECT) whose `http_proxy` route configuration holds every visible HTTP service by host:port, VirtualService
// routes included, then allow_any (or block_all under REGISTRY_ONLY) — golden plus simulated traffic.
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

const proxy = testProxy({ labels: { app: 'productpage', version: 'v1' }, ip: '127.0.0.10', name: 'productpage-v1', metadata: { INTERCEPTION_MODE: 'NONE' } });

function sidecar(policy: 'ALLOW_ANY' | 'REGISTRY_ONLY'): string {
  return `
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: productpage, namespace: default}
spec:
  workloadSelector: {labels: {app: productpage}}
  outboundTrafficPolicy: {mode: ${policy}}
  ingress:
  - port: {number: 9080, protocol: HTTP, name: http}
    bind: 127.0.0.10
    captureMode: NONE
    defaultEndpoint: 0.0.0.0:19080
  egress:
  - port: {number: 15001, protocol: HTTP_PROXY, name: http-proxy}
    bind: 127.0.0.10
    captureMode: NONE
    hosts: ['*/*']`;
}

const MESH = join(
  BOOKINFO,
  serviceEntry('web', { ports: [{ number: 80, name: 'http', protocol: 'HTTP' }, { number: 8443, name: 'admin', protocol: 'HTTP' }, { number: 5432, name: 'db', protocol: 'TCP' }] }),
  workloadEntry('web-1', 'web', '10.0.3.1'),
  `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - match: [{uri: {prefix: /v3}}]
    route: [{destination: {host: reviews, subset: v3}}]
  - route: [{destination: {host: reviews, subset: v2}}]`,
);

const hcmOf = (l: Obj): Obj => (((l.filter_chains as Obj[])[0].filters as Obj[])[0].typed_config as Obj);

void describe('HTTP_PROXY egress port', () => {
  void it('is a bound HCM in HTTP-proxy mode routing absolute URIs by host:port, VirtualServices included', () => {
    const push = pushContextFromYaml(join(MESH, sidecar('ALLOW_ANY')));
    const listeners = lds(push, proxy);
    assertGolden('listener-sidecar-http-proxy', listeners, TypeUrl.Listener);
    assert.deepEqual(listeners.map((l) => l.name), ['127.0.0.10_15001', '127.0.0.10_9080']);
    const l = byName(listeners, '127.0.0.10_15001');
    assert.deepEqual(l.address, { socket_address: { address: '127.0.0.10', port_value: 15001 } });
    assert.equal(l.bind_to_port, undefined, 'bound (Envoy default)');
    const hcm = hcmOf(l);
    assert.equal((hcm.rds as Obj).route_config_name, 'http_proxy');
    assert.deepEqual(hcm.http_protocol_options, { allow_absolute_url: { value: true } });
    assert.deepEqual(hcm.upgrade_configs, [{ upgrade_type: 'websocket' }, { upgrade_type: 'CONNECT' }]);

    const routes = rds(push, proxy);
    assertGolden('route-sidecar-http-proxy', routes, TypeUrl.RouteConfiguration);
    assert.deepEqual(routes.map((r) => r.name), ['http_proxy']);
    const rc = byName(routes, 'http_proxy');
    assert.equal(rc.ignore_port_in_host_matching, undefined, 'the port selects the virtual host');
    const vhosts = rc.virtual_hosts as Obj[];
    assert.deepEqual(vhosts.map((v) => v.name), [
      'details.default.svc.cluster.local:9080', 'productpage.default.svc.cluster.local:9080', 'ratings.default.svc.cluster.local:9080',
      `${REVIEWS}:9080`, 'web.default.svc.cluster.local:80', 'web.default.svc.cluster.local:8443', 'allow_any',
    ]);
    const domains = (name: string): string[] => vhosts.find((v) => v.name === name)!.domains as string[];
    assert.ok(domains(`${REVIEWS}:9080`).includes('reviews:9080'));
    assert.ok(!domains(`${REVIEWS}:9080`).includes('reviews'), 'no bare name for a port other than 80');
    assert.ok(domains('web.default.svc.cluster.local:80').includes('web'));
    assert.ok(domains('web.default.svc.cluster.local:8443').includes('web:8443'));

    const snap = buildSnapshot(push, proxy);
    const at = (host: string, path = '/'): ReturnType<typeof simulate> => simulate(snap, { callMode: 'direct', address: '127.0.0.10', port: 15001, host, path });
    assert.equal(at('reviews:9080').listener, '127.0.0.10_15001');
    assert.equal(at('reviews:9080').cluster, outbound(REVIEWS, 9080, 'v2'));
    assert.equal(at('reviews:9080', '/v3/x').cluster, outbound(REVIEWS, 9080, 'v3'));
    assert.equal(at(`${REVIEWS}:9080`).cluster, outbound(REVIEWS, 9080, 'v2'));
    assert.equal(at('ratings.default:9080').cluster, outbound('ratings.default.svc.cluster.local'));
    assert.equal(at('web').cluster, outbound('web.default.svc.cluster.local', 80));
    assert.equal(at('web:8443').cluster, outbound('web.default.svc.cluster.local', 8443));
    assert.equal(at('web:8443').missingCluster, undefined);
    const external = at('93.184.216.34:8080');
    assert.equal(external.virtualHost, 'allow_any');
    assert.equal(external.cluster, 'PassthroughCluster');
    assert.equal(at('reviews').cluster, 'PassthroughCluster', 'reviews has no port 80');

    // The ingress side of the same Sidecar: bound <ip>:9080 → the app at defaultEndpoint.
    const inbound = simulate(snap, { callMode: 'direct', address: '127.0.0.10', port: 9080, host: 'productpage:9080' });
    assert.equal(inbound.cluster, 'inbound|9080||');
    const cluster = (snap.clusters ?? []).find((c) => c.name === 'inbound|9080||') as { load_assignment: { endpoints: { lb_endpoints: { endpoint: { address: unknown } }[] }[] } };
    assert.deepEqual(cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address, { socket_address: { address: '127.0.0.10', port_value: 19080 } });
  });

  void it('blocks unknown hosts with REGISTRY_ONLY', () => {
    const push = pushContextFromYaml(join(MESH, sidecar('REGISTRY_ONLY')));
    const snap = buildSnapshot(push, proxy);
    const r = simulate(snap, { callMode: 'direct', address: '127.0.0.10', port: 15001, host: '93.184.216.34:8080' });
    assert.equal(r.virtualHost, 'block_all');
    assert.equal(r.status, 502);
    assert.equal(simulate(snap, { callMode: 'direct', address: '127.0.0.10', port: 15001, host: 'details:9080' }).cluster, outbound('details.default.svc.cluster.local'));
  });

  void it('answers an empty http_proxy route configuration to a proxy without an HTTP_PROXY port', () => {
    const push = pushContextFromYaml(BOOKINFO);
    assert.deepEqual(byName(rds(push, proxy, ['http_proxy']), 'http_proxy').virtual_hosts, []);
  });
});

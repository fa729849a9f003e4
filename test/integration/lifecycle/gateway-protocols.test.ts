// Protocols through real proxies: sniffing (service port protocol unset) on a sidecar's outbound listener (HTTP/1.1,
// h2c, opaque TCP to one app port), a plain TCP service (tcp_proxy), and a router (gateway) serving an HTTP Gateway +
// VirtualService (only routed paths, XFF as an edge proxy) and TLS passthrough by SNI. The client sidecar runs with
// interception mode NONE and a Sidecar without ports, so its per-service listeners bind 127.0.0.1:<service port>, as
// Istio does. Inbound sniffing: a server sidecar whose Sidecar ingress port has no protocol.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as HttpsServer } from 'node:https';
import { connect as h2connect } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { makeTestPki } from '../../../src/proxy/listener/testing-certs.js';
import type { TestPki } from '../../../src/proxy/listener/testing-certs.js';
import type { App } from '../support/apps.js';
import { startApp } from '../support/apps.js';
import { send } from '../support/http-client.js';
import { NAMESPACE, envoyFilter, serviceEntry, workloadEntry } from '../support/istio.js';
import type { Doc } from '../support/istio.js';
import { freePort } from '../support/net.js';
import type { Sidecar } from '../support/sidecar.js';
import { Mesh } from './harness.js';
import { startMultiProtocolApp, startTcpEcho, tcpExchange } from './protocols.js';

const fqdn = (n: string): string => `${n}.${NAMESPACE}.svc.cluster.local`;
const meta = (name: string): Doc => ({ name, namespace: NAMESPACE });
const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

let mesh: Mesh;
let client: Sidecar;
let router: Sidecar;
let web: App;
let multi: Awaited<ReturnType<typeof startMultiProtocolApp>>;
let tcpEcho: Awaited<ReturnType<typeof startTcpEcho>>;
let pki: TestPki;
let secure: HttpsServer;
let httpPort: number;
let autoPort: number;
let tcpPort: number;
let tlsPort: number;

before(async () => {
  mesh = await Mesh.start({});
  const [cIp, webIp, autoIp, tcpIp, secIp, gwIp] = [1, 2, 3, 4, 5, 10].map((n) => mesh.ip(n));
  [autoPort, tcpPort] = [await freePort(), await freePort()];
  web = await startApp({ name: 'web', ip: webIp });
  multi = await startMultiProtocolApp(autoIp, 'auto');
  tcpEcho = await startTcpEcho(tcpIp);
  pki = makeTestPki({ serverNames: ['secure.example'] });
  secure = createHttpsServer({ cert: pki.serverCert, key: pki.serverKey }, (req, res) => res.writeHead(200, { 'x-app': 'secure' }).end(`secure ${req.url ?? ''}`));
  secure.listen(0, secIp);
  await once(secure, 'listening');
  [httpPort, tlsPort] = [await freePort([gwIp]), await freePort([gwIp])];
  mesh.write('mesh.yaml', [
    serviceEntry({ name: 'web', host: fqdn('web'), port: 80, app: 'web' }),
    workloadEntry({ name: 'web-1', address: webIp, port: web.port, labels: { app: 'web' } }),
    // Protocol unset (port name without a protocol prefix): sniffed on both sides.
    { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: meta('auto'), spec: { hosts: [fqdn('auto')], ports: [{ number: autoPort, name: 'auto' }], resolution: 'STATIC', location: 'MESH_INTERNAL', workloadSelector: { labels: { app: 'auto' } } } },
    workloadEntry({ name: 'auto-1', address: autoIp, port: multi.port, portName: 'auto', labels: { app: 'auto' } }),
    serviceEntry({ name: 'tcp-echo', host: fqdn('tcp-echo'), port: tcpPort, app: 'tcp-echo', protocol: 'TCP', portName: 'tcp' }),
    workloadEntry({ name: 'tcp-echo-1', address: tcpIp, port: tcpEcho.port, portName: 'tcp', labels: { app: 'tcp-echo' } }),
    serviceEntry({ name: 'secure', host: fqdn('secure'), port: 443, app: 'secure', protocol: 'TLS', portName: 'tls' }),
    workloadEntry({ name: 'secure-1', address: secIp, port: (secure.address() as AddressInfo).port, portName: 'tls', labels: { app: 'secure' } }),
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'Sidecar',
      metadata: meta('client'),
      spec: { workloadSelector: { labels: { app: 'client' } }, egress: [{ hosts: [`./${fqdn('auto')}`, `./${fqdn('tcp-echo')}`] }] },
    },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'Gateway',
      metadata: meta('gw'),
      spec: {
        selector: { istio: 'ingressgateway' },
        servers: [
          { port: { number: httpPort, name: 'http', protocol: 'HTTP' }, bind: gwIp, hosts: ['web.example'] },
          { port: { number: tlsPort, name: 'tls', protocol: 'TLS' }, bind: gwIp, hosts: ['secure.example'], tls: { mode: 'PASSTHROUGH' } },
        ],
      },
    },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: meta('web'),
      spec: { hosts: ['web.example'], gateways: ['gw'], http: [{ match: [{ uri: { prefix: '/routed' } }], route: [{ destination: { host: 'web', port: { number: 80 } } }] }] },
    },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: meta('secure'),
      spec: { hosts: ['secure.example'], gateways: ['gw'], tls: [{ match: [{ port: tlsPort, sniHosts: ['secure.example'] }], route: [{ destination: { host: 'secure', port: { number: 443 } } }] }] },
    },
  ]);
  [client, router] = await Promise.all([
    mesh.proxy({ name: 'client', ip: cIp, labels: { app: 'client' } }),
    mesh.proxy({ name: 'gw', ip: gwIp, labels: { istio: 'ingressgateway' }, type: 'router' }),
  ]);
});

after(async () => {
  await mesh?.close();
  await web?.close();
  multi?.close();
  tcpEcho?.server.close();
  secure?.closeAllConnections();
  secure?.close();
  pki?.cleanup();
});

describe('protocol sniffing (service port protocol unset): one app port, three protocols', () => {
  it('HTTP/1.1 is detected and routed at L7', async () => {
    const r = await send(`127.0.0.1:${autoPort}`, { host: `auto:${autoPort}`, path: '/h1' });
    assert.equal(r.status, 200, client.logs());
    assert.equal(r.body, 'HTTP/1.1 /h1');
    assert.match(String(r.headers['x-envoy-upstream-service-time']), /^\d+$/, 'went through the HTTP connection manager');
    assert.ok((await client.stat(`cluster.outbound|${autoPort}||auto.default.svc.cluster.local.upstream_rq_total`)) >= 1);
  });

  it('HTTP/2 prior knowledge (h2c) is detected and stays HTTP/2 to the app', async () => {
    const session = h2connect(`http://127.0.0.1:${autoPort}`);
    try {
      const req = session.request({ ':path': '/h2', ':authority': `auto:${autoPort}` });
      const [headers] = (await once(req, 'response')) as [Record<string, string>];
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      await once(req, 'end');
      assert.equal(headers[':status'], 200, `${body}\n${client.logs()}`);
      assert.equal(headers['x-app'], 'auto');
      assert.equal(body, 'HTTP/2.0 /h2');
    } finally {
      session.close();
    }
  });

  it('anything else is opaque TCP (tcp_proxy)', async () => {
    const got = await tcpExchange('127.0.0.1', autoPort, 'BINARY\x00\x01 not http\n', 'not http\n');
    assert.equal(got, 'tcp:BINARY\x00\x01 not http\n');
  });
});

describe('inbound sniffing (Sidecar ingress port without protocol)', () => {
  it('the server sidecar gets its config and serves HTTP/1.1 and opaque TCP on one port', async () => {
    const ip = mesh.ip(6);
    const app = await startMultiProtocolApp(ip, 'auto-in');
    try {
      mesh.write('inbound-sniff.yaml', [
        {
          apiVersion: 'networking.istio.io/v1',
          kind: 'Sidecar',
          metadata: meta('auto-in'),
          spec: { workloadSelector: { labels: { app: 'auto-in' } }, ingress: [{ port: { number: 7000, name: 'auto' }, bind: ip, defaultEndpoint: `0.0.0.0:${app.port}`, captureMode: 'NONE' }], egress: [{ hosts: ['~/*'] }] },
        },
      ]);
      const server = await mesh.proxy({ name: 'auto-in', ip, labels: { app: 'auto-in' }, waitReady: false });
      await server.proxy.event('ready', 5_000);
      assert.equal((await send(`${ip}:7000`, { host: 'auto-in:7000', path: '/in' })).body, 'HTTP/1.1 /in');
      assert.equal(await tcpExchange(ip, 7000, 'RAW\n', 'RAW\n'), 'tcp:RAW\n');
    } finally {
      app.close();
      mesh.rm('inbound-sniff.yaml');
    }
  });
});

describe('plain TCP service', () => {
  it('tcp_proxy carries a server-first protocol both ways', async () => {
    const got = await tcpExchange('127.0.0.1', tcpPort, 'ping\n', 'ping\n');
    assert.equal(got, 'tcp-echo\nping\n', client.logs());
  });
});

describe('router (gateway)', () => {
  it('serves only the paths an HTTP Gateway + VirtualService route, as an edge proxy (XFF appended)', async () => {
    const gw = `${router.ip}:${httpPort}`;
    const ok = await send(gw, { host: 'web.example', path: '/routed/a', headers: { 'x-forwarded-for': '198.51.100.7' } });
    assert.equal(ok.status, 200, router.logs());
    assert.equal(ok.app, 'web');
    const seen = ok.json<{ headers: Record<string, string>; url: string }>();
    assert.equal(seen.url, '/routed/a');
    assert.equal(seen.headers['x-forwarded-for'], '198.51.100.7,127.0.0.1', 'use_remote_address: the downstream address is appended');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal((await send(gw, { host: 'web.example', path: '/other' })).status, 404);
    assert.equal((await send(gw, { host: 'unknown.example', path: '/routed' })).status, 404);
    assert.equal(web.requests.filter((r) => r.url === '/other').length, 0);
  });

  // What a client may claim; only an internal one is believed (Envoy's ConnectionManagerUtility::mutateRequestHeaders).
  const claims = { 'x-envoy-internal': 'true', 'x-envoy-retry-on': '5xx', 'x-envoy-decorator-operation': 'op', 'x-request-id': 'client-chosen' };

  it('treats a loopback client as external by default (no internal_address_config, as Istio generates and Envoy >= 1.33 does)', async () => {
    const r = await send(`${router.ip}:${httpPort}`, { host: 'web.example', path: '/routed/external', headers: claims });
    assert.equal(r.status, 200, router.logs());
    const h = r.json<{ headers: Record<string, string> }>().headers;
    assert.equal(h['x-envoy-external-address'], '127.0.0.1', 'the trusted client address');
    assert.equal(h['x-envoy-internal'], undefined, 'a client-sent x-envoy-internal is dropped');
    assert.equal(h['x-envoy-retry-on'], undefined);
    assert.equal(h['x-envoy-decorator-operation'], undefined);
    assert.notEqual(h['x-request-id'], 'client-chosen', 'an edge proxy issues its own request id');
    assert.match(h['x-request-id'], /^[0-9a-f-]{36}$/);
  });

  it('marks a request from an internal (loopback) address x-envoy-internal: true once internal_address_config covers it', async () => {
    mesh.write('internal-addresses.yaml', [
      envoyFilter({
        name: 'gw-internal-addresses',
        workloadLabels: { istio: 'ingressgateway' },
        configPatches: [
          {
            applyTo: 'NETWORK_FILTER',
            match: { context: 'GATEWAY', listener: { filterChain: { filter: { name: 'envoy.filters.network.http_connection_manager' } } } },
            patch: {
              operation: 'MERGE',
              value: { typed_config: { '@type': HCM_TYPE, internal_address_config: { cidr_ranges: [{ address_prefix: '127.0.0.0', prefix_len: 8 }] } } },
            },
          },
        ],
      }),
    ]);
    try {
      await router.waitForConfig('"127.0.0.0"');
      const r = await send(`${router.ip}:${httpPort}`, { host: 'web.example', path: '/routed/internal', headers: claims });
      assert.equal(r.status, 200, router.logs());
      const h = r.json<{ headers: Record<string, string> }>().headers;
      assert.equal(h['x-envoy-internal'], 'true');
      assert.equal(h['x-envoy-external-address'], undefined);
      assert.equal(h['x-envoy-retry-on'], '5xx', 'an internal caller\'s x-envoy-* headers are kept');
      assert.equal(h['x-request-id'], 'client-chosen');
      // A request that already passed a proxy (XFF present) is not judged internal by its peer address.
      const proxied = await send(`${router.ip}:${httpPort}`, { host: 'web.example', path: '/routed/proxied', headers: { ...claims, 'x-forwarded-for': '127.0.0.9' } });
      const ph = proxied.json<{ headers: Record<string, string> }>().headers;
      assert.equal(ph['x-envoy-internal'], undefined);
      assert.equal(ph['x-envoy-external-address'], '127.0.0.1');
    } finally {
      mesh.rm('internal-addresses.yaml');
    }
  });

  it('passes TLS through by SNI: the client handshakes with the app itself', async () => {
    const s = tlsConnect({ host: router.ip, port: tlsPort, servername: 'secure.example', ca: pki.caCert });
    try {
      await once(s, 'secureConnect');
      assert.equal(s.authorized, true, String(s.authorizationError));
      assert.match(s.getPeerCertificate().subjectaltname ?? '', /DNS:secure\.example/);
      s.write('GET /tls HTTP/1.1\r\nHost: secure.example\r\nConnection: close\r\n\r\n');
      let got = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => (got += d));
      await once(s, 'end');
      assert.match(got, /^HTTP\/1\.1 200 /);
      assert.match(got, /secure \/tls/);
    } finally {
      s.destroy();
    }
    // An SNI no route claims: no filter chain, the connection is closed without a handshake.
    const other = tlsConnect({ host: router.ip, port: tlsPort, servername: 'other.example', ca: pki.caCert });
    const [err] = (await Promise.race([once(other, 'error'), once(other, 'secureConnect').then(() => [new Error('handshake succeeded')])])) as [Error & { code?: string }];
    other.destroy();
    assert.notEqual(err.message, 'handshake succeeded');
  });
});

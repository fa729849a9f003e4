// Local mode end to end: an app calls through its sidecar's HTTP proxy (<ip>:15001, Sidecar egress HTTP_PROXY) with
// absolute URIs and CONNECT; the client sidecar routes by VirtualService to the server's sidecar (bound inbound
// listener, Sidecar ingress) and on to the app; unknown hosts go passthrough to their own address; WebSocket and
// gRPC streaming (client sidecar → server sidecar) with trailers and status codes, and locally generated gRPC errors.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import grpc from '@grpc/grpc-js';
import type { App } from '../support/apps.js';
import { startApp } from '../support/apps.js';
import { send } from '../support/http-client.js';
import { NAMESPACE, dest, destinationRule, serviceEntry, sidecar, virtualService, workloadEntry } from '../support/istio.js';
import type { Doc } from '../support/istio.js';
import { freePort } from '../support/net.js';
import type { Sidecar } from '../support/sidecar.js';
import { Mesh } from './harness.js';
import { StreamClient, attachWsEcho, startStreamServer, startTcpEcho, wsConnect } from './protocols.js';

const REVIEWS = `reviews.${NAMESPACE}.svc.cluster.local`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let mesh: Mesh;
let client: Sidecar;
const apps: App[] = [];
let stream: Awaited<ReturnType<typeof startStreamServer>>;
let external: App;
let tcpEcho: Awaited<ReturnType<typeof startTcpEcho>>;
let wsUpgrades: ReturnType<typeof attachWsEcho>;

/** A server workload: the app on <ip>:<appPort>, its sidecar listening on <ip>:<port> (Sidecar ingress, defaultEndpoint 0.0.0.0:appPort). */
function serverDocs(name: string, ip: string, labels: Record<string, string>, port: number, appPort: number, protocol = 'HTTP'): Doc[] {
  return [
    workloadEntry({ name, address: ip, labels }),
    sidecar({ name, labels: { instance: name }, ingress: [{ port, bind: ip, defaultEndpoint: `0.0.0.0:${appPort}`, protocol }] }),
  ];
}

before(async () => {
  // Discovery starts on an empty directory and picks the mesh up from the file written below (it watches it).
  mesh = await Mesh.start({});
  const [cIp, v1Ip, v2Ip, sIp, extIp] = [1, 2, 3, 4, 9].map((n) => mesh.ip(n));
  const appPort = await freePort([v1Ip, v2Ip]);
  apps.push(await startApp({ name: 'reviews-v1', ip: v1Ip, port: appPort }), await startApp({ name: 'reviews-v2', ip: v2Ip, port: appPort }));
  wsUpgrades = attachWsEcho(apps[1].server);
  stream = await startStreamServer(sIp);
  external = await startApp({ name: 'external', ip: extIp });
  tcpEcho = await startTcpEcho(extIp);
  mesh.write('mesh.yaml', [
    serviceEntry({ name: 'reviews', host: REVIEWS, port: 9080, app: 'reviews' }),
    serviceEntry({ name: 'stream', host: `stream.${NAMESPACE}.svc.cluster.local`, port: 7070, app: 'stream', protocol: 'GRPC', portName: 'grpc' }),
    serviceEntry({ name: 'grpc-down', host: `grpc-down.${NAMESPACE}.svc.cluster.local`, port: 7070, app: 'nothing', protocol: 'GRPC', portName: 'grpc' }),
    ...serverDocs('reviews-v1', v1Ip, { app: 'reviews', version: 'v1', instance: 'reviews-v1' }, 9080, appPort),
    ...serverDocs('reviews-v2', v2Ip, { app: 'reviews', version: 'v2', instance: 'reviews-v2' }, 9080, appPort),
    ...serverDocs('stream-1', sIp, { app: 'stream', instance: 'stream-1' }, 7070, stream.port, 'GRPC'),
    sidecar({
      name: 'client',
      labels: { instance: 'client' },
      egress: [
        { port: 15001, bind: cIp, hosts: ['*/*'], protocol: 'HTTP_PROXY', name: 'http-proxy' },
        { port: 7070, bind: cIp, hosts: ['*/*'], protocol: 'GRPC', name: 'grpc' },
      ],
    }),
    destinationRule({ name: 'reviews', host: REVIEWS, subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] }),
    virtualService({ name: 'reviews', hosts: ['reviews'], http: [{ match: [{ uri: { prefix: '/v1' } }], route: [dest('reviews', { subset: 'v1' })] }, { route: [dest('reviews', { subset: 'v2' })] }] }),
  ]);
  const start = (name: string, ip: string, labels: Record<string, string>, egressPort?: number): Promise<Sidecar> =>
    mesh.proxy({ name, ip, labels, ...(egressPort ? { egressPort } : {}) });
  [client] = await Promise.all([
    start('client', cIp, { app: 'client', instance: 'client' }, 15001),
    start('reviews-v1', v1Ip, { app: 'reviews', version: 'v1', instance: 'reviews-v1' }),
    start('reviews-v2', v2Ip, { app: 'reviews', version: 'v2', instance: 'reviews-v2' }),
    start('stream-1', sIp, { app: 'stream', instance: 'stream-1' }),
  ]);
});

after(async () => {
  await mesh?.close();
  for (const a of apps) await a.close();
  await external?.close();
  stream?.server.forceShutdown();
  tcpEcho?.server.close();
});

describe('HTTP-proxy mode (Sidecar egress HTTP_PROXY on <ip>:15001)', () => {
  it('routes absolute-URI requests by VirtualService through the server sidecar to the app, with Envoy headers', async () => {
    const v1 = await client.request('reviews:9080', 'http://reviews:9080/v1/book?id=7', { headers: { 'x-forwarded-for': '203.0.113.9' } });
    assert.equal(v1.status, 200, client.logs());
    assert.equal(v1.app, 'reviews-v1');
    const seen = v1.json<{ url: string; headers: Record<string, string>; remote: string }>();
    assert.equal(seen.url, '/v1/book?id=7', 'origin-form at the app');
    assert.equal(seen.headers.host, 'reviews:9080');
    assert.match(seen.headers['x-request-id'], UUID, 'generated by the client sidecar');
    assert.equal(seen.headers['x-forwarded-for'], '203.0.113.9', 'sidecars do not append (use_remote_address false)');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.ok(v1.headers['x-envoy-upstream-service-time'] !== undefined);

    const v2 = await client.request('reviews:9080', 'http://reviews:9080/other', { headers: { 'x-request-id': 'trace-me' } });
    assert.equal(v2.app, 'reviews-v2');
    assert.equal(v2.json<{ headers: Record<string, string> }>().headers['x-request-id'], 'trace-me', 'kept end to end');
    // The FQDN form routes the same way.
    assert.equal((await client.request(`${REVIEWS}:9080`, `http://${REVIEWS}:9080/v1`)).app, 'reviews-v1');
  });

  it('forwards the client sidecar\'s x-envoy-attempt-count through the inbound sidecar to the app', async () => {
    // The outbound virtual host has include_request_attempt_count (it sets the header, replacing the app's); the inbound
    // one does not, so the server sidecar passes the value on.
    const r = await client.request('reviews:9080', 'http://reviews:9080/v1/attempts');
    assert.equal(r.json<{ headers: Record<string, string> }>().headers['x-envoy-attempt-count'], '1', client.logs());
    const claimed = await client.request('reviews:9080', 'http://reviews:9080/v1/attempts', { headers: { 'x-envoy-attempt-count': '7' } });
    assert.equal(claimed.json<{ headers: Record<string, string> }>().headers['x-envoy-attempt-count'], '1');
  });

  it('answers with one x-envoy-upstream-service-time (each hop overwrites it)', async () => {
    const r = await client.request('reviews:9080', 'http://reviews:9080/v1/time');
    assert.match(String(r.headers['x-envoy-upstream-service-time']), /^\d+$/);
  });

  it('sends an unknown host:port passthrough to that address, and never back into the proxy', async () => {
    const r = await client.request(external.address, `http://${external.address}/outside`);
    assert.equal(r.status, 200, client.logs());
    assert.equal(r.app, 'external');
    assert.equal(r.json<{ url: string }>().url, '/outside');
    const loop = await client.request(client.egressAddress, `http://${client.egressAddress}/loop`, { timeoutMs: 5_000 });
    assert.ok(loop.status >= 500, `a request addressed to the proxy itself fails fast (got ${loop.status})`);
  });

  it('tunnels CONNECT to a service (HTTP inside) and to an external TCP server', async () => {
    // CONNECT reviews:9080 → the reviews cluster (the server sidecar's inbound listener), then HTTP/1.1 in the tunnel.
    const s = connect({ host: client.ip, port: 15001 });
    await once(s, 'connect');
    s.write('CONNECT reviews:9080 HTTP/1.1\r\nHost: reviews:9080\r\n\r\n');
    let got = '';
    s.setEncoding('latin1');
    const until = async (needle: string): Promise<void> => {
      while (!got.includes(needle)) {
        const [d] = (await once(s, 'data')) as [string];
        got += d;
      }
    };
    await until('\r\n\r\n');
    assert.match(got, /^HTTP\/1\.1 200/, client.logs());
    got = '';
    s.write('GET /in-tunnel HTTP/1.1\r\nHost: reviews:9080\r\nConnection: close\r\n\r\n');
    await until('"app":"reviews-');
    assert.match(got, /^HTTP\/1\.1 200/);
    assert.match(got, /"url":"\/in-tunnel"/);
    s.destroy();

    const t = connect({ host: client.ip, port: 15001 });
    await once(t, 'connect');
    t.write(`CONNECT ${mesh.ip(9)}:${tcpEcho.port} HTTP/1.1\r\nHost: ${mesh.ip(9)}:${tcpEcho.port}\r\n\r\n`);
    t.setEncoding('latin1');
    let tg = '';
    while (!tg.includes('tcp-echo\n')) tg += ((await once(t, 'data')) as [string])[0];
    assert.match(tg, /^HTTP\/1\.1 200/);
    t.write('ping-through-connect');
    while (!tg.includes('ping-through-connect')) tg += ((await once(t, 'data')) as [string])[0];
    t.destroy();
  });

  it('upgrades a WebSocket (absolute URI) through both sidecars: frames both ways', async () => {
    const ws = await wsConnect(client.egressAddress, 'http://reviews:9080/chat', 'reviews:9080');
    assert.equal(ws.status, 'HTTP/1.1 101 Switching Protocols', client.logs());
    assert.equal(await ws.next(), 'hello /chat');
    ws.send('one');
    ws.send('two');
    assert.equal(await ws.next(), 'echo:one');
    assert.equal(await ws.next(), 'echo:two');
    ws.send('bye');
    await ws.closed;
    assert.equal(wsUpgrades.at(-1)?.path, '/chat');
    assert.equal(wsUpgrades.at(-1)?.headers.host, 'reviews:9080');
  });
});

describe('gRPC through client sidecar (egress GRPC <ip>:7070) → server sidecar → app', () => {
  const grpcClient = (authority: string): grpc.Client =>
    new StreamClient(`${client.ip}:7070`, grpc.credentials.createInsecure(), { 'grpc.default_authority': authority });

  it('server streaming delivers every message and the trailers', async () => {
    const c = grpcClient('stream:7070');
    try {
      const call = (c as unknown as { Count(req: string, md: grpc.Metadata, o: grpc.CallOptions): grpc.ClientReadableStream<string> }).Count('5', new grpc.Metadata(), { deadline: Date.now() + 10_000 });
      const got: string[] = [];
      call.on('data', (m: string) => got.push(m));
      const [status] = (await once(call, 'status')) as [grpc.StatusObject];
      assert.equal(status.code, grpc.status.OK, `${status.details}\n${client.logs()}`);
      assert.deepEqual(got, ['1', '2', '3', '4', '5']);
      assert.deepEqual(status.metadata.get('x-total'), ['5']);
    } finally {
      c.close();
    }
  });

  it('bidi streaming interleaves requests and replies', async () => {
    const c = grpcClient('stream:7070');
    try {
      const call = (c as unknown as { Chat(md: grpc.Metadata, o: grpc.CallOptions): grpc.ClientDuplexStream<string, string> }).Chat(new grpc.Metadata(), { deadline: Date.now() + 10_000 });
      const next = async (): Promise<string> => ((await once(call, 'data')) as [string])[0];
      call.write('a');
      assert.equal(await next(), 'echo:a');
      call.write('b');
      assert.equal(await next(), 'echo:b');
      call.end();
      const [status] = (await once(call, 'status')) as [grpc.StatusObject];
      assert.equal(status.code, grpc.status.OK);
    } finally {
      c.close();
    }
  });

  it('carries the application status and answers locally generated errors with grpc-status', async () => {
    const c = grpcClient('stream:7070');
    const d = grpcClient('grpc-down:7070');
    try {
      const fail = (cl: grpc.Client, req: string): Promise<grpc.ServiceError> =>
        new Promise((resolve, reject) => {
          (cl as unknown as { Fail(req: string, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null) => void): void }).Fail(req, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (e) =>
            e ? resolve(e) : reject(new Error('call succeeded')),
          );
        });
      const app = await fail(c, String(grpc.status.PERMISSION_DENIED));
      assert.equal(app.code, grpc.status.PERMISSION_DENIED);
      assert.equal(app.details, 'failed with 7');
      // No endpoints behind grpc-down: the client sidecar answers itself (503 UH) as gRPC UNAVAILABLE.
      const local = await fail(d, '0');
      assert.equal(local.code, grpc.status.UNAVAILABLE, client.logs());
      assert.match(local.details, /no healthy upstream/);
    } finally {
      c.close();
      d.close();
    }
  });
});

describe('plain HTTP through the HTTP proxy without an absolute URI', () => {
  it('routes an origin-form request by its Host header like any outbound listener', async () => {
    const r = await send(client.egressAddress, { host: 'reviews:9080', path: '/v1/origin' });
    assert.equal(r.app, 'reviews-v1');
  });
});

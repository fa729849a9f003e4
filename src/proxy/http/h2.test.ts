// HTTP/2 downstream: h2c prior knowledge (peeked, sniffed, curl), TLS with ALPN h2, gRPC through the handler
// (unary, server and bidi streaming, trailers, status), and gRPC trailers-only local errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as h2connect, constants } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { Stats } from '../telemetry/stats.js';
import { createHttpHandler } from './index.js';
import { startProxy, startUpstream, type Upstream } from './testing-harness.js';
import { TestClusterManager, hcmConfig, pathMatch, retryPolicy, route, routeAction, routeMatch, routeTable, simpleRoutes, vhost } from './testing.js';

const run = promisify(execFile);

type Json = Record<string, unknown>;
const ser = (v: Json): Buffer => Buffer.from(JSON.stringify(v));
const des = (b: Buffer): Json => JSON.parse(b.toString()) as Json;
const method = (name: string, requestStream: boolean, responseStream: boolean) => ({
  path: `/test.Svc/${name}`,
  requestStream,
  responseStream,
  requestSerialize: ser,
  requestDeserialize: des,
  responseSerialize: ser,
  responseDeserialize: des,
});
const SERVICE = { Unary: method('Unary', false, false), Stream: method('Stream', false, true), Bidi: method('Bidi', true, true), Slow: method('Slow', false, false) };
type SvcClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;
const Client = grpc.makeGenericClientConstructor(SERVICE, 'Svc') as unknown as new (addr: string, creds: grpc.ChannelCredentials) => SvcClient;

function h2get(port: number, path: string, opts: { scheme?: string; ca?: Buffer } = {}): Promise<{ status: number; body: string; headers: Json }> {
  return new Promise((resolve, reject) => {
    const c = h2connect(`${opts.scheme ?? 'http'}://127.0.0.1:${port}`, opts.ca ? { ca: opts.ca, servername: 'localhost' } : {});
    c.on('error', reject);
    const r = c.request({ ':path': path, ':authority': 'svc' });
    let status = 0;
    let headers: Json = {};
    let body = '';
    r.on('response', (h) => {
      status = Number(h[':status']);
      headers = h;
    });
    r.setEncoding('utf8');
    r.on('data', (d: string) => (body += d));
    r.on('end', () => {
      c.close();
      resolve({ status, body, headers });
    });
    r.on('error', reject);
    r.end();
  });
}

describe('http/2 and gRPC', () => {
  let up: Upstream;
  let grpcServer: grpc.Server;
  let grpcPort = 0;
  const clusters = new TestClusterManager();
  before(async () => {
    up = await startUpstream('h1up');
    grpcServer = new grpc.Server();
    grpcServer.addService(SERVICE, {
      Unary: (call: grpc.ServerUnaryCall<Json, Json>, cb: grpc.sendUnaryData<Json>) => {
        if (call.request.fail) {
          cb({ code: grpc.status.FAILED_PRECONDITION, details: 'told to fail' });
          return;
        }
        const md = new grpc.Metadata();
        md.set('x-trailer', 'bye');
        cb(null, { echo: call.request.msg, authority: call.getPath() }, md);
      },
      Stream: (call: grpc.ServerWritableStream<Json, Json>) => {
        for (let i = 0; i < Number(call.request.n); i++) call.write({ i });
        call.end();
      },
      Bidi: (call: grpc.ServerDuplexStream<Json, Json>) => {
        call.on('data', (m: Json) => call.write({ back: m.msg }));
        call.on('end', () => call.end());
      },
      Slow: (_call: grpc.ServerUnaryCall<Json, Json>, cb: grpc.sendUnaryData<Json>) => {
        setTimeout(() => cb(null, {}), 500);
      },
    });
    grpcPort = await new Promise<number>((resolve, reject) => grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))));
    clusters.add('h1up', [{ address: '127.0.0.1', port: up.port }]);
    clusters.add('grpc', [{ address: '127.0.0.1', port: grpcPort }], { http2: true });
    clusters.add('empty', []);
  });
  after(async () => {
    await clusters.close();
    await up.close();
    grpcServer.forceShutdown();
  });

  test('h2c prior knowledge (peeked, and sniffed) to an HTTP/1.1 upstream; curl --http2-prior-knowledge', async () => {
    const p = await startProxy(hcmConfig({ routeConfig: simpleRoutes('h1up'), accessLog: [{ path: 'x' }] }), clusters);
    const q = await startProxy(hcmConfig({ routeConfig: simpleRoutes('h1up') }), clusters, { info: { sniffed: 'h2c' } });
    try {
      for (const port of [p.port, q.port]) {
        const r = await h2get(port, '/h2?x=1');
        assert.equal(r.status, 200);
        const e = JSON.parse(r.body) as { url: string; headers: Json };
        assert.equal(e.url, '/h2?x=1');
        assert.equal(e.headers.host, 'svc');
        assert.equal(r.headers.server, 'envoy');
      }
      const { stdout } = await run('curl', ['-s', '--http2-prior-knowledge', '-w', '\n%{http_version} %{http_code}', `http://127.0.0.1:${p.port}/curl`]);
      assert.match(stdout, /\n2 200$/);
      const logs = await p.waitLogs(2);
      assert.match(logs[0], /"GET \/h2\?x=1 HTTP\/2" 200 /);
      assert.equal(p.stats.get('http.test.downstream_cx_http2_total'), 2);
    } finally {
      await p.close();
      await q.close();
    }
  });

  test('HTTP/2 header count and size limits reset the stream before any upstream request', async () => {
    const p = await startProxy(hcmConfig({ routeConfig: simpleRoutes('h1up'), maxHeadersCount: 20, maxRequestHeadersKb: 4 }), clusters);
    const before = up.seen.length;
    try {
      const c = h2connect(`http://127.0.0.1:${p.port}`);
      const send = (h: Record<string, string>): Promise<number> =>
        new Promise((resolve) => {
          const r = c.request(h);
          r.on('error', () => {});
          r.on('close', () => resolve(r.rstCode));
          r.end();
        });
      const many: Record<string, string> = { ':path': '/' };
      for (let i = 0; i < 40; i++) many[`x-h${i}`] = 'v';
      const codes = [await send(many), await send({ ':path': '/', 'x-big': 'b'.repeat(6000) })];
      c.close();
      assert.deepEqual(codes, [constants.NGHTTP2_ENHANCE_YOUR_CALM, constants.NGHTTP2_ENHANCE_YOUR_CALM]);
      assert.equal(up.seen.length, before);
    } finally {
      await p.close();
    }
  });

  test('TLS-terminated socket with ALPN h2 and http/1.1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'isthmus-h2-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
    const key = readFileSync(join(dir, 'k.pem'));
    const cert = readFileSync(join(dir, 'c.pem'));
    rmSync(dir, { recursive: true });
    const stats = new Stats();
    const handler = createHttpHandler(hcmConfig({ routeConfig: simpleRoutes('h1up') }), { config: { current: () => { throw new Error('unused'); }, subscribe: () => () => {} }, clusters, stats });
    const tls = createTlsServer({ key, cert, ALPNProtocols: ['h2', 'http/1.1'] }, (s: TLSSocket) =>
      handler.onConnection(s, { listenerName: 'l', filterChainName: 'c', localAddress: '127.0.0.1', localPort: 0, remoteAddress: '127.0.0.1', remotePort: 1, transport: 'tls', sni: 'localhost' }),
    );
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    const port = (tls.address() as AddressInfo).port;
    try {
      const r = await h2get(port, '/tls', { scheme: 'https', ca: cert });
      assert.equal(r.status, 200);
      assert.equal((JSON.parse(r.body) as { headers: Json }).headers['x-forwarded-proto'], 'https');
      const { stdout } = await run('curl', ['-s', '--http1.1', '--cacert', '-', '--resolve', `localhost:${port}:127.0.0.1`, '-w', '\n%{http_version}', `https://localhost:${port}/tls1`], {}).catch(async () =>
        run('curl', ['-sk', '--http1.1', '-w', '\n%{http_version}', `https://127.0.0.1:${port}/tls1`]),
      );
      assert.match(stdout, /\n1\.1$/);
      assert.equal(stats.get('http.test.downstream_cx_http2_total'), 1);
      assert.equal(stats.get('http.test.downstream_cx_http1_total'), 1);
    } finally {
      handler.close();
      await new Promise<void>((r) => tls.close(() => r()));
    }
  });

  test('gRPC unary, server streaming, bidi streaming, status and trailers through the proxy', async () => {
    const p = await startProxy(hcmConfig({ routeConfig: simpleRoutes('grpc', { retry: retryPolicy({ retryOn: ['unavailable', 'connect-failure'], numRetries: 2 }) }) }), clusters);
    const client = new Client(`127.0.0.1:${p.port}`, grpc.credentials.createInsecure());
    try {
      const trailers = await new Promise<{ res: Json; md: grpc.Metadata }>((resolve, reject) => {
        let md = new grpc.Metadata();
        const call = client.Unary({ msg: 'hi' }, (err: grpc.ServiceError | null, res: Json) => (err ? reject(err) : setImmediate(() => resolve({ res, md })))) as grpc.ClientUnaryCall;
        call.on('status', (s: grpc.StatusObject) => (md = s.metadata));
      });
      assert.equal(trailers.res.echo, 'hi');
      assert.deepEqual(trailers.md.get('x-trailer'), ['bye']);
      const err = await new Promise<grpc.ServiceError>((resolve) => client.Unary({ fail: true }, (e: grpc.ServiceError) => resolve(e)));
      assert.equal(err.code, grpc.status.FAILED_PRECONDITION);
      assert.equal(err.details, 'told to fail');
      const items = await new Promise<Json[]>((resolve, reject) => {
        const got: Json[] = [];
        const s = client.Stream({ n: 5 }) as grpc.ClientReadableStream<Json>;
        s.on('data', (m: Json) => got.push(m));
        s.on('end', () => resolve(got));
        s.on('error', reject);
      });
      assert.deepEqual(items.map((m) => m.i), [0, 1, 2, 3, 4]);
      // Bidi: each message must come back before the client sends the next (no request buffering to end-of-stream).
      const back = await new Promise<string[]>((resolve, reject) => {
        const got: string[] = [];
        const d = client.Bidi() as grpc.ClientDuplexStream<Json, Json>;
        d.on('data', (m: Json) => {
          got.push(String(m.back));
          if (got.length < 3) d.write({ msg: `m${got.length}` });
          else d.end();
        });
        d.on('end', () => resolve(got));
        d.on('error', reject);
        d.write({ msg: 'm0' });
      });
      assert.deepEqual(back, ['m0', 'm1', 'm2']);
    } finally {
      client.close();
      await p.close();
    }
  });

  test('locally generated gRPC errors are trailers-only grpc-status: UNIMPLEMENTED, UNAVAILABLE, DEADLINE_EXCEEDED', async () => {
    const table = routeTable([
      vhost({
        routes: [
          route({ match: routeMatch({ path: pathMatch('prefix', '/test.Svc/Unary') }), action: routeAction({ cluster: 'empty' }) }),
          route({ match: routeMatch({ path: pathMatch('prefix', '/test.Svc/Slow') }), action: routeAction({ cluster: 'grpc', timeoutMs: 100 }) }),
        ],
      }),
    ]);
    const p = await startProxy(hcmConfig({ routeConfig: table, accessLog: [{ path: 'x' }] }), clusters);
    const client = new Client(`127.0.0.1:${p.port}`, grpc.credentials.createInsecure());
    try {
      const call = (m: string, req: Json): Promise<grpc.ServiceError> => new Promise((resolve) => client[m](req, (e: grpc.ServiceError) => resolve(e)));
      const unavailable = await call('Unary', {});
      assert.equal(unavailable.code, grpc.status.UNAVAILABLE);
      assert.equal(unavailable.details, 'no healthy upstream');
      const deadline = await call('Slow', {});
      assert.equal(deadline.code, grpc.status.DEADLINE_EXCEEDED);
      assert.equal(deadline.details, 'upstream request timeout');
      const nr = await new Promise<grpc.ServiceError>((resolve) => {
        const s = client.Stream({ n: 1 }) as grpc.ClientReadableStream<Json>;
        s.on('error', resolve);
        s.on('data', () => {});
      });
      assert.equal(nr.code, grpc.status.UNIMPLEMENTED);
      const logs = await p.waitLogs(3);
      assert.match(logs[0], /"POST \/test\.Svc\/Unary HTTP\/2" 200 UH no_healthy_upstream /);
    } finally {
      client.close();
      await p.close();
    }
  });

  test('h2 stream reset by the client mid-response is logged DC and the upstream request aborted', async () => {
    const slow = await startUpstream('slow', (_req, res) => {
      res.writeHead(200);
      res.write('start');
    });
    clusters.add('slow', [{ address: '127.0.0.1', port: slow.port }]);
    const p = await startProxy(hcmConfig({ routeConfig: simpleRoutes('slow'), accessLog: [{ path: 'x' }] }), clusters);
    try {
      await new Promise<void>((resolve, reject) => {
        const c = h2connect(`http://127.0.0.1:${p.port}`);
        c.on('error', reject);
        const r = c.request({ ':path': '/' });
        r.on('data', () => {
          r.close(constants.NGHTTP2_CANCEL);
          c.close();
          resolve();
        });
        r.on('error', () => {});
        r.end();
      });
      const logs = await p.waitLogs(1);
      assert.match(logs[0], /" 200 DC via_upstream /);
    } finally {
      await p.close();
      await slow.close();
    }
  });
});

// HTTP/2 upstreams: h2c prior knowledge to a gRPC server (unary, errors, server and bidi streaming, trailers),
// multiplexing on one connection, use_downstream_protocol, REFUSED_STREAM, and h2 over TLS with ALPN and SANs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createSecureServer, createServer as createH2Server, constants, type Http2Server, type Http2SecureServer } from 'node:http2';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import type { UpstreamError, UpstreamHandler } from '../runtime/contracts.js';
import type { StringMatcher } from '../runtime/types.js';
import { Stats } from '../telemetry/stats.js';
import { makeTestPki } from '../listener/testing-certs.js';
import { UpstreamClusters } from './cluster-manager.js';
import { UpstreamResetError } from './errors.js';
import { bodyOf, cluster, header, MemoryConfigSource, req, send, snapshot } from './testing.js';

const id = (b: Buffer): Buffer => b;
const method = (path: string, requestStream: boolean, responseStream: boolean) => ({
  path,
  requestStream,
  responseStream,
  requestSerialize: id,
  requestDeserialize: id,
  responseSerialize: id,
  responseDeserialize: id,
});

function frame(s: string): Buffer {
  const m = Buffer.from(s);
  const h = Buffer.alloc(5);
  h.writeUInt32BE(m.length, 1);
  return Buffer.concat([h, m]);
}

function unframe(b: Buffer): string[] {
  const out: string[] = [];
  for (let i = 0; i + 5 <= b.length; ) {
    const n = b.readUInt32BE(i + 1);
    out.push(b.subarray(i + 5, i + 5 + n).toString());
    i += 5 + n;
  }
  return out;
}

async function grpcServer(): Promise<{ port: number; server: grpc.Server }> {
  const server = new grpc.Server();
  const service = {
    Unary: method('/test.Echo/Unary', false, false),
    Fail: method('/test.Echo/Fail', false, false),
    List: method('/test.Echo/List', false, true),
    Chat: method('/test.Echo/Chat', true, true),
  };
  server.addService(service, {
    Unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.concat([Buffer.from('echo:'), call.request])),
    Fail: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb({ code: grpc.status.NOT_FOUND, details: 'no such thing' }),
    List: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      for (const x of ['a', 'b', 'c']) call.write(Buffer.from(x));
      call.end();
    },
    Chat: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (d: Buffer) => call.write(Buffer.concat([Buffer.from('re:'), d])));
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return { port, server };
}

const grpcHeaders = ['host', 'echo.test', 'content-type', 'application/grpc', 'te', 'trailers'];

test('h2c to a gRPC server: unary, error status, server streaming, trailers pass through', async (t) => {
  const g = await grpcServer();
  t.after(() => g.server.forceShutdown());
  const stats = new Stats();
  const cm = new UpstreamClusters({ config: new MemoryConfigSource(snapshot([cluster('grpc', [{ port: g.port }], { protocol: 'http2' })])), stats });
  t.after(() => cm.close());
  const c = cm.get('grpc')!;
  const post = (path: string, msg: string) => send(c, { method: 'POST', path, headers: grpcHeaders, body: bodyOf(frame(msg).toString('latin1')) });

  const u = await post('/test.Echo/Unary', 'hi');
  assert.equal(u.status, 200);
  assert.match(header(u.headers, 'content-type') ?? '', /^application\/grpc/);
  assert.deepEqual(unframe(Buffer.from(u.body, 'latin1')), ['echo:hi']);
  assert.equal(header(u.trailers ?? [], 'grpc-status'), '0');

  const f = await post('/test.Echo/Fail', 'x');
  assert.equal(f.status, 200);
  const status = header(f.trailers ?? [], 'grpc-status') ?? header(f.headers, 'grpc-status');
  assert.equal(status, String(grpc.status.NOT_FOUND));
  assert.equal(header(f.trailers ?? [], 'grpc-message') ?? header(f.headers, 'grpc-message'), 'no%20such%20thing', 'grpc-message passes through percent-encoded');

  const l = await post('/test.Echo/List', '');
  assert.deepEqual(unframe(Buffer.from(l.body, 'latin1')), ['a', 'b', 'c']);
  assert.equal(header(l.trailers ?? [], 'grpc-status'), '0');
  assert.equal(stats.get('cluster.grpc.upstream_cx_total'), 1, 'every call on one HTTP/2 connection');
});

test('bidi streaming is full duplex and does not block other calls on the connection', async (t) => {
  const g = await grpcServer();
  t.after(() => g.server.forceShutdown());
  const stats = new Stats();
  const cm = new UpstreamClusters({ config: new MemoryConfigSource(snapshot([cluster('grpc', [{ port: g.port }], { protocol: 'http2' })])), stats });
  t.after(() => cm.close());
  const c = cm.get('grpc')!;
  const body = new PassThrough();
  const got: string[] = [];
  let onMsg: (() => void) | undefined;
  let done!: (x: { trailers: string[] | null; err?: UpstreamError }) => void;
  const finished = new Promise<{ trailers: string[] | null; err?: UpstreamError }>((r) => (done = r));
  const h: UpstreamHandler = {
    onHeaders: (status) => status === 200,
    onData: (chunk) => {
      got.push(...unframe(chunk));
      onMsg?.();
      return true;
    },
    onComplete: (trailers) => done({ trailers }),
    onError: (err) => done({ trailers: null, err }),
  };
  c.dispatch(req({ method: 'POST', path: '/test.Echo/Chat', headers: grpcHeaders, body, downstreamProtocol: 'http2' }), h);
  const next = () => new Promise<void>((r) => (onMsg = r));
  body.write(frame('one'));
  await next();
  assert.deepEqual(got, ['re:one']);
  // While the stream is open, a unary call on the same connection completes.
  const u = await send(c, { method: 'POST', path: '/test.Echo/Unary', headers: grpcHeaders, body: bodyOf(frame('side').toString('latin1')) });
  assert.deepEqual(unframe(Buffer.from(u.body, 'latin1')), ['echo:side']);
  body.write(frame('two'));
  await next();
  assert.deepEqual(got, ['re:one', 're:two']);
  body.end();
  const end = await finished;
  assert.equal(end.err, undefined);
  assert.equal(header(end.trailers ?? [], 'grpc-status'), '0');
  assert.equal(stats.get('cluster.grpc.upstream_cx_total'), 1);
});

test('use_downstream_protocol picks HTTP/2 or HTTP/1.1 per request; REFUSED_STREAM is UR and retriable', async (t) => {
  let refuse = false;
  // One port speaking both: sniff the HTTP/2 preface and hand the socket to the matching server.
  const h2: Http2Server = createH2Server();
  const h1 = createHttpServer((_q, res) => res.end('1.1'));
  const sockets = new Set<Socket>();
  h2.on('stream', (st) => {
    st.on('error', () => undefined);
    if (refuse) {
      st.close(constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    st.respond({ ':status': 200 });
    st.end('2.0');
  });
  const server = createNetServer((sock) => {
    sockets.add(sock);
    sock.once('data', (d: Buffer) => {
      sock.pause();
      sock.unshift(d);
      if (d.toString('latin1').startsWith('PRI * HTTP/2')) {
        h2.emit('connection', sock);
      } else {
        h1.emit('connection', sock);
        sock.resume();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const port = (server.address() as AddressInfo).port;
  const cm = new UpstreamClusters({ config: new MemoryConfigSource(snapshot([cluster('dp', [{ port }], { protocol: 'downstream' })])), stats: new Stats() });
  t.after(() => cm.close());
  const c = cm.get('dp')!;
  const first = await send(c, { downstreamProtocol: 'http2' });
  assert.equal(first.body, '2.0', JSON.stringify(first));
  assert.equal((await send(c, { downstreamProtocol: 'http1' })).body, '1.1');
  refuse = true;
  const r = await send(c, { downstreamProtocol: 'http2' });
  assert.ok(r.error instanceof UpstreamResetError);
  assert.equal(r.error.flag, 'UR');
  assert.equal(r.error.reason, 'remote_refused_stream_reset');
  assert.equal(r.error.beforeRequestSent, true);
});

function exact(v: string): StringMatcher {
  return { kind: 'exact', value: v, ignoreCase: false, test: (s) => s === v };
}

test('HTTP/2 over TLS: SNI, ALPN h2 with extra protocols, CA and SAN verification; SAN mismatch is UF', async (t) => {
  const pki = makeTestPki({ serverNames: ['reviews.default.svc', 'localhost'] });
  t.after(() => pki.cleanup());
  const server: Http2SecureServer = createSecureServer({ cert: pki.serverCert, key: pki.serverKey, ALPNProtocols: ['h2'] });
  const snis: (string | undefined)[] = [];
  server.on('secureConnection', (s: { servername?: string }) => snis.push(s.servername));
  server.on('stream', (st, h) => st.respond({ ':status': 200, 'x-path': String(h[':path']) }, { endStream: true }));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const tls = (sans: StringMatcher[]) => ({ sni: 'reviews.default.svc', caCert: pki.caCert, alpn: ['istio-peer-exchange', 'h2'], matchSans: sans, skipVerify: false, autoSni: false });
  const src = new MemoryConfigSource(
    snapshot([
      cluster('ok', [{ port }], { protocol: 'http2', tls: tls([exact('reviews.default.svc')]) }),
      cluster('bad', [{ port }], { protocol: 'http2', tls: tls([exact('spiffe://cluster.local/ns/default/sa/other')]) }),
    ]),
  );
  const cm = new UpstreamClusters({ config: src, stats: new Stats() });
  t.after(() => cm.close());
  const r = await send(cm.get('ok')!, { path: '/secure' });
  assert.equal(r.status, 200);
  assert.equal(header(r.headers, 'x-path'), '/secure');
  assert.deepEqual(snis, ['reviews.default.svc']);
  const bad = await send(cm.get('bad')!);
  assert.equal(bad.error?.flag, 'UF');
  assert.match((bad.error as UpstreamResetError).transportFailure ?? '', /TLS error: SAN mismatch/);
});

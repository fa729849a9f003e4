import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H2_PREFACE, inspectHttp, inspectTls } from './inspect.js';
import { captureClientHello } from './testing-client.js';

const clientHello = captureClientHello;

test('tls inspector reads SNI and ALPN from a real ClientHello, needing the whole record', async () => {
  const hello = await clientHello({ servername: 'Reviews.Default.svc', ALPNProtocols: ['h2', 'http/1.1'] });
  assert.deepEqual(inspectTls(hello), { kind: 'tls', sni: 'reviews.default.svc', alpn: ['h2', 'http/1.1'] });
  assert.deepEqual(inspectTls(hello.subarray(0, 3)), { kind: 'need-more' });
  assert.deepEqual(inspectTls(hello.subarray(0, hello.length - 1)), { kind: 'need-more' });
});

test('tls inspector joins a ClientHello fragmented over two records', async () => {
  const hello = await clientHello({ servername: 'a.example.com', ALPNProtocols: ['istio-peer-exchange', 'istio'] });
  const body = hello.subarray(5);
  const cut = 40;
  const rec = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0x16, 0x03, 0x01, b.length >> 8, b.length & 0xff]), b]);
  const two = Buffer.concat([rec(body.subarray(0, cut)), rec(body.subarray(cut))]);
  assert.deepEqual(inspectTls(two), { kind: 'tls', sni: 'a.example.com', alpn: ['istio-peer-exchange', 'istio'] });
  assert.deepEqual(inspectTls(two.subarray(0, 5 + cut + 3)), { kind: 'need-more' });
});

test('tls inspector: no SNI, and non-TLS bytes', async () => {
  const hello = await clientHello({});
  const r = inspectTls(hello);
  assert.equal(r.kind, 'tls');
  assert.equal('sni' in r && r.sni, false);
  assert.deepEqual(inspectTls(Buffer.from('GET / HTTP/1.1\r\n')), { kind: 'not-tls' });
  assert.deepEqual(inspectTls(Buffer.from([0x16, 0x01])), { kind: 'not-tls' });
  assert.deepEqual(inspectTls(Buffer.from([0x16])), { kind: 'need-more' });
});

test('http inspector: HTTP/1.x request lines, h2 preface, partial input and other protocols', () => {
  assert.deepEqual(inspectHttp(Buffer.from('GET /x HTTP/1.1\r\nHost: a\r\n\r\n')), { kind: 'http1', alpn: 'http/1.1' });
  assert.deepEqual(inspectHttp(Buffer.from('POST / HTTP/1.0\r\n')), { kind: 'http1', alpn: 'http/1.0' });
  assert.deepEqual(inspectHttp(Buffer.from('M-SEARCH * HTTP/1.1\n')), { kind: 'http1', alpn: 'http/1.1' });
  assert.deepEqual(inspectHttp(H2_PREFACE), { kind: 'h2c' });
  assert.deepEqual(inspectHttp(H2_PREFACE.subarray(0, 10)), { kind: 'need-more' });
  assert.deepEqual(inspectHttp(Buffer.from('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n')), { kind: 'not-http' });
  assert.deepEqual(inspectHttp(Buffer.from('GE')), { kind: 'need-more' });
  assert.deepEqual(inspectHttp(Buffer.from('GET /very/long')), { kind: 'need-more' });
  assert.deepEqual(inspectHttp(Buffer.from('GET /\r\n')), { kind: 'not-http' });
  assert.deepEqual(inspectHttp(Buffer.from('GET / HTTP/2.0\r\n')), { kind: 'not-http' });
  assert.deepEqual(inspectHttp(Buffer.from('FOO / HTTP/1.1\r\n')), { kind: 'not-http' });
  assert.deepEqual(inspectHttp(Buffer.from('\x00\x01binary')), { kind: 'not-http' });
  assert.deepEqual(inspectHttp(Buffer.from('hello world\n')), { kind: 'not-http' });
});

// Config changes and cancellation: a replaced or removed cluster drains (in-flight requests finish, then its
// connections close), an unchanged one is kept; abort() releases queued and running requests; SDS-backed mTLS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { Stats } from '../telemetry/stats.js';
import { makeTestPki } from '../listener/testing-certs.js';
import { UpstreamClusters } from './cluster-manager.js';
import type { TlsSecret } from './deps.js';
import { cluster, Collector, httpServer, MemoryConfigSource, req, send, snapshot } from './testing.js';

test('a changed cluster drains: the in-flight request completes on the old pool, new requests use the new config', async (t) => {
  const held: (() => void)[] = [];
  const oldS = await httpServer((_q, res) => (held.length === 0 ? held.push(() => res.end('old-slow')) : res.end('old')));
  const newS = await httpServer((_q, res) => res.end('new'));
  t.after(() => Promise.all([oldS, newS].map((s) => s.close())));
  const v1 = cluster('svc', [{ port: oldS.port }]);
  const src = new MemoryConfigSource(snapshot([v1]));
  const stats = new Stats();
  const cm = new UpstreamClusters({ config: src, stats });
  t.after(() => cm.close());
  const inflight = new Collector();
  cm.get('svc')!.dispatch(req(), inflight);
  await once(oldS.server, 'request');
  const oldConnClosed = oldS.drained();

  // Same content, new snapshot object: the cluster (and its connection) is kept.
  src.set(snapshot([{ ...v1 }]));
  const kept = cm.get('svc');
  assert.equal((await send(kept!)).body, 'old');

  src.set(snapshot([cluster('svc', [{ port: newS.port }])]));
  assert.notEqual(cm.get('svc'), kept);
  assert.equal((await send(cm.get('svc')!)).body, 'new');
  held[0]();
  const r = await inflight.done;
  assert.equal(r.status, 200);
  assert.equal(r.body, 'old-slow');
  await cm.settled();
  await oldConnClosed;
  assert.equal(stats.get('cluster.svc.upstream_cx_active'), 1, 'only the new cluster’s connection is open');

  // Removal drains too.
  src.set(snapshot([]));
  assert.equal(cm.get('svc'), undefined);
  await cm.settled();
  assert.equal(stats.get('cluster.svc.upstream_cx_active'), 0);
});

test('abort() releases running and queued requests and suppresses callbacks', async (t) => {
  const held: (() => void)[] = [];
  const s = await httpServer((_q, res) => held.push(() => res.end('late')));
  t.after(() => s.close());
  const limits = { maxConnections: 1, maxPendingRequests: 10, maxRequests: 100, maxRetries: 3 };
  const stats = new Stats();
  const cm = new UpstreamClusters({ config: new MemoryConfigSource(snapshot([cluster('ab', [{ port: s.port }], { circuitBreakers: limits })])), stats });
  t.after(() => cm.close());
  const c = cm.get('ab')!;
  let calls = 0;
  const quiet = { onHeaders: () => (calls++, true), onData: () => true, onComplete: () => calls++, onError: () => calls++ };
  const running = c.dispatch(req(), quiet);
  await once(s.server, 'request');
  const queued = c.dispatch(req(), quiet);
  assert.equal(stats.get('cluster.ab.upstream_rq_pending_active'), 1);
  queued.abort();
  assert.equal(stats.get('cluster.ab.upstream_rq_pending_active'), 0);
  running.abort();
  await new Promise((r) => setImmediate(r));
  assert.equal(stats.get('cluster.ab.upstream_rq_active'), 0);
  assert.equal(calls, 0);
  // The connection slot is free again.
  const next = new Collector();
  c.dispatch(req(), next);
  while (held.length < 2) await once(s.server, 'request');
  held[1]();
  assert.equal((await next.done).body, 'late');
});

test('upstream mTLS from SDS secrets; a missing secret is UF; a rotated secret is used by new connections', async (t) => {
  const pki = makeTestPki({ serverNames: ['reviews.default.svc'], clientUri: 'spiffe://cluster.local/ns/default/sa/productpage' });
  t.after(() => pki.cleanup());
  const peers: string[] = [];
  const server = createTlsServer({ cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert, requestCert: true, rejectUnauthorized: true }, (sock: TLSSocket) => {
    peers.push(sock.getPeerCertificate().subjectaltname ?? '');
    sock.on('data', () => sock.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const secrets = new Map<string, TlsSecret>([['ROOTCA', { caCert: pki.caCert }]]);
  const tls = { sdsCertificate: 'default', sdsValidation: 'ROOTCA', alpn: ['istio-peer-exchange', 'istio'], matchSans: [], skipVerify: false, autoSni: false, sni: 'outbound_.9080_._.reviews.default.svc.cluster.local' };
  const stats = new Stats();
  const cm = new UpstreamClusters({ config: new MemoryConfigSource(snapshot([cluster('mtls', [{ port }], { tls })])), stats, secrets: { get: (n) => secrets.get(n) } });
  t.after(() => cm.close());
  const c = cm.get('mtls')!;
  const missing = await send(c);
  assert.equal(missing.error?.flag, 'UF');
  assert.match(missing.error?.message ?? '', /SDS secret "default" is not available/);
  secrets.set('default', { certChain: pki.clientCert, privateKey: pki.clientKey });
  const r = await send(c);
  assert.equal(r.status, 200);
  assert.equal(r.body, 'ok');
  assert.deepEqual(peers, ['URI:spiffe://cluster.local/ns/default/sa/productpage']);
});

test('a request aborted while its connection is being made leaves no connection behind', async (t) => {
  const { createServer } = await import('node:net');
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const deadPort = (probe.address() as AddressInfo).port;
  probe.close();
  const stats = new Stats();
  const cm = new UpstreamClusters({ config: new MemoryConfigSource(snapshot([cluster('gone', [{ port: deadPort }])])), stats });
  t.after(() => cm.close());
  const c = cm.get('gone')!;
  const a = c.dispatch(req(), { onHeaders: () => true, onData: () => true, onComplete: () => undefined, onError: () => undefined });
  a.abort();
  // The connect attempt still fails in the background; afterwards the slot is gone.
  while (stats.get('cluster.gone.upstream_cx_connect_fail') === 0) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.equal(stats.get('cluster.gone.circuit_breakers.default.remaining_cx'), 4294967295);
  assert.equal(stats.get('cluster.gone.upstream_rq_pending_active'), 0);
  assert.equal(stats.get('cluster.gone.upstream_rq_active'), 0);
});

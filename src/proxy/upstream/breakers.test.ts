// Circuit breakers (max connections / pending / requests / retries) and connection management (connect failure
// and timeout, max requests per connection, idle timeout) over real sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Stats } from '../telemetry/stats.js';
import { UpstreamClusters } from './cluster-manager.js';
import { UpstreamResetError } from './errors.js';
import { cluster, Collector, httpServer, MemoryConfigSource, req, send, snapshot } from './testing.js';

const CB = 'cluster.cb.';

test('Istio circuit-breaking task: maxConnections 1, http1MaxPendingRequests 1 → UO under concurrency, none for one client', async (t) => {
  // The upstream answers on the next turn of the event loop (a fast httpbin).
  const s = await httpServer((_q, res) => setImmediate(() => res.end('ok')));
  t.after(() => s.close());
  const limits = { maxConnections: 1, maxPendingRequests: 1, maxRequests: 4294967295, maxRetries: 4294967295 };
  const stats = new Stats();
  const cm = new UpstreamClusters({ config: new MemoryConfigSource(snapshot([cluster('cb', [{ port: s.port }], { circuitBreakers: limits })])), stats });
  t.after(() => cm.close());
  const c = cm.get('cb')!;
  // fortio -c 1 -n 20: every request succeeds.
  for (let i = 0; i < 20; i++) assert.equal((await send(c)).status, 200);
  assert.equal(stats.get(CB + 'upstream_rq_pending_overflow'), 0);
  // fortio -c 3 -n 30: three clients in parallel, ten requests each.
  const codes: string[] = [];
  await Promise.all(
    [0, 1, 2].map(async () => {
      for (let i = 0; i < 10; i++) {
        const r = await send(c);
        codes.push(r.error ? r.error.flag : String(r.status));
      }
    }),
  );
  const uo = codes.filter((x) => x === 'UO').length;
  assert.ok(uo > 0, `some requests overflow: ${codes.join(',')}`);
  assert.equal(uo + codes.filter((x) => x === '200').length, 30);
  assert.equal(stats.get(CB + 'upstream_rq_pending_overflow'), uo);
  assert.ok(stats.get(CB + 'upstream_cx_overflow') > 0);
  assert.equal(s.connections.size, 1, 'never more than one connection');
});

test('max connections queue requests as pending; pending overflow is UO with Envoy text; gauges track it', async (t) => {
  const held: (() => void)[] = [];
  const s = await httpServer((_q, res) => held.push(() => res.end('ok')));
  t.after(() => s.close());
  const limits = { maxConnections: 1, maxPendingRequests: 1, maxRequests: 4294967295, maxRetries: 1 };
  const stats = new Stats();
  const cm = new UpstreamClusters({ config: new MemoryConfigSource(snapshot([cluster('cb', [{ port: s.port }], { circuitBreakers: limits })])), stats });
  t.after(() => cm.close());
  const c = cm.get('cb')!;
  const a = new Collector();
  c.dispatch(req(), a);
  await once(s.server, 'request');
  assert.equal(stats.get(CB + 'upstream_rq_active'), 1);
  assert.equal(stats.get(CB + 'circuit_breakers.default.cx_open'), 1);
  const b = new Collector();
  c.dispatch(req(), b); // no free connection, cannot open another: pending
  assert.equal(stats.get(CB + 'upstream_rq_pending_active'), 1);
  assert.equal(stats.get(CB + 'upstream_cx_overflow'), 1);
  assert.equal(stats.get(CB + 'circuit_breakers.default.rq_pending_open'), 1);
  const over = await send(c); // pending queue full: overflow
  assert.ok(over.error instanceof UpstreamResetError);
  assert.equal(over.error.flag, 'UO');
  assert.equal(over.error.reason, 'overflow');
  assert.equal(over.error.beforeRequestSent, true);
  assert.equal(over.error.message, 'upstream connect error or disconnect/reset before headers. reset reason: overflow');
  assert.equal(stats.get(CB + 'upstream_rq_pending_overflow'), 1);
  held.shift()!();
  assert.equal((await a.done).status, 200);
  await once(s.server, 'request'); // b now runs on the same connection
  held.shift()!();
  assert.equal((await b.done).status, 200);
  assert.equal(stats.get(CB + 'upstream_rq_pending_active'), 0);
  assert.equal(stats.get(CB + 'circuit_breakers.default.rq_pending_open'), 0);
  assert.equal(s.connections.size, 1);
  // Retry budget (max_retries 1).
  assert.equal(c.tryAcquireRetry(), true);
  assert.equal(c.tryAcquireRetry(), false);
  assert.equal(stats.get(CB + 'circuit_breakers.default.rq_retry_open'), 1);
  c.releaseRetry();
  assert.equal(c.tryAcquireRetry(), true);
  c.releaseRetry();
});

test('max requests (HTTP/2 style limit) overflows to UO and upstream_rq_pending_overflow', async (t) => {
  const held: (() => void)[] = [];
  const s = await httpServer((_q, res) => (held.length < 2 ? held.push(() => res.end('ok')) : res.end('ok')));
  t.after(() => s.close());
  const limits = { maxConnections: 100, maxPendingRequests: 100, maxRequests: 2, maxRetries: 3 };
  const stats = new Stats();
  const cm = new UpstreamClusters({ config: new MemoryConfigSource(snapshot([cluster('cb', [{ port: s.port }], { circuitBreakers: limits })])), stats });
  t.after(() => cm.close());
  const c = cm.get('cb')!;
  const running = [new Collector(), new Collector()];
  for (const h of running) c.dispatch(req(), h);
  const third = await send(c);
  assert.equal(third.error?.flag, 'UO');
  assert.equal(stats.get(CB + 'upstream_rq_pending_overflow'), 1);
  while (held.length < 2) await once(s.server, 'request');
  for (const f of held) f();
  for (const h of running) assert.equal((await h.done).status, 200);
  assert.equal((await send(c)).status, 200, 'capacity is back');
  assert.equal(stats.get(CB + 'circuit_breakers.default.remaining_cx'), 98, 'no connection left behind by the overflow');
});

test('connection refused → UF; TLS handshake that never completes → UF connection timeout', async (t) => {
  const closed = createNetServer();
  closed.listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const deadPort = (closed.address() as AddressInfo).port;
  closed.close();
  // Accepts TCP but never speaks TLS: the connect timeout covers the handshake.
  const silent: Socket[] = [];
  const mute: NetServer = createNetServer((sock) => silent.push(sock));
  mute.listen(0, '127.0.0.1');
  await once(mute, 'listening');
  t.after(() => {
    for (const sk of silent) sk.destroy();
    mute.close();
  });
  const tls = { alpn: [], matchSans: [], skipVerify: true, autoSni: false };
  const stats = new Stats();
  const src = new MemoryConfigSource(
    snapshot([
      cluster('refused', [{ port: deadPort }]),
      cluster('slowtls', [{ port: (mute.address() as AddressInfo).port }], { tls, connectTimeoutMs: 100 }),
    ]),
  );
  const cm = new UpstreamClusters({ config: src, stats });
  t.after(() => cm.close());
  const r = await send(cm.get('refused')!);
  assert.ok(r.error instanceof UpstreamResetError);
  assert.equal(r.error.flag, 'UF');
  assert.equal(r.error.reason, 'connection_failure');
  assert.equal(r.error.beforeRequestSent, true);
  assert.match(r.error.message, /^upstream connect error or disconnect\/reset before headers\. reset reason: connection failure/);
  assert.match(r.error.transportFailure ?? '', /ECONNREFUSED/);
  assert.equal(stats.get('cluster.refused.upstream_cx_connect_fail'), 1);
  assert.equal(stats.get('cluster.refused.upstream_rq_pending_active'), 0);
  assert.equal(stats.get('cluster.refused.circuit_breakers.default.remaining_cx'), 4294967295);

  const started = Date.now();
  const slow = await send(cm.get('slowtls')!);
  assert.equal(slow.error?.flag, 'UF');
  assert.equal((slow.error as UpstreamResetError).reason, 'connection_timeout');
  assert.ok(Date.now() - started >= 90);
  assert.equal(stats.get('cluster.slowtls.upstream_cx_connect_timeout'), 1);
  assert.equal(stats.get('cluster.slowtls.upstream_cx_connect_fail'), 1);
  // TCP connect through the same cluster fails the same way.
  const tcpErr = await new Promise<UpstreamResetError | null>((resolve) => cm.get('refused')!.connect({}, (e) => resolve(e)));
  assert.equal(tcpErr?.flag, 'UF');
});

test('max requests per connection rotates connections; idle timeout and max connection duration close them', async (t) => {
  const s = await httpServer();
  t.after(() => s.close());
  const stats = new Stats();
  const src = new MemoryConfigSource(
    snapshot([
      cluster('mr', [{ port: s.port }], { maxRequestsPerConnection: 2 }),
      cluster('idle', [{ port: s.port }], { idleTimeoutMs: 50 }),
      cluster('dur', [{ port: s.port }], { maxConnectionDurationMs: 50 }),
    ]),
  );
  const cm = new UpstreamClusters({ config: src, stats });
  t.after(() => cm.close());
  for (let i = 0; i < 5; i++) assert.equal((await send(cm.get('mr')!)).status, 200);
  assert.equal(s.connections.size, 3);
  assert.equal(stats.get('cluster.mr.upstream_cx_max_requests'), 2);
  assert.equal(stats.get('cluster.mr.upstream_cx_total'), 3);

  const closedOnServer = new Promise<void>((resolve) => s.server.once('connection', (sock: Socket) => sock.once('close', () => resolve())));
  assert.equal((await send(cm.get('idle')!)).status, 200);
  await closedOnServer;
  await new Promise((r) => setImmediate(r));
  assert.equal(stats.get('cluster.idle.upstream_cx_active'), 0);
  assert.equal(cm.get('idle')!.hosts()[0].activeConnections, 0);

  const durClosed = new Promise<void>((resolve) => s.server.once('connection', (sock: Socket) => sock.once('close', () => resolve())));
  assert.equal((await send(cm.get('dur')!)).status, 200);
  await durClosed;
  assert.equal(stats.get('cluster.dur.upstream_cx_max_duration_reached'), 1);
  assert.equal((await send(cm.get('dur')!)).status, 200, 'a new connection serves the next request');
});

// Draining: HTTP/1 responses finish with `connection: close` (idle keep-alive connections stay until their next
// response or the deadline, as in Envoy), HTTP/2 sessions get GOAWAY and finish their streams, stuck connections
// closed at the deadline.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as h2connect } from 'node:http2';
import { connect } from 'node:net';
import { startProxy, startUpstream, echo, type Upstream } from './testing-harness.js';
import { TestClusterManager, hcmConfig, simpleRoutes } from './testing.js';

describe('drain', () => {
  let up: Upstream;
  const clusters = new TestClusterManager();
  let release: (() => void)[] = [];
  before(async () => {
    up = await startUpstream('up', (req, res, body, u) => {
      if (req.url === '/held') release.push(() => echo(req, res, body, u));
      else echo(req, res, body, u);
    });
    clusters.add('up', [{ address: '127.0.0.1', port: up.port }]);
  });
  after(async () => {
    await clusters.close();
    await up.close();
  });

  test('HTTP/1: in-flight and next responses get connection: close, idle ones close at the deadline, drain resolves after', async () => {
    const p = await startProxy(hcmConfig({ routeConfig: simpleRoutes('up') }), clusters);
    try {
      const idle = connect(p.port, '127.0.0.1');
      const idleClosed = new Promise<void>((r) => idle.on('close', () => r()));
      await new Promise<void>((r) => idle.on('connect', () => r()));
      idle.write('GET /warm HTTP/1.1\r\nHost: a\r\n\r\n');
      await new Promise<void>((r) => idle.once('data', () => r()));
      const busy = connect(p.port, '127.0.0.1');
      let busyData = '';
      busy.on('data', (d: Buffer) => (busyData += d.toString()));
      const busyClosed = new Promise<void>((r) => busy.on('close', () => r()));
      busy.write('GET /held HTTP/1.1\r\nHost: a\r\n\r\n');
      while (release.length === 0) await new Promise((r) => setTimeout(r, 5));
      assert.equal(p.handler.activeConnections, 2);
      let drained = false;
      let idleEnded = false;
      idle.on('close', () => (idleEnded = true));
      const started = Date.now();
      const d = p.handler.drain(800).then(() => (drained = true));
      release.shift()!();
      await busyClosed;
      assert.match(busyData, /^HTTP\/1\.1 200 /);
      assert.match(busyData, /\r\nConnection: close\r\n/i);
      assert.equal(idleEnded, false, 'an idle keep-alive connection is not closed when the drain starts');
      assert.equal(drained, false);
      // Still usable: its next response says connection: close, then the proxy closes it.
      let idleData = '';
      idle.on('data', (x: Buffer) => (idleData += x.toString()));
      idle.write('GET /again HTTP/1.1\r\nHost: a\r\n\r\n');
      await idleClosed;
      assert.match(idleData, /^HTTP\/1\.1 200 [\s\S]*\r\nConnection: close\r\n/i);
      await d;
      assert.ok(Date.now() - started < 800, 'drain resolves once every connection is gone, before the deadline');
      assert.equal(p.handler.activeConnections, 0);
    } finally {
      release = [];
      await p.close();
    }
  });

  test('HTTP/2: GOAWAY, the open stream completes', async () => {
    const p = await startProxy(hcmConfig({ routeConfig: simpleRoutes('up') }), clusters);
    try {
      const c = h2connect(`http://127.0.0.1:${p.port}`);
      const goaway = new Promise<void>((r) => c.on('goaway', () => r()));
      const r = c.request({ ':path': '/held' });
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (x: string) => (body += x));
      const ended = new Promise<void>((res) => r.on('end', () => res()));
      r.end();
      while (release.length === 0) await new Promise((res) => setTimeout(res, 5));
      const d = p.handler.drain(5000);
      await goaway;
      release.shift()!();
      await ended;
      assert.match(body, /"url":"\/held"/);
      c.close();
      await d;
    } finally {
      release = [];
      await p.close();
    }
  });

  test('connections still open at the deadline are closed', async () => {
    const p = await startProxy(hcmConfig({ routeConfig: simpleRoutes('up') }), clusters);
    try {
      const s = connect(p.port, '127.0.0.1');
      const closed = new Promise<void>((r) => s.on('close', () => r()));
      s.on('error', () => {});
      await new Promise<void>((r) => s.on('connect', () => r()));
      s.write('GET /held HTTP/1.1\r\nHost: a\r\n\r\n');
      while (release.length === 0) await new Promise((r) => setTimeout(r, 5));
      const t0 = Date.now();
      await p.handler.drain(200);
      await closed;
      assert.ok(Date.now() - t0 >= 150);
      release.shift()!();
    } finally {
      release = [];
      await p.close();
    }
  });
});

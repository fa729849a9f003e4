// Body streaming: large responses to a slow reader (backpressure, bounded memory), large uploads with and without
// a retry policy (buffer limit exceeded → streamed, no replay), trailers, and the stream idle timeout (SI).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect as h2connect, createServer as createH2Server, type Http2Server } from 'node:http2';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { get, startProxy, startUpstream, type Upstream } from './testing-harness.js';
import { TestClusterManager, hcmConfig, retryPolicy, simpleRoutes, type TestCluster } from './testing.js';

const MB = 1024 * 1024;

describe('streaming', () => {
  let up: Upstream;
  let h2up: Http2Server;
  const clusters = new TestClusterManager();
  before(async () => {
    up = await startUpstream('up', (req, res, body) => {
      if (req.url === '/big') {
        res.writeHead(200, { 'content-length': String(8 * MB) });
        const chunk = Buffer.alloc(64 * 1024, 'x');
        let written = 0;
        const pump = (): void => {
          while (written < 8 * MB) {
            written += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
        return;
      }
      if (req.url === '/stall') {
        res.writeHead(200);
        res.write('first');
        return; // never ends
      }
      if (req.url === '/never') return; // never answers
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(createHash('sha256').update(body).digest('hex') + ' ' + body.length);
    });
    h2up = createH2Server();
    h2up.on('stream', (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'text/plain' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': 'abc123' }));
      stream.end('with trailers');
    });
    await new Promise<void>((r) => h2up.listen(0, '127.0.0.1', r));
    clusters.add('up', [{ address: '127.0.0.1', port: up.port }]);
    clusters.add('h2up', [{ address: '127.0.0.1', port: (h2up.address() as AddressInfo).port }], { http2: true });
  });
  after(async () => {
    await clusters.close();
    await up.close();
    await new Promise<void>((r) => h2up.close(() => r()));
  });

  test('large response to a paused reader: the upstream is paused and resumed (backpressure)', async () => {
    const p = await startProxy(hcmConfig({ routeConfig: simpleRoutes('up') }), clusters);
    const c = clusters.get('up') as TestCluster;
    const before = { ...c.flow };
    try {
      const total = await new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: p.port, path: '/big', headers: { host: 'svc' }, agent: false }, (res) => {
          res.pause();
          setTimeout(() => {
            let n = 0;
            res.on('data', (chunk: Buffer) => (n += chunk.length));
            res.on('end', () => resolve(n));
            res.resume();
          }, 200);
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(total, 8 * MB);
      assert.ok(c.flow.pauses > before.pauses, 'the proxy paused the upstream while the client did not read');
      assert.equal(c.flow.resumes - before.resumes, c.flow.pauses - before.pauses, 'every pause was resumed');
    } finally {
      await p.close();
    }
  });

  test('uploads larger than the retry buffer are streamed (no replay); small ones are retried', async () => {
    const p = await startProxy(hcmConfig({ routeConfig: simpleRoutes('up', { retry: retryPolicy({ retryOn: ['5xx'], numRetries: 1 }) }) }), clusters);
    try {
      const body = Buffer.alloc(3 * MB, 'y');
      const r = await get(p.port, '/upload', { method: 'POST', body });
      assert.equal(r.status, 200);
      assert.equal(r.body, createHash('sha256').update(body).digest('hex') + ' ' + body.length);
    } finally {
      await p.close();
    }
  });

  test('HTTP/2 trailers are forwarded to HTTP/2 clients', async () => {
    const p = await startProxy(hcmConfig({ routeConfig: simpleRoutes('h2up') }), clusters);
    try {
      const { body, trailers } = await new Promise<{ body: string; trailers: Record<string, unknown> }>((resolve, reject) => {
        const c = h2connect(`http://127.0.0.1:${p.port}`);
        c.on('error', reject);
        const r = c.request({ ':path': '/t', te: 'trailers' });
        let b = '';
        let t: Record<string, unknown> = {};
        r.setEncoding('utf8');
        r.on('data', (d: string) => (b += d));
        r.on('trailers', (x) => (t = x));
        r.on('end', () => {
          c.close();
          resolve({ body: b, trailers: t });
        });
        r.end();
      });
      assert.equal(body, 'with trailers');
      assert.equal(trailers['x-checksum'], 'abc123');
    } finally {
      await p.close();
    }
  });

  test('stream idle timeout: 408 SI before response headers, reset after', async () => {
    const p = await startProxy(hcmConfig({ routeConfig: simpleRoutes('up'), streamIdleTimeoutMs: 150, accessLog: [{ path: 'x' }] }), clusters);
    try {
      const r = await get(p.port, '/never');
      assert.deepEqual([r.status, r.body], [408, 'stream timeout']);
      await assert.rejects(get(p.port, '/stall'));
      const logs = await p.waitLogs(2);
      assert.match(logs[0], /" 408 SI stream_idle_timeout /);
      assert.match(logs[1], /" 200 SI stream_idle_timeout /);
    } finally {
      await p.close();
    }
  });
});

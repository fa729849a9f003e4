// The HTTP/1.1 upstream connection (h1-slot.ts) against raw `net` servers writing exact bytes: long heads, 1xx,
// close-delimited bodies, connection reuse and loss, resets, backpressure, HEAD, header injection, chunked uploads,
// idle timeout and unsolicited bytes.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { UpstreamCluster } from '../runtime/contracts.js';
import type { Cluster } from '../runtime/types.js';
import { Stats } from '../telemetry/stats.js';
import { UpstreamClusters } from './cluster-manager.js';
import { cluster, Collector, header, MemoryConfigSource, req, send, snapshot } from './testing.js';

interface RawServer {
  port: number;
  /** Complete requests received (head + body), in order, across connections. */
  requests: string[];
  connections: number;
  /** Bytes received per connection. */
  received: string[];
  sockets: Set<Socket>;
}

/** A complete request in `buf` (head, and a content-length or chunked body): its length, else -1. */
function requestLength(buf: string): number {
  const h = buf.indexOf('\r\n\r\n');
  if (h < 0) return -1;
  const head = buf.slice(0, h).toLowerCase();
  const cl = /\r\ncontent-length: *(\d+)/.exec(head);
  if (cl) return buf.length >= h + 4 + Number(cl[1]) ? h + 4 + Number(cl[1]) : -1;
  if (/\r\ntransfer-encoding: *chunked/.test(head)) {
    const end = buf.indexOf('\r\n0\r\n\r\n', h);
    const first = buf.startsWith('0\r\n\r\n', h + 4) ? h + 4 : -1;
    if (first >= 0) return first + 5;
    return end < 0 ? -1 : end + 7;
  }
  return h + 4;
}

/** A raw TCP server; `respond` runs per complete request with the request text, the socket and the connection index. */
async function rawServer(t: TestContext, respond: (request: string, sock: Socket, conn: number) => void): Promise<RawServer> {
  const rs: RawServer = { port: 0, requests: [], connections: 0, received: [], sockets: new Set() };
  const server = createServer((sock) => {
    const conn = rs.connections++;
    rs.received[conn] = '';
    rs.sockets.add(sock);
    sock.on('close', () => rs.sockets.delete(sock));
    sock.on('error', () => undefined);
    let buf = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      rs.received[conn] += d;
      buf += d;
      for (let n = requestLength(buf); n >= 0; n = requestLength(buf)) {
        const r = buf.slice(0, n);
        buf = buf.slice(n);
        rs.requests.push(r);
        respond(r, sock, conn);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  rs.port = (server.address() as AddressInfo).port;
  t.after(async () => {
    for (const s of rs.sockets) s.destroy();
    server.close();
    await once(server, 'close');
  });
  return rs;
}

function clusterFor(t: TestContext, port: number, over: Partial<Cluster> = {}): { c: UpstreamCluster; stats: Stats } {
  const stats = new Stats();
  const cm = new UpstreamClusters({ config: new MemoryConfigSource(snapshot([cluster('c', [{ port }], over)])), stats });
  t.after(() => cm.close());
  return { c: cm.get('c')!, stats };
}

/** Waits (bounded, event-loop turns) until `cond` holds: for state the proxy reaches after a socket event. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
  assert.ok(cond(), `timed out waiting for ${what}`);
}

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

test('a response head with more than 32 headers arrives whole (llhttp flushes them early)', async (t) => {
  let head = 'HTTP/1.1 200 OK\r\n';
  for (let i = 0; i < 70; i++) head += `X-H${i}: v${i}\r\n`;
  const s = await rawServer(t, (_r, sock) => sock.write(head + 'content-length: 4\r\n\r\nbody'));
  const { c } = clusterFor(t, s.port);
  for (let k = 0; k < 2; k++) {
    const r = await send(c);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'body');
    for (let i = 0; i < 70; i++) assert.equal(header(r.headers, `x-h${i}`), `v${i}`);
    assert.equal(header(r.headers, 'content-length'), '4');
    assert.equal(r.headers.length, 71 * 2);
  }
  assert.equal(s.connections, 1);
});

test('1xx responses (100 Continue, 103 Early Hints) are skipped: one final response is delivered', async (t) => {
  const s = await rawServer(t, (r, sock) => {
    if (r.startsWith('POST')) sock.write('HTTP/1.1 100 Continue\r\n\r\n' + 'HTTP/1.1 201 Created\r\ncontent-length: 3\r\n\r\nnew');
    else sock.write('HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n' + 'HTTP/1.1 200 OK\r\nx-final: 1\r\ncontent-length: 2\r\n\r\nok');
  });
  const { c } = clusterFor(t, s.port);
  const h = new Collector();
  let heads = 0;
  const onHeaders = h.onHeaders.bind(h);
  h.onHeaders = (st, hs) => (heads++, onHeaders(st, hs));
  c.dispatch(req({ method: 'POST', headers: ['host', 'a', 'content-length', '1', 'expect', '100-continue'], body: Readable.from([Buffer.from('x')]) }), h);
  const r1 = await h.done;
  assert.equal(r1.status, 201);
  assert.equal(r1.body, 'new');
  assert.equal(heads, 1);
  const r2 = await send(c);
  assert.equal(r2.status, 200);
  assert.equal(header(r2.headers, 'x-final'), '1');
  assert.equal(header(r2.headers, 'link'), undefined);
  assert.equal(r2.body, 'ok');
  assert.equal(s.connections, 1);
});

test('a close-delimited body (no length, no chunking) is complete at FIN; the connection is not reused', async (t) => {
  const big = 'z'.repeat(200_000);
  const s = await rawServer(t, (_r, sock) => sock.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n' + big));
  const { c, stats } = clusterFor(t, s.port);
  const r = await send(c);
  assert.equal(r.error, undefined);
  assert.equal(r.body.length, big.length);
  assert.equal(r.body, big);
  const r2 = await send(c);
  assert.equal(r2.body, big);
  assert.equal(stats.get('cluster.c.upstream_cx_total'), 2);
});

test('`connection: close` in a response: next request on a new connection, no error', async (t) => {
  const s = await rawServer(t, (_r, sock, conn) => {
    if (conn === 0) sock.write('HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 5\r\n\r\nfirst'); // FIN not sent
    else sock.write(OK);
  });
  const { c, stats } = clusterFor(t, s.port);
  const r1 = await send(c);
  assert.equal(r1.body, 'first');
  const r2 = await send(c);
  assert.equal(r2.error, undefined);
  assert.equal(r2.body, 'ok');
  assert.equal(stats.get('cluster.c.upstream_cx_total'), 2);
  assert.equal(s.requests.length, 2);
});

test('an upstream that closes an idle keep-alive connection: the next request goes on a new connection', async (t) => {
  const s = await rawServer(t, (_r, sock) => {
    sock.write(OK);
    // Closes the idle connection right after the response (a short keep-alive timeout on the server).
    setImmediate(() => sock.end());
  });
  const { c, stats } = clusterFor(t, s.port);
  assert.equal((await send(c)).body, 'ok');
  await until(() => stats.get('cluster.c.upstream_cx_active') === 0, 'the proxy to see the FIN');
  const r = await send(c);
  assert.equal(r.error, undefined);
  assert.equal(r.status, 200);
  assert.equal(stats.get('cluster.c.upstream_cx_total'), 2);
  assert.equal(stats.get('cluster.c.upstream_cx_destroy'), 1);
});

test('an upstream reset mid-body fails the request as a connection termination (UC)', async (t) => {
  const s = await rawServer(t, (_r, sock) => {
    sock.write('HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n' + 'p'.repeat(1000), () => sock.resetAndDestroy());
  });
  const { c, stats } = clusterFor(t, s.port);
  const r = await send(c);
  assert.equal(r.status, 200);
  assert.ok(r.error, 'the truncated response is an error');
  assert.equal(r.error.flag, 'UC');
  assert.ok(r.body.length <= 1000);
  await until(() => stats.get('cluster.c.upstream_cx_active') === 0, 'the connection to close');
  assert.equal(stats.get('cluster.c.upstream_rq_active'), 0);
});

for (const shape of ['content-length', 'chunked', 'close-delimited'] as const) {
  test(`backpressure (${shape}): a stalled consumer stops the upstream; a slow one gets every byte in order`, async (t) => {
    const size = 24 * 1024 * 1024;
    const body = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4) body.writeUInt32LE(i, i);
    let off = 0;
    const s = await rawServer(t, (_r, sock) => {
      const head = shape === 'content-length' ? `content-length: ${size}\r\n` : shape === 'chunked' ? 'transfer-encoding: chunked\r\n' : '';
      sock.write(`HTTP/1.1 200 OK\r\n${head}\r\n`);
      const pump = (): void => {
        while (off < size) {
          const part = body.subarray(off, off + 65536);
          off += part.length;
          const ok = sock.write(shape === 'chunked' ? Buffer.concat([Buffer.from(part.length.toString(16) + '\r\n'), part, Buffer.from('\r\n')]) : part);
          if (!ok) return void sock.once('drain', pump);
        }
        if (shape === 'chunked') sock.write('0\r\n\r\n');
        if (shape === 'close-delimited') sock.end();
      };
      pump();
    });
    const { c } = clusterFor(t, s.port);
    let stalled = true;
    let pauses = 0;
    // Stalled first (never resumes), then one chunk per event-loop turn: every chunk returns false.
    class Slow extends Collector {
      resume: (() => void) | undefined;
      override onHeaders(status: number, headers: string[], resume?: () => void): boolean {
        this.resume = resume;
        return super.onHeaders(status, headers);
      }
      override onData(chunk: Buffer): boolean {
        this.chunks.push(chunk);
        pauses++;
        if (!stalled) setImmediate(this.resume!);
        return false;
      }
    }
    const h = new Slow();
    c.dispatch(req(), h);
    // The upstream writes until the socket buffers are full, then waits for 'drain' that a paused reader never gives.
    let last = -1;
    for (let i = 0; i < 500 && (off !== last || off === 0); i++) {
      last = off;
      await new Promise((r) => setTimeout(r, 30));
    }
    assert.ok(off < size / 2, `upstream stopped after ${off} of ${size} bytes`);
    stalled = false;
    h.resume!();
    const r = await h.done;
    assert.equal(r.error, undefined);
    const got = Buffer.concat(h.chunks);
    assert.equal(got.length, size);
    assert.ok(got.equals(body), 'bytes in order');
    assert.ok(pauses > 10);
  });
}

test('HEAD: a response with content-length and no body completes; the connection stays usable', async (t) => {
  const s = await rawServer(t, (r, sock) => sock.write(r.startsWith('HEAD') ? 'HTTP/1.1 200 OK\r\ncontent-length: 12345\r\n\r\n' : OK));
  const { c } = clusterFor(t, s.port);
  const r = await send(c, { method: 'HEAD' });
  assert.equal(r.error, undefined);
  assert.equal(r.status, 200);
  assert.equal(header(r.headers, 'content-length'), '12345');
  assert.equal(r.body, '');
  assert.equal((await send(c)).body, 'ok');
  assert.equal(s.connections, 1);
});

test('a request header with CR/LF is refused locally: nothing is sent upstream; the connection stays usable', async (t) => {
  const s = await rawServer(t, (_r, sock) => sock.write(OK));
  const { c } = clusterFor(t, s.port);
  assert.equal((await send(c)).body, 'ok');
  for (const [n, v] of [
    ['x-evil', 'a\r\nx-injected: 1'],
    ['x-evil', 'a\nb'],
    ['x-evil\r\nx-injected', 'v'],
  ]) {
    const r = await send(c, { headers: ['host', 'a', n, v] });
    assert.ok(r.error, `refused: ${JSON.stringify(n + ': ' + v)}`);
    assert.equal(r.error.flag, 'UC');
    assert.equal((r.error as { beforeRequestSent?: boolean }).beforeRequestSent, true);
  }
  assert.equal((await send(c)).body, 'ok');
  assert.equal(s.requests.length, 2);
  assert.doesNotMatch(s.received.join(''), /x-evil|x-injected/);
});

test('a request body without content-length is sent chunked and arrives intact', async (t) => {
  const s = await rawServer(t, (_r, sock) => sock.write(OK));
  const { c } = clusterFor(t, s.port);
  const parts = ['hello ', '', 'chunked ', 'x'.repeat(70_000), ' world'];
  const r = await send(c, { method: 'POST', headers: ['host', 'a'], body: Readable.from(parts.map((p) => Buffer.from(p))) });
  assert.equal(r.body, 'ok');
  const sent = s.requests[0];
  assert.match(sent, /^POST \/ HTTP\/1\.1\r\n/);
  assert.match(sent, /\r\ntransfer-encoding: chunked\r\n/);
  assert.doesNotMatch(sent, /content-length/);
  // De-chunk what arrived.
  let rest = sent.slice(sent.indexOf('\r\n\r\n') + 4);
  let bodyGot = '';
  for (;;) {
    const nl = rest.indexOf('\r\n');
    const n = parseInt(rest.slice(0, nl), 16);
    if (n === 0) break;
    bodyGot += rest.slice(nl + 2, nl + 2 + n);
    assert.equal(rest.slice(nl + 2 + n, nl + 4 + n), '\r\n');
    rest = rest.slice(nl + 4 + n);
  }
  assert.equal(bodyGot, parts.join(''));
  // Empty body stream: still framed (the terminating chunk only).
  const r2 = await send(c, { method: 'POST', headers: ['host', 'a'], body: Readable.from([]) });
  assert.equal(r2.body, 'ok');
  assert.match(s.requests[1], /\r\n\r\n0\r\n\r\n$/);
});

test('idle timeout closes an unused connection (cx_destroy, cx_active back to 0)', async (t) => {
  const s = await rawServer(t, (_r, sock) => sock.write(OK));
  const { c, stats } = clusterFor(t, s.port, { idleTimeoutMs: 100 });
  const t0 = Date.now();
  assert.equal((await send(c)).body, 'ok');
  assert.equal(stats.get('cluster.c.upstream_cx_active'), 1);
  await until(() => s.sockets.size === 0, 'the upstream connection to close');
  assert.ok(Date.now() - t0 >= 90);
  assert.equal(stats.get('cluster.c.upstream_cx_active'), 0);
  assert.equal(stats.get('cluster.c.upstream_cx_destroy'), 1);
  assert.equal((await send(c)).body, 'ok');
  assert.equal(stats.get('cluster.c.upstream_cx_total'), 2);
});

test('bytes after a complete response (an extra response) never answer the next request', async (t) => {
  const s = await rawServer(t, (_r, sock, conn) => {
    if (conn === 0) sock.write(OK + 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nstale');
    else sock.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfresh');
  });
  const { c } = clusterFor(t, s.port);
  assert.equal((await send(c)).body, 'ok');
  const r = await send(c);
  assert.equal(r.error, undefined);
  assert.equal(r.body, 'fresh');
});

test('an exception in a response callback fails that request and closes the connection, not the process', async (t) => {
  const s = await rawServer(t, (_r, sock) => sock.write(OK));
  const { c, stats } = clusterFor(t, s.port);
  const h = new Collector();
  h.onData = () => {
    throw new Error('handler bug');
  };
  c.dispatch(req(), h);
  const r = await h.done;
  assert.ok(r.error);
  await until(() => stats.get('cluster.c.upstream_cx_active') === 0, 'the connection to close');
  assert.equal((await send(c)).body, 'ok');
});

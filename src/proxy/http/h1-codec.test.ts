// The downstream HTTP/1.1 codec (h1.ts) with raw `net` clients: pipelining, long heads, HTTP/1.0, response framing
// (chunked, close-delimited, HEAD, 204, trailers), half-close, client disconnects, local replies before the body,
// malformed bytes, and floods of tiny pipelined requests.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { rawExchange, startProxy, startUpstream, type ProxyUnderTest, type Upstream } from './testing-harness.js';
import { TestClusterManager, hcmConfig, route, routeAction, routeTable, simpleRoutes, vhost } from './testing.js';

interface Parsed {
  status: number;
  /** Lower-case names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  body: string;
  trailers: Record<string, string>;
  framing: 'length' | 'chunked' | 'close' | 'none';
}

/** Parses consecutive responses from raw bytes; `noBody[i]` marks responses to HEAD. */
function parseResponses(raw: string, noBody: boolean[] = []): Parsed[] {
  const out: Parsed[] = [];
  let rest = raw;
  while (rest.length > 0) {
    const h = rest.indexOf('\r\n\r\n');
    assert.ok(h > 0, `incomplete head: ${JSON.stringify(rest.slice(0, 200))}`);
    const lines = rest.slice(0, h).split('\r\n');
    const m = /^HTTP\/1\.1 (\d{3}) /.exec(lines[0]);
    assert.ok(m, `bad status line: ${JSON.stringify(lines[0])}`);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      const n = l.slice(0, i).toLowerCase();
      const v = l.slice(i + 1).trim();
      headers[n] = n in headers ? headers[n] + ', ' + v : v;
    }
    rest = rest.slice(h + 4);
    const status = Number(m[1]);
    const r: Parsed = { status, headers, body: '', trailers: {}, framing: 'none' };
    if (status === 100) {
      out.push(r);
      continue;
    }
    if (noBody[out.filter((x) => x.status !== 100).length] || status === 204 || status === 304) {
      // no body
    } else if (headers['transfer-encoding'] === 'chunked') {
      r.framing = 'chunked';
      for (;;) {
        const nl = rest.indexOf('\r\n');
        const n = parseInt(rest.slice(0, nl), 16);
        rest = rest.slice(nl + 2);
        if (n === 0) break;
        r.body += rest.slice(0, n);
        assert.equal(rest.slice(n, n + 2), '\r\n');
        rest = rest.slice(n + 2);
      }
      for (;;) {
        const nl = rest.indexOf('\r\n');
        const line = rest.slice(0, nl);
        rest = rest.slice(nl + 2);
        if (line === '') break;
        const i = line.indexOf(':');
        r.trailers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
    } else if (headers['content-length'] !== undefined) {
      r.framing = 'length';
      const n = Number(headers['content-length']);
      r.body = rest.slice(0, n);
      rest = rest.slice(n);
    } else {
      r.framing = 'close';
      r.body = rest;
      rest = '';
    }
    out.push(r);
  }
  return out;
}

/** A raw client: collects everything received; `closed` resolves at the server's close. */
function client(port: number): { s: Socket; data: () => string; closed: Promise<void>; waitFor: (re: RegExp) => Promise<void> } {
  const s = connect(port, '127.0.0.1');
  let data = '';
  let wake: (() => void) | null = null;
  s.setEncoding('latin1');
  s.on('data', (d: string) => {
    data += d;
    wake?.();
  });
  s.on('error', () => undefined);
  const closed = new Promise<void>((r) => s.on('close', () => r()));
  return {
    s,
    data: () => data,
    closed,
    async waitFor(re: RegExp): Promise<void> {
      const done = closed.then(() => 'closed');
      while (!re.test(data)) {
        const why = await Promise.race([new Promise<string>((r) => (wake = () => r('data'))), done]);
        if (why === 'closed' && !re.test(data)) assert.fail(`closed before ${re}: ${JSON.stringify(data.slice(0, 300))}`);
      }
    },
  };
}

describe('http/1 codec edge cases', () => {
  let up: Upstream;
  let p: ProxyUnderTest;
  const clusters = new TestClusterManager();
  /** Upstream requests whose body never completed (the proxy aborted them). */
  const aborted: string[] = [];
  let gotHead: (() => void) | null = null;
  before(async () => {
    up = await startUpstream('up', (req, res, body) => {
      const u = req.url ?? '';
      if (u === '/nolength') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('part1-');
        setImmediate(() => res.end('part2'));
      } else if (u === '/head') {
        res.writeHead(200, { 'content-length': '11' });
        res.end();
      } else if (u === '/204') {
        res.writeHead(204, { 'x-empty': '1' });
        res.end();
      } else if (u === '/trailers') {
        res.writeHead(200, { trailer: 'x-checksum' });
        res.write('with ');
        res.addTrailers({ 'x-checksum': 'abc' });
        res.end('trailers');
      } else if (u === '/wait') {
        setTimeout(() => res.end('waited'), 400);
      } else if (u.startsWith('/slow')) {
        setTimeout(() => res.end(`slow:${u}`), 30);
      } else {
        res.setHeader('content-type', 'text/plain');
        res.end(`${req.method} ${u} ${body}`);
      }
    });
    up.server.prependListener('request', (req) => {
      if (req.url !== '/upload') return;
      gotHead?.();
      req.on('close', () => {
        if (!req.complete) aborted.push(req.url ?? '');
      });
    });
    clusters.add('up', [{ address: '127.0.0.1', port: up.port }]);
    const routes = routeTable([vhost({ domains: ['svc', 'a'], routes: [route({ name: 'r', action: routeAction({ cluster: 'up' }) })] })]);
    p = await startProxy(hcmConfig({ routeConfig: routes, accessLog: [{ path: 'x' }] }), clusters);
  });
  after(async () => {
    await p.close();
    await clusters.close();
    await up.close();
  });

  test('three pipelined requests in one write (one POST with a body): responses in order, bodies included', async () => {
    const out = await rawExchange(
      p.port,
      'GET /one HTTP/1.1\r\nHost: a\r\n\r\n' +
        'POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello' +
        'GET /slow/three HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    );
    const rs = parseResponses(out);
    assert.deepEqual(
      rs.map((r) => [r.status, r.body]),
      [
        [200, 'GET /one '],
        [200, 'POST /two hello'],
        [200, 'slow:/slow/three'],
      ],
    );
    assert.equal(rs[2].headers.connection, 'close');
  });

  test('a request with more headers than llhttp buffers (> 32) reaches the upstream whole', async () => {
    let h = '';
    for (let i = 0; i < 90; i++) h += `X-H${i}: v${i}\r\n`;
    const before = up.seen.length;
    const out = await rawExchange(p.port, `GET /many?q=${'x'.repeat(3000)} HTTP/1.1\r\nHost: a\r\n${h}Connection: close\r\n\r\n`);
    assert.match(out, /^HTTP\/1\.1 200 /);
    const seen = up.seen[before];
    assert.equal(seen.url, `/many?q=${'x'.repeat(3000)}`);
    for (let i = 0; i < 90; i++) assert.equal(seen.headers[`x-h${i}`], `v${i}`);
  });

  test('HTTP/1.0: closed after the response without keep-alive; kept open with it', async () => {
    const out = await rawExchange(p.port, 'GET /ten HTTP/1.0\r\nHost: a\r\n\r\n');
    const [r] = parseResponses(out);
    assert.equal(r.status, 200);
    assert.equal(r.headers.connection, 'close');
    assert.equal(r.body, 'GET /ten ');
    const c = client(p.port);
    c.s.write('GET /ka1 HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n');
    await c.waitFor(/GET \/ka1 $/);
    assert.match(c.data(), /\r\nconnection: keep-alive\r\n/i);
    c.s.write('GET /ka2 HTTP/1.0\r\nHost: a\r\n\r\n');
    await c.closed;
    assert.deepEqual(
      parseResponses(c.data()).map((x) => x.body),
      ['GET /ka1 ', 'GET /ka2 '],
    );
  });

  test('a response without content-length: chunked to HTTP/1.1, close-delimited to HTTP/1.0', async () => {
    const c = client(p.port);
    c.s.write('GET /nolength HTTP/1.1\r\nHost: a\r\n\r\n');
    await c.waitFor(/\r\n0\r\n\r\n$/);
    const [r11] = parseResponses(c.data());
    assert.equal(r11.framing, 'chunked');
    assert.equal(r11.body, 'part1-part2');
    c.s.destroy();
    const out = await rawExchange(p.port, 'GET /nolength HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n');
    const [r10] = parseResponses(out);
    assert.equal(r10.framing, 'close');
    assert.equal(r10.headers['transfer-encoding'], undefined);
    assert.equal(r10.headers.connection, 'close');
    assert.equal(r10.body, 'part1-part2');
  });

  test('HEAD and 204: no body bytes, and the connection stays in step for the next request', async () => {
    const out = await rawExchange(
      p.port,
      'HEAD /head HTTP/1.1\r\nHost: a\r\n\r\n' + 'GET /204 HTTP/1.1\r\nHost: a\r\n\r\n' + 'GET /after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    );
    const rs = parseResponses(out, [true]);
    assert.equal(rs.length, 3);
    assert.equal(rs[0].headers['content-length'], '11');
    assert.equal(rs[0].headers['transfer-encoding'], undefined);
    assert.equal(rs[1].status, 204);
    assert.equal(rs[1].headers['x-empty'], '1');
    assert.equal(rs[1].headers['content-length'], undefined);
    assert.equal(rs[1].headers['transfer-encoding'], undefined);
    assert.equal(rs[2].body, 'GET /after ');
  });

  test('trailers are forwarded only to a client that sent `te: trailers`', async () => {
    const withTe = parseResponses(await rawExchange(p.port, 'GET /trailers HTTP/1.1\r\nHost: a\r\nTE: trailers\r\nConnection: close\r\n\r\n'))[0];
    assert.equal(withTe.body, 'with trailers');
    assert.deepEqual(withTe.trailers, { 'x-checksum': 'abc' });
    const without = parseResponses(await rawExchange(p.port, 'GET /trailers HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'))[0];
    assert.equal(without.body, 'with trailers');
    assert.deepEqual(without.trailers, {});
  });

  test('a client that half-closes after complete (pipelined) requests still gets every response', async () => {
    const c = client(p.port);
    c.s.end('GET /slow/h1 HTTP/1.1\r\nHost: a\r\n\r\n' + 'GET /h2 HTTP/1.1\r\nHost: a\r\n\r\n');
    await c.closed;
    const rs = parseResponses(c.data());
    assert.deepEqual(
      rs.map((r) => r.body),
      ['slow:/slow/h1', 'GET /h2 '],
    );
    assert.equal(rs[1].headers.connection, 'close');
  });

  test('a client that disconnects mid-body: the upstream request is aborted; access log DC', async () => {
    const c = client(p.port);
    const head = new Promise<void>((r) => (gotHead = r));
    c.s.write('POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n' + 'x'.repeat(1000));
    await head;
    const n = p.logs.length;
    c.s.destroy();
    const logs = await p.waitLogs(n + 1);
    assert.match(logs[n], /"POST \/upload HTTP\/1\.1" 0 DC /);
    for (let i = 0; i < 500 && aborted.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(aborted, ['/upload']);
  });

  test('a local reply (404 NR) to a POST whose body is still arriving carries `connection: close`', async () => {
    const c = client(p.port);
    c.s.write('POST /x HTTP/1.1\r\nHost: unknown\r\nContent-Length: 100000\r\n\r\n' + 'x'.repeat(100));
    await c.closed;
    const [r] = parseResponses(c.data());
    assert.equal(r.status, 404);
    assert.equal(r.headers.connection, 'close');
  });

  const malformed: [string, string][] = [
    ['NUL in the request target', 'GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['NUL in a header value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n'],
    ['bare CR in a header value', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n'],
    ['bare CR ending the request line', 'GET / HTTP/1.1\rHost: a\r\n\r\n'],
    ['NUL in a header name', 'GET / HTTP/1.1\r\nHost: a\r\nX-\0A: b\r\n\r\n'],
  ];
  for (const [name, bytes] of malformed) {
    test(`rejects ${name} with 400 before the upstream`, async () => {
      const before = up.seen.length;
      const out = await rawExchange(p.port, bytes);
      assert.match(out, /^HTTP\/1\.1 400 /);
      assert.equal(up.seen.length, before);
    });
  }

  test('a bad request pipelined behind a good one: the good one is answered first, then 400 and close', async () => {
    const out = await rawExchange(p.port, 'GET /slow/good HTTP/1.1\r\nHost: a\r\n\r\n' + 'GET /\0bad HTTP/1.1\r\nHost: a\r\n\r\n');
    const rs = parseResponses(out);
    assert.deepEqual(
      rs.map((r) => [r.status, r.body]),
      [
        [200, 'slow:/slow/good'],
        [400, 'Bad Request'],
      ],
    );
  });

  test('`expect: 100-continue` on a pipelined request is sent after the responses before it, never inside one', async () => {
    const out = await rawExchange(
      p.port,
      'GET /nolength HTTP/1.1\r\nHost: a\r\n\r\n' + 'POST /cont HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc',
    );
    const rs = parseResponses(out);
    assert.deepEqual(
      rs.map((r) => [r.status, r.body]),
      [
        [200, 'part1-part2'],
        [100, ''],
        [200, 'POST /cont abc'],
      ],
    );
  });

  for (const [kind, host] of [
    ['local replies', 'unknown'],
    ['proxied requests', 'a'],
  ]) {
    test(`a flood of tiny pipelined requests in one write (${kind}): all answered in order, bounded`, async () => {
      const n = kind === 'local replies' ? 10_000 : 8000;
      // The first one waits for the upstream, so the rest queue up behind it (local replies then complete at once).
      let req = 'GET /slow/first HTTP/1.1\r\nHost: a\r\n\r\n';
      for (let i = 1; i < n; i++) req += `GET /f${i} HTTP/1.1\r\nHost: ${host}\r\n${i === n - 1 ? 'Connection: close\r\n' : ''}\r\n`;
      let maxActive = 0;
      let sampling = true;
      const sample = (): void => {
        maxActive = Math.max(maxActive, p.stats.get('http.test.downstream_rq_active') ?? 0);
        if (sampling) setImmediate(sample);
      };
      sample();
      const out = await rawExchange(p.port, req, 20_000);
      sampling = false;
      const rs = parseResponses(out);
      assert.equal(rs.length, n);
      assert.equal(rs[0].body, 'slow:/slow/first');
      if (kind === 'proxied requests') for (let i = 1; i < n; i++) assert.equal(rs[i].body, `GET /f${i} `);
      else assert.ok(rs.slice(1).every((r) => r.status === 404));
      // Reading stops while requests wait: what is parsed ahead is bounded by one socket read.
      assert.ok(maxActive > 100, `requests were queued (saw ${maxActive})`);
      assert.ok(maxActive <= 65536 / 20, `at most one read's worth in flight (saw ${maxActive})`);
    });
  }

  test('requests left unread behind a slow one (reading paused) do not hit the header timeout', async () => {
    const q = await startProxy(hcmConfig({ routeConfig: simpleRoutes('up'), requestHeadersTimeoutMs: 100 }), clusters);
    try {
      // More than one socket read: the head straddling the read boundary is only read once the slow request is done.
      const n = 3000;
      let req = 'GET /wait HTTP/1.1\r\nHost: a\r\n\r\n';
      for (let i = 1; i < n; i++) req += `GET /f${i} HTTP/1.1\r\nHost: a\r\nX-Pad: ${'p'.repeat(40)}\r\n${i === n - 1 ? 'Connection: close\r\n' : ''}\r\n`;
      assert.ok(req.length > 128 * 1024);
      const rs = parseResponses(await rawExchange(q.port, req, 20_000));
      assert.equal(rs.length, n);
      assert.equal(rs[0].body, 'waited');
      for (let i = 1; i < n; i++) assert.equal(rs[i].body, `GET /f${i} `);
    } finally {
      await q.close();
    }
  });

  test('request trailers (chunked upload) never turn into headers of the next request on the connection', async () => {
    let h = '';
    for (let i = 0; i < 40; i++) h += `X-H${i}: v${i}\r\n`;
    const before = up.seen.length;
    const out = await rawExchange(
      p.port,
      'POST /t1 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Trailer: smuggled\r\n\r\n' +
        `GET /t2 HTTP/1.1\r\nHost: a\r\n${h}Connection: close\r\n\r\n`,
    );
    assert.deepEqual(
      parseResponses(out).map((r) => r.body),
      ['POST /t1 abc', 'GET /t2 '],
    );
    const second = up.seen[before + 1];
    assert.equal(second.url, '/t2');
    assert.equal(second.headers['x-trailer'], undefined);
    assert.equal(second.headers['x-h39'], 'v39');
  });
});

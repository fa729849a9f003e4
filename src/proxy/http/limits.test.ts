// Hostile-client limits over raw sockets: request smuggling shapes → 400, header size/count → 431, slowloris
// header timeout → 408 and close, keep-alive reuse, 100-continue, curl edge cases.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { rawExchange, startProxy, startUpstream, type ProxyUnderTest, type Upstream } from './testing-harness.js';
import { TestClusterManager, hcmConfig, simpleRoutes } from './testing.js';

const run = promisify(execFile);

describe('http/1 limits and smuggling', () => {
  let up: Upstream;
  let p: ProxyUnderTest;
  const clusters = new TestClusterManager();
  before(async () => {
    up = await startUpstream('up');
    clusters.add('up', [{ address: '127.0.0.1', port: up.port }]);
    p = await startProxy(hcmConfig({ routeConfig: simpleRoutes('up'), maxRequestHeadersKb: 4, maxHeadersCount: 20, requestHeadersTimeoutMs: 300, accessLog: [{ path: 'x' }] }), clusters);
  });
  after(async () => {
    await p.close();
    await clusters.close();
    await up.close();
  });

  const cases: [string, string][] = [
    ['CL + TE', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['duplicate differing CL', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde'],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n  c\r\n\r\n'],
    ['invalid chunk size', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n'],
    ['TE not ending in chunked', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n'],
    ['space before colon', 'GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n'],
    ['bare LF', 'GET / HTTP/1.1\nHost: a\n\n'],
    ['missing host (HTTP/1.1)', 'GET / HTTP/1.1\r\n\r\n'],
  ];
  for (const [name, req] of cases) {
    test(`rejects ${name} with 400 and never reaches the upstream`, async () => {
      const before = up.seen.length;
      const out = await rawExchange(p.port, req);
      assert.match(out, /^HTTP\/1\.1 400 /);
      assert.equal(up.seen.length, before);
    });
  }

  test('header section larger than max_request_headers_kb (incl. request line) → 431', async () => {
    const out = await rawExchange(p.port, `GET /${'a'.repeat(5000)} HTTP/1.1\r\nHost: a\r\n\r\n`);
    assert.match(out, /^HTTP\/1\.1 431 /);
    const out2 = await rawExchange(p.port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(5000)}\r\n\r\n`);
    assert.match(out2, /^HTTP\/1\.1 431 /);
    const logs = await p.waitLogs(1);
    assert.ok(logs.some((l) => / 431 DPE http1\.headers_too_large /.test(l)));
  });

  test('more headers than max_headers_count → 431', async () => {
    let h = '';
    for (let i = 0; i < 25; i++) h += `X-H${i}: v\r\n`;
    const out = await rawExchange(p.port, `GET / HTTP/1.1\r\nHost: a\r\n${h}\r\n`);
    assert.match(out, /^HTTP\/1\.1 431 /);
  });

  test('slowloris: headers not complete within the header timeout → 408 and closed', async () => {
    const t0 = Date.now();
    const out = await new Promise<string>((resolve) => {
      const s = connect(p.port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: a\r\nX-Slow: '));
      let data = '';
      s.setEncoding('latin1');
      s.on('data', (d: string) => (data += d));
      s.on('close', () => resolve(data));
      s.setTimeout(5000, () => s.destroy());
    });
    const took = Date.now() - t0;
    assert.match(out, /^HTTP\/1\.1 408 /);
    assert.ok(took >= 250 && took < 3000, `closed after ${took} ms`);
  });

  test('keep-alive: two requests on one connection; chunked request body forwarded', async () => {
    const out = await rawExchange(
      p.port,
      'POST /one HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' + 'GET /two HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    );
    const responses = out.split(/(?=HTTP\/1\.1 )/);
    assert.equal(responses.length, 2);
    assert.match(responses[0], /^HTTP\/1\.1 200 /);
    assert.match(responses[0], /"body":"hello"/);
    assert.match(responses[1], /"url":"\/two"/);
  });

  test('keep-alive idle timeout closes an idle connection', async () => {
    const q = await startProxy(hcmConfig({ routeConfig: simpleRoutes('up'), idleTimeoutMs: 200 }), clusters);
    try {
      const t0 = Date.now();
      const out = await rawExchange(q.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', 5000);
      const took = Date.now() - t0;
      assert.match(out, /^HTTP\/1\.1 200 /);
      assert.ok(took >= 180 && took < 2000, `closed after ${took} ms`);
    } finally {
      await q.close();
    }
  });

  test('curl: 100-continue upload and HTTP/1.0', async () => {
    const { stdout } = await run('curl', ['-s', '-H', 'Expect: 100-continue', '--data-binary', 'x'.repeat(2048), '-w', '\n%{http_code}', `http://127.0.0.1:${p.port}/upload`]);
    const [body, code] = stdout.split('\n');
    assert.equal(code, '200');
    assert.equal((JSON.parse(body) as { body: string }).body.length, 2048);
    const r10 = await run('curl', ['-s', '-0', '-w', '\n%{http_code}', `http://127.0.0.1:${p.port}/ten`]);
    assert.match(r10.stdout, /\n200$/);
  });
});

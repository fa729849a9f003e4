// Tests for the sleep workload's curl: argument parsing, requests through an HTTP proxy, output, and both CLIs as processes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { fakeServer, forwardProxy, json } from '../bookinfo/src/common/test-support.js';
import { curl, formatReply, parseCurlArgs } from './request.js';

test('parseCurlArgs understands -H, -X, -d, -x, -m, -i, -f and a bare host', () => {
  const r = parseCurlArgs(['-s', 'httpbin:8000/get', '-H', 'End-User: jason', '-H', 'x-a:1', '-m', '2', '-i', '-f']);
  assert.ok(r.ok);
  assert.deepEqual(r.options, {
    url: 'http://httpbin:8000/get',
    method: 'GET',
    headers: { 'end-user': 'jason', 'x-a': '1' },
    data: undefined,
    proxy: undefined,
    timeoutMs: 2000,
    include: true,
    fail: true,
  });
  const post = parseCurlArgs(['http://h/post', '-d', 'a=1', '-x', 'http://127.0.0.1:15001']);
  assert.ok(post.ok);
  assert.equal(post.options.method, 'POST');
  assert.equal(post.options.headers['content-type'], 'application/x-www-form-urlencoded');
  assert.equal(post.options.proxy, 'http://127.0.0.1:15001');
  const bad = parseCurlArgs(['-H', 'nocolon', '--zap']);
  assert.ok(!bad.ok);
  assert.deepEqual(bad.errors, ['bad header "nocolon" (want \'Name: value\')', 'unknown option --zap', 'missing URL']);
});

test('curl sends the absolute URI to the proxy and returns status and body', async (t) => {
  const httpbin = await fakeServer((_q, res) => json(res, 503, { hello: 'world' }));
  const proxy = await forwardProxy({ httpbin: httpbin.url });
  t.after(async () => {
    await proxy.close();
    await httpbin.close();
  });
  const p = parseCurlArgs(['http://httpbin:8000/status/503', '-H', 'end-user: jason']);
  assert.ok(p.ok);
  const out = await curl(p.options, proxy.url);
  assert.ok(out.ok);
  assert.equal(out.reply.status, 503);
  assert.equal(out.reply.body, '{"hello":"world"}');
  assert.equal(proxy.requests[0]?.target, 'http://httpbin:8000/status/503');
  assert.equal(proxy.requests[0]?.headers.host, 'httpbin:8000');
  assert.equal(httpbin.requests[0]?.headers['end-user'], 'jason');
  assert.equal(formatReply(out.reply, false), 'HTTP/1.1 503 Service Unavailable\n\n{"hello":"world"}\n');
  assert.match(formatReply(out.reply, true), /^HTTP\/1\.1 503 Service Unavailable\ncontent-type: application\/json\n[\s\S]*\n\n\{"hello":"world"\}\n$/);

  const refused = await curl({ ...p.options, url: 'http://127.0.0.1:1/' }, undefined);
  assert.ok(!refused.ok && !refused.timeout);
});

const HERE = (f: string) => fileURLToPath(new URL(f, import.meta.url));

test('curl.ts uses HTTP_PROXY from the environment, prints status + body, and -f sets exit 22', async (t) => {
  const httpbin = await fakeServer((_q, res) => json(res, 500, { error: 'x' }));
  const proxy = await forwardProxy({ httpbin: httpbin.url });
  t.after(async () => {
    await proxy.close();
    await httpbin.close();
  });
  const child = spawn(process.execPath, ['--import', 'tsx', HERE('./curl.ts'), 'http://httpbin:8000/headers', '-f'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, HTTP_PROXY: proxy.url },
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => (out += d));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(out, 'HTTP/1.1 500 Internal Server Error\n\n{"error":"x"}\n');
  assert.equal(code, 22);
  assert.equal(proxy.requests[0]?.target, 'http://httpbin:8000/headers');
});

test('sleep main.ts stays up, answers /health when BIND is set, and exits 0 on SIGTERM', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', HERE('./main.ts')], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BIND: '127.0.0.1:0' } });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: string) => {
      out += d;
      const m = /health on (http:\/\/\S+)\)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (c) => reject(new Error(`exited ${c}: ${out}`)));
  });
  const res = await request(url);
  assert.equal(res.statusCode, 200);
  await res.body.dump();
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0);
});

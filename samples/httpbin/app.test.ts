// Tests for the httpbin sample: JSON shapes of /get, /headers, /ip, /anything; /status choices; /delay; access log.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { request } from 'undici';
import { startServer } from '../bookinfo/src/common/http.js';
import type { RunningServer } from '../bookinfo/src/common/http.js';
import { createHttpbinHandler, parseStatusChoices } from './app.js';
import type { HttpbinOptions } from './app.js';

async function httpbin(t: TestContext, opts: Partial<HttpbinOptions> = {}, log?: (line: string) => void): Promise<RunningServer> {
  const s = await startServer(createHttpbinHandler({ version: 'v1', ...opts }), { host: '127.0.0.1', port: 0 }, { label: `httpbin-${opts.version ?? 'v1'}`, ...(log ? { accessLog: log } : {}) });
  t.after(() => s.close());
  return s;
}

async function call(url: string, opts: { method?: 'GET' | 'POST' | 'PUT' | 'DELETE'; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  const res = await request(url, { method: opts.method ?? 'GET', headers: opts.headers ?? {}, body: opts.body });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

test('/get returns args, Title-Case headers, origin and url', async (t) => {
  const s = await httpbin(t);
  const r = await call(`${s.url}/get?a=1&b=2&b=3`, { headers: { 'x-b3-sampled': '1', 'end-user': 'jason' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-httpbin-version'], 'v1');
  const body = JSON.parse(r.text) as { args: unknown; headers: Record<string, string>; origin: string; url: string };
  assert.deepEqual(body.args, { a: '1', b: ['2', '3'] });
  assert.equal(body.headers['X-B3-Sampled'], '1');
  assert.equal(body.headers['End-User'], 'jason');
  assert.equal(body.headers.Host, `127.0.0.1:${s.port}`);
  assert.equal(body.origin, '127.0.0.1');
  assert.equal(body.url, `http://127.0.0.1:${s.port}/get?a=1&b=2&b=3`);
});

test('/headers, /ip (X-Forwarded-For first), /user-agent, /uuid, /health', async (t) => {
  const s = await httpbin(t, { version: 'v2' });
  const h = JSON.parse((await call(`${s.url}/headers`, { headers: { 'x-envoy-attempt-count': '1' } })).text) as { headers: Record<string, string> };
  assert.equal(h.headers['X-Envoy-Attempt-Count'], '1');
  assert.deepEqual(JSON.parse((await call(`${s.url}/ip`)).text), { origin: '127.0.0.1' });
  assert.deepEqual(JSON.parse((await call(`${s.url}/ip`, { headers: { 'x-forwarded-for': '10.0.0.7' } })).text), { origin: '10.0.0.7' });
  assert.deepEqual(JSON.parse((await call(`${s.url}/user-agent`, { headers: { 'user-agent': 'curl/8' } })).text), { 'user-agent': 'curl/8' });
  assert.match((JSON.parse((await call(`${s.url}/uuid`)).text) as { uuid: string }).uuid, /^[0-9a-f-]{36}$/);
  assert.deepEqual(JSON.parse((await call(`${s.url}/health`)).text), { status: 'httpbin is healthy', version: 'v2' });
  assert.equal((await call(`${s.url}/nope`)).status, 404);
});

test('/anything echoes method, path, args, headers and body (JSON and form)', async (t) => {
  const s = await httpbin(t);
  const j = JSON.parse((await call(`${s.url}/anything/x/y?q=1`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"k":[1,2]}' })).text) as Record<string, unknown>;
  assert.equal(j.method, 'PUT');
  assert.equal(j.url, `http://127.0.0.1:${s.port}/anything/x/y?q=1`);
  assert.deepEqual(j.args, { q: '1' });
  assert.equal(j.data, '{"k":[1,2]}');
  assert.deepEqual(j.json, { k: [1, 2] });
  const f = JSON.parse((await call(`${s.url}/anything`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1&a=2&b=x' })).text) as Record<string, unknown>;
  assert.deepEqual(f.form, { a: ['1', '2'], b: 'x' });
  assert.equal(f.data, '');
  assert.equal(f.json, null);
  assert.equal((await call(`${s.url}/post`, { method: 'POST', body: 'x' })).status, 200);
  assert.equal((await call(`${s.url}/post`)).status, 405);
});

test('/status/{code} replies with the code; comma lists choose at random with weights', async (t) => {
  let next = 0;
  const s = await httpbin(t, { random: () => next });
  assert.equal((await call(`${s.url}/status/418`)).text, "I'm a teapot\n");
  assert.equal((await call(`${s.url}/status/503`, { method: 'POST' })).status, 503);
  assert.equal((await call(`${s.url}/status/204`)).status, 204);
  const redirect = await call(`${s.url}/status/302`);
  assert.equal(redirect.headers.location, '/redirect/1');
  next = 0.1;
  assert.equal((await call(`${s.url}/status/200,500`)).status, 200);
  next = 0.6;
  assert.equal((await call(`${s.url}/status/200,500`)).status, 500);
  next = 0.7; // 200:3,500:1 → [0, .75) is 200
  assert.equal((await call(`${s.url}/status/200:3,500:1`)).status, 200);
  next = 0.8;
  assert.equal((await call(`${s.url}/status/200:3,500:1`)).status, 500);
  const bad = await call(`${s.url}/status/abc`);
  assert.equal(bad.status, 400);
  assert.equal(bad.text, 'Invalid status code');
  assert.deepEqual(parseStatusChoices('200, 503:2'), [{ code: 200, weight: 1 }, { code: 503, weight: 2 }]);
  assert.equal(parseStatusChoices('99'), undefined);
  assert.equal(parseStatusChoices('200:0'), undefined);
});

test('/delay/{s} waits, capped by the maximum', async (t) => {
  const s = await httpbin(t, { maxDelaySeconds: 0.3 });
  let started = Date.now();
  const r = await call(`${s.url}/delay/0.2?x=1`);
  assert.equal(r.status, 200);
  assert.ok(Date.now() - started >= 190);
  assert.deepEqual((JSON.parse(r.text) as { args: unknown }).args, { x: '1' });
  started = Date.now();
  await call(`${s.url}/delay/10`);
  const took = Date.now() - started;
  assert.ok(took >= 290 && took < 2000, `took ${took} ms`);
  assert.equal((await call(`${s.url}/delay/soon`)).status, 400);
});

test('each request is logged in one line with method, path, status and the Host authority', async (t) => {
  const lines: string[] = [];
  let wake: () => void = () => undefined;
  const s = await httpbin(t, { version: 'v2' }, (l) => {
    lines.push(l);
    wake();
  });
  const seen = new Promise<void>((r) => (wake = r));
  await call(`${s.url}/headers`, { headers: { host: 'httpbin-shadow:8000' } });
  await seen;
  assert.equal(lines.length, 1);
  assert.match(lines[0] ?? '', /httpbin-v2 "GET \/headers HTTP\/1\.1" 200 \d+ms authority=httpbin-shadow:8000 from=127\.0\.0\.1\n$/);
});

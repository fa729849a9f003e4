// Tests for the shared sample HTTP helpers: bind parsing, absolute-form paths, busy-port errors.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { request } from 'undici';
import { parseBind, pathOf, sendJson, startServer } from './http.js';

test('parseBind accepts HOST:PORT, :PORT, PORT, HOST and [v6]:PORT', () => {
  assert.deepEqual(parseBind('127.0.12.2:9080', 1), { host: '127.0.12.2', port: 9080 });
  assert.deepEqual(parseBind(':8000', 1), { host: '127.0.0.1', port: 8000 });
  assert.deepEqual(parseBind('0', 1), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseBind('127.0.10.1', 9080), { host: '127.0.10.1', port: 9080 });
  assert.deepEqual(parseBind('[::1]:9080', 1), { host: '::1', port: 9080 });
  assert.throws(() => parseBind('host:http', 1), /invalid bind address "host:http"/);
  assert.throws(() => parseBind('1.2.3.4:70000', 1), /invalid bind address/);
});

test('pathOf strips the query and an absolute-form authority', () => {
  const req = (url: string) => ({ url }) as IncomingMessage;
  assert.equal(pathOf(req('/reviews/0?x=1')), '/reviews/0');
  assert.equal(pathOf(req('http://reviews:9080/reviews/0?x=1')), '/reviews/0');
  assert.equal(pathOf(req('http://reviews:9080')), '/');
});

test('startServer names the busy address', async () => {
  const a = await startServer((_q, r) => sendJson(r, 200, {}), { host: '127.0.0.1', port: 0 });
  try {
    await assert.rejects(startServer(() => undefined, { host: '127.0.0.1', port: a.port }), new RegExp(`address 127\\.0\\.0\\.1:${a.port} is already in use`));
  } finally {
    await a.close();
  }
});

test('startServer turns a handler exception into a JSON 500 and logs one line per request', async () => {
  let logged: (line: string) => void = () => undefined;
  const line = new Promise<string>((r) => (logged = r));
  const s = await startServer(
    () => {
      throw new Error('boom');
    },
    { host: '127.0.0.1', port: 0 },
    { label: 'svc-v1', accessLog: (l) => logged(l) },
  );
  try {
    const res = await request(`${s.url}/x?y=1`, { headers: { host: 'svc-shadow:9080' } });
    assert.equal(res.statusCode, 500);
    assert.deepEqual(await res.body.json(), { error: 'boom' });
    assert.match(await line, /svc-v1 "GET \/x\?y=1 HTTP\/1\.1" 500 \d+ms authority=svc-shadow:9080 /);
  } finally {
    await s.close();
  }
});

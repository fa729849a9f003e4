// Tests for the Bookinfo entry: argument/env parsing, the whole app through an HTTP forward proxy, and main.ts as a process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { request } from 'undici';
import { startBookinfoService } from './app.js';
import type { RunningApp } from './app.js';
import { forwardProxy } from './common/test-support.js';
import { parseConfig } from './config.js';

test('parseConfig reads service, version and bind from flags over env', () => {
  const r = parseConfig(['reviews', '--version', 'v3', '--bind=127.0.12.3:9080'], {
    SERVICE_VERSION: 'v2',
    BIND: '127.0.0.1:1',
    HTTP_PROXY: 'http://127.0.12.3:15001',
    WORKLOAD_NAME: 'reviews-v3-x1',
    RATINGS_URL: 'http://127.0.0.1:5000',
  });
  assert.ok(r.ok);
  assert.equal(r.config.service, 'reviews');
  assert.equal(r.config.version, 'v3');
  assert.deepEqual(r.config.bind, { host: '127.0.12.3', port: 9080 });
  assert.equal(r.config.proxy, 'http://127.0.12.3:15001');
  assert.equal(r.config.workloadName, 'reviews-v3-x1');
  assert.equal(r.config.clusterName, 'null');
  assert.deepEqual(r.config.targets.ratings, { baseUrl: 'http://127.0.0.1:5000', viaProxy: false });
  assert.deepEqual(r.config.targets.details, { baseUrl: 'http://details:9080', viaProxy: true });
  assert.equal(r.config.accessLog, true);

  const d = parseConfig(['details'], {});
  assert.ok(d.ok);
  assert.deepEqual(d.config.bind, { host: '127.0.0.1', port: 9080 });
  assert.equal(d.config.workloadName, 'details-v1');
  assert.equal(d.config.proxy, undefined);
});

test('parseConfig reports every error at once', () => {
  const r = parseConfig(['reviews', '--version', 'v4', '--bind', 'x:y', '--what'], { HTTP_PROXY: 'socks5://x' });
  assert.ok(!r.ok);
  assert.deepEqual(r.errors, [
    'unknown flag --what',
    'reviews version must be v1, v2 or v3, not "v4"',
    'invalid bind address "x:y" (want HOST:PORT)',
    'HTTP_PROXY must be an http:// URL, not "socks5://x"',
  ]);
  const none = parseConfig([], {});
  assert.ok(!none.ok && none.errors.includes('missing service name'));
  const help = parseConfig(['--help'], {});
  assert.ok(!help.ok && help.help);
});

test('the whole Bookinfo reaches its services by name through HTTP_PROXY (absolute-URI request lines)', async (t) => {
  const routes: Record<string, string> = {};
  const proxy = await forwardProxy(routes);
  const apps: RunningApp[] = [];
  t.after(async () => {
    for (const a of apps.reverse()) await a.close();
    await proxy.close();
  });
  const start = async (argv: string[], env: Record<string, string> = {}): Promise<RunningApp> => {
    const r = parseConfig([...argv, '--bind', '127.0.0.1:0'], { HTTP_PROXY: proxy.url, ACCESS_LOG: '0', ...env });
    assert.ok(r.ok, r.ok ? '' : r.errors.join('; '));
    const app = await startBookinfoService(r.config);
    apps.push(app);
    return app;
  };
  routes.details = (await start(['details'])).url;
  routes.ratings = (await start(['ratings'])).url;
  routes.reviews = (await start(['reviews', '--version', 'v2'], { WORKLOAD_NAME: 'reviews-v2-7f9' })).url;
  const page = await start(['productpage']);

  const res = await request(`${page.url}/productpage`, { headers: { 'x-request-id': 'rid-42', cookie: 'user=jason' } });
  const body = await res.body.text();
  assert.equal(res.statusCode, 200);
  assert.match(body, /Reviews served by: reviews-v2-7f9/);
  assert.match(body, /style="color: black"[^>]*>★★★★★</);
  assert.match(body, /PublisherA/);

  const lines = proxy.requests.map((q) => `${q.method} ${q.target} end-user=${String(q.headers['end-user'])} rid=${String(q.headers['x-request-id'])}`).sort();
  assert.deepEqual(lines, [
    'GET http://details:9080/details/0 end-user=jason rid=rid-42',
    'GET http://ratings:9080/ratings/0 end-user=jason rid=rid-42',
    'GET http://reviews:9080/reviews/0 end-user=jason rid=rid-42',
  ]);
});

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

test('main.ts starts, answers /health, logs requests, and exits 0 on SIGTERM', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'details', '--bind', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ACCESS_LOG: '1' } });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: string) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  const res = await request(`${url}/health`);
  assert.deepEqual(await res.body.json(), { status: 'Details is healthy' });
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if (out.includes('"GET /health HTTP/1.1" 200')) resolve();
    };
    child.stdout.on('data', check);
    check();
  });
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0);
});

test('main.ts exits 2 with every usage error', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'nosuch', '--bind', 'x:y'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (err += d));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 2);
  assert.match(err, /unknown service "nosuch"/);
  assert.match(err, /invalid bind address "x:y"/);
  assert.match(err, /usage:/);
});

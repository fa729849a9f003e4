// Per-route timeout (504 UT within a bound), retries (attempts, perTryTimeout, retryOn 5xx / gateway-error /
// connect-failure / retriable status codes, upstream_rq_retry, URX when exhausted) and fault injection (DI / FI).
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import type { App, AppHandler } from '../support/apps.js';
import { countBy, keepAliveAgent, sendMany } from '../support/http-client.js';
import { dest, virtualService } from '../support/istio.js';
import type { Doc } from '../support/istio.js';
import { Mesh } from '../support/mesh.js';
import { freePort } from '../support/net.js';
import { parseAccessLog } from '../support/sidecar.js';
import type { Sidecar } from '../support/sidecar.js';

const HOST = 'echo.test';
const FLAKY = 'flaky.test';
let mesh: Mesh;
let client: Sidecar;
let app: App;
let good: App;
let deadIp: string;
let deadPort: number;
let cluster: string;

/** Per x-request-id attempt counter: `fail(n)` is true for the first n attempts of each request. */
function attempts(): { handler: (onAttempt: (n: number, res: Parameters<AppHandler>[1]) => boolean) => AppHandler } {
  const seen = new Map<string, number>();
  return {
    handler: (onAttempt) => (req, res) => {
      const id = String(req.headers['x-request-id']);
      const n = (seen.get(id) ?? 0) + 1;
      seen.set(id, n);
      return onAttempt(n, res);
    },
  };
}

function reply(res: Parameters<AppHandler>[1], status: number, delayMs = 0): true {
  setTimeout(() => {
    if (res.destroyed) return;
    res.statusCode = status;
    res.setHeader('x-app', 'echo');
    res.end(`status ${status}`);
  }, delayMs);
  return true;
}

async function route(http: Doc, host = HOST): Promise<void> {
  await mesh.apply(`vs-${host}.yaml`, [virtualService({ name: host.replace(/\./g, '-'), hosts: [host], http: [{ route: [dest(host)], ...http }] })]);
}

before(async () => {
  mesh = await Mesh.create();
  app = await mesh.app('echo');
  good = await mesh.app('good');
  deadIp = mesh.nextIp();
  deadPort = await freePort([deadIp]); // nothing listens there: connections are refused
  mesh.write('svc.yaml', [
    ...mesh.serviceFor('echo', HOST, [app]),
    ...mesh.service({ name: 'flaky', host: FLAKY, workloads: [{ name: 'flaky-good', address: good.ip, port: good.port }, { name: 'flaky-dead', address: deadIp, port: deadPort }] }),
  ]);
  await mesh.startDiscovery();
  client = await mesh.client({ name: 'client' });
  cluster = `outbound|${mesh.port}||${HOST}`;
});

beforeEach(() => app.setHandler(undefined));

after(async () => {
  await mesh?.close();
});

test('per-route timeout: 504 with flag UT after about the timeout', async () => {
  await route({ timeout: '0.3s' });
  const from = client.accessLines.length;
  const r = await client.request(HOST, '/slow', { headers: { 'x-echo-delay-ms': '3000' } });
  assert.equal(r.status, 504);
  assert.ok(r.ms >= 290 && r.ms < 1_500, `took ${r.ms} ms`);
  const e = parseAccessLog(await client.waitForLog(/\/slow/, from));
  assert.equal(e?.flags, 'UT');
  assert.equal((await client.request(HOST, '/fast')).status, 200);
});

test('retries on 5xx: two failed attempts then success; upstream_rq_retry counts them', async () => {
  await route({ retries: { attempts: 3, retryOn: '5xx' } });
  const before = await client.stat(`cluster.${cluster}.upstream_rq_retry`);
  app.setHandler(attempts().handler((n, res) => reply(res, n <= 2 ? 503 : 200)));
  const r = await client.request(HOST, '/flaky');
  assert.equal(r.status, 200);
  const seen = app.requests.filter((s) => s.url === '/flaky');
  assert.deepEqual(seen.map((s) => s.headers['x-envoy-attempt-count']), ['1', '2', '3']);
  assert.equal((await client.stat(`cluster.${cluster}.upstream_rq_retry`)) - before, 2);
});

test('retries exhausted: the last 503 is returned with flag URX', async () => {
  await route({ retries: { attempts: 2, retryOn: '5xx' } });
  const from = client.accessLines.length;
  const n = app.requests.length;
  const r = await client.request(HOST, '/always-503', { headers: { 'x-echo-status': '503' } });
  assert.equal(r.status, 503);
  assert.equal(app.requests.length - n, 3, 'one try and two retries');
  const e = parseAccessLog(await client.waitForLog(/always-503/, from));
  assert.equal(e?.flags, 'URX');
});

test('gateway-error retries 502 but not 500; retriable status codes retry exactly those codes', async () => {
  await route({ retries: { attempts: 2, retryOn: 'gateway-error' } });
  app.setHandler(attempts().handler((n, res) => reply(res, n === 1 ? 502 : 200)));
  assert.equal((await client.request(HOST, '/gw')).status, 200);
  app.setHandler(attempts().handler((n, res) => reply(res, n === 1 ? 500 : 200)));
  assert.equal((await client.request(HOST, '/gw500')).status, 500);

  await route({ retries: { attempts: 2, retryOn: 'retriable-status-codes,418' } });
  app.setHandler(attempts().handler((n, res) => reply(res, n === 1 ? 418 : 200)));
  assert.equal((await client.request(HOST, '/teapot')).status, 200);
  app.setHandler(attempts().handler((n, res) => reply(res, n === 1 ? 503 : 200)));
  assert.equal((await client.request(HOST, '/not-listed')).status, 503);
});

test('perTryTimeout: a stalled first attempt is abandoned and retried', async () => {
  await route({ retries: { attempts: 2, perTryTimeout: '0.2s', retryOn: '5xx' } });
  app.setHandler(attempts().handler((n, res) => reply(res, 200, n === 1 ? 3_000 : 0)));
  const r = await client.request(HOST, '/stall-once');
  assert.equal(r.status, 200);
  assert.ok(r.ms >= 190 && r.ms < 1_500, `took ${r.ms} ms`);
  assert.equal(app.requests.filter((s) => s.url === '/stall-once').length, 2);
});

test('connect-failure: requests to a refused endpoint are retried on the other host', async () => {
  await route({ retries: { attempts: 3, retryOn: 'connect-failure' } }, FLAKY);
  const flaky = `outbound|${mesh.port}||${FLAKY}`;
  const replies = await sendMany(client.egressAddress, 20, { host: FLAKY }, 4);
  assert.deepEqual([...countBy(replies)], [['good', 20]]);
  assert.ok((await client.stat(`cluster.${flaky}.upstream_cx_connect_fail`)) > 0);
  assert.ok((await client.stat(`cluster.${flaky}.upstream_rq_retry`)) > 0);
});

test('without retries a refused connection is a 503 with flag UF', async () => {
  await route({ retries: { attempts: 0 } }, FLAKY);
  const from = client.accessLines.length;
  // Istio's default LEAST_REQUEST picks between the two hosts at random when both are idle.
  const replies = await sendMany(client.egressAddress, 20, { host: FLAKY }, 1);
  const c = countBy(replies, (r) => r.status);
  assert.ok((c.get('503') ?? 0) > 0 && (c.get('200') ?? 0) > 0 && c.size === 2, JSON.stringify([...c]));
  const e = parseAccessLog(await client.waitForLog(/" 503 /, from));
  assert.equal(e?.flags, 'UF');
  assert.equal(e?.upstreamHost, `${deadIp}:${deadPort}`);
});

test('fault delay: every request held for fixedDelay, flag DI', async () => {
  await route({ fault: { delay: { fixedDelay: '0.3s', percentage: { value: 100 } } } });
  const from = client.accessLines.length;
  const r = await client.request(HOST, '/delayed');
  assert.equal(r.status, 200);
  assert.ok(r.ms >= 290 && r.ms < 1_500, `took ${r.ms} ms`);
  assert.equal(parseAccessLog(await client.waitForLog(/\/delayed/, from))?.flags, 'DI');
});

test('fault abort: 100% → status from the proxy with flag FI; 40% → about 40% aborted', async () => {
  await route({ fault: { abort: { httpStatus: 418, percentage: { value: 100 } } } });
  const from = client.accessLines.length;
  const n = app.requests.length;
  const r = await client.request(HOST, '/aborted');
  assert.equal(r.status, 418);
  assert.equal(r.body, 'fault filter abort');
  assert.equal(app.requests.length, n);
  assert.equal(parseAccessLog(await client.waitForLog(/\/aborted/, from))?.flags, 'FI');

  await route({ fault: { abort: { httpStatus: 503, percentage: { value: 40 } } } });
  const agent = keepAliveAgent(8);
  try {
    const replies = await sendMany(client.egressAddress, 300, { host: HOST, agent });
    const aborted = replies.filter((x) => x.status === 503).length;
    assert.ok(Math.abs(aborted - 120) <= 30, `aborted ${aborted} of 300`); // σ ≈ 8.5
    assert.equal(aborted + replies.filter((x) => x.status === 200).length, 300);
  } finally {
    agent.destroy();
  }
});

test('the route timeout bounds all attempts together: stalled retries end in one 504 at about the timeout', async () => {
  await route({ timeout: '0.5s', retries: { attempts: 5, perTryTimeout: '0.2s', retryOn: '5xx' } });
  const n = app.requests.length;
  const r = await client.request(HOST, '/stall-all', { headers: { 'x-echo-delay-ms': '3000' } });
  assert.equal(r.status, 504);
  assert.ok(r.ms >= 490 && r.ms < 1_500, `took ${r.ms} ms`);
  const tries = app.requests.length - n;
  assert.ok(tries >= 2 && tries <= 3, `${tries} attempts fit in 500 ms of 200 ms tries`);
  assert.equal(app.requests[n].headers['x-envoy-expected-rq-timeout-ms'], '200');
});

test('a POST body is replayed on retry', async () => {
  await route({ retries: { attempts: 2, retryOn: '5xx' } });
  app.setHandler(attempts().handler((n, res) => (n === 1 ? reply(res, 503) : false)));
  const body = 'x'.repeat(20_000);
  const r = await client.request(HOST, '/post', { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
  assert.equal(r.status, 200);
  assert.equal(r.json<{ body: string }>().body, body);
});

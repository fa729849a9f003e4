// The `isthmus proxy` process end to end: config from a real `isthmus discovery`, traffic through a bound listener
// (captureMode NONE / local mode), admin and agent endpoints, SIGTERM drain with an in-flight request, concurrency 2.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { Server } from 'node:http';
import { connect, createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startDiscovery } from '../support/discovery-process.js';
import type { DiscoveryProcess } from '../support/discovery-process.js';
import { startProxy } from '../support/proxy-process.js';
import type { ProxyProcess } from '../support/proxy-process.js';

const APP_IP = '127.0.77.21';
let dir: string;
let discovery: DiscoveryProcess;
let app: Server;
let port: number;
let tcpPort: number;
let tcpApp: ReturnType<typeof createNetServer>;
const proxies: ProxyProcess[] = [];

/** A port free on both 127.0.0.1 (the proxy's bound outbound listener) and the app's IP. */
async function freePort(): Promise<number> {
  for (;;) {
    const s = createNetServer().listen(0, '127.0.0.1');
    await once(s, 'listening');
    const p = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    const t = createNetServer();
    const ok = await new Promise<boolean>((resolve) => {
      t.once('error', () => resolve(false));
      t.listen(p, APP_IP, () => resolve(true));
    });
    if (ok) {
      await new Promise((r) => t.close(r));
      return p;
    }
  }
}

before(async () => {
  port = await freePort();
  tcpPort = await freePort();
  tcpApp = createNetServer((s) => {
    s.write('tcp-echo ready\n');
    s.pipe(s);
  });
  tcpApp.listen(tcpPort, APP_IP);
  await once(tcpApp, 'listening');
  app = createServer((req, res) => {
    const reply = (): void => {
      res.setHeader('x-app', 'echo');
      res.end(`hello ${req.url}`);
    };
    if (req.url === '/slow') setTimeout(reply, 400);
    else reply();
  });
  app.listen(port, APP_IP);
  await once(app, 'listening');
  dir = mkdtempSync(join(tmpdir(), 'isthmus-proxy-e2e-'));
  writeFileSync(join(dir, 'echo.yaml'), `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: echo, namespace: default}
spec:
  hosts: [echo.local]
  ports: [{number: ${port}, name: http, protocol: HTTP}]
  resolution: STATIC
  location: MESH_INTERNAL
  workloadSelector: {labels: {app: echo}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: tcp-echo, namespace: default}
spec:
  hosts: [tcp-echo.local]
  addresses: [240.240.0.7]
  ports: [{number: ${tcpPort}, name: tcp, protocol: TCP}]
  resolution: STATIC
  location: MESH_INTERNAL
  workloadSelector: {labels: {app: echo}}
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: echo-1, namespace: default}
spec: {address: ${APP_IP}, labels: {app: echo}}
`);
  discovery = await startDiscovery({ configDir: dir });
});

after(async () => {
  for (const p of proxies) await p.stop(2_000);
  await discovery?.stop();
  tcpApp?.close();
  app?.close();
  app?.closeAllConnections();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function client(extra: string[] = []): Promise<ProxyProcess> {
  const p = await startProxy({
    discovery: discovery.grpc,
    args: ['--ip', '127.0.77.30', '--pod-name', 'client-1', '--namespace', 'default', '--labels', 'app=client', '--interception-mode', 'NONE', '--drain-duration', '5s', ...extra],
  });
  proxies.push(p);
  return p;
}

async function get(url: string): Promise<{ status: number; body: string; headers: Headers }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text(), headers: r.headers };
}

/** GET through the proxy's bound outbound listener for echo.local (a fresh connection each time). */
function viaProxy(path: string): Promise<{ status: number; body: string; app: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { host: `echo.local:${port}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, app: res.headers['x-app'] as string | undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a sidecar gets its listeners from discovery, proxies HTTP, and reports on admin/agent endpoints', async () => {
  const p = await client();
  const ready = await p.event('ready');
  const listeners = ready.listeners as Record<string, string>;
  assert.equal(listeners[`127.0.0.1_${port}`], `127.0.0.1:${port}`, p.logs());
  assert.equal((await get(`http://${p.started.readiness}/healthz/ready`)).status, 200);
  assert.equal((await get(`http://${p.started.admin}/ready`)).body, 'LIVE\n');

  const r = await viaProxy('/hi');
  assert.equal(r.status, 200, p.logs());
  assert.equal(r.body, 'hello /hi');
  assert.equal(r.app, 'echo');

  const stats = (await get(`http://${p.started.admin}/stats?filter=^listener\\.127\\.0\\.0\\.1_${port}\\.downstream_cx_total$`)).body;
  assert.match(stats, new RegExp(`^listener\\.127\\.0\\.0\\.1_${port}\\.downstream_cx_total: [1-9]`), stats);
  const info = JSON.parse((await get(`http://${p.started.admin}/server_info`)).body);
  assert.equal(info.state, 'LIVE');
  assert.equal(info.node.id, 'sidecar~127.0.77.30~client-1.default~default.svc.cluster.local');
  assert.equal(info.isthmus.xds.connected, true);
  assert.match((await get(`http://${p.started.admin}/clusters`)).body, new RegExp(`outbound\\|${port}\\|\\|echo\\.local::${APP_IP.replace(/\./g, '\\.')}:${port}::health_flags::healthy`));
  const dump = JSON.parse((await get(`http://${p.started.admin}/config_dump`)).body);
  assert.ok(dump.configs[2].dynamic_listeners.some((l: { name: string }) => l.name === `127.0.0.1_${port}`));
  assert.equal(await p.stop(), 0); // frees the listener port for the next test
});

test('a TCP service through its bound listener: bytes both ways via tcp_proxy', async () => {
  const p = await client();
  const ready = await p.event('ready');
  assert.equal((ready.listeners as Record<string, string>)[`127.0.0.1_${tcpPort}`], `127.0.0.1:${tcpPort}`, p.logs());
  const s = connect({ host: '127.0.0.1', port: tcpPort });
  s.setEncoding('utf8');
  let got = '';
  s.on('data', (d: string) => (got += d));
  await once(s, 'connect');
  s.write('ping\n');
  while (!got.includes('ping\n')) await once(s, 'data');
  assert.equal(got, 'tcp-echo ready\nping\n');
  s.destroy();
  assert.equal(await p.stop(), 0);
});

test('SIGTERM: readiness fails, the listener stops accepting, the in-flight request completes, exit 0', async () => {
  const p = await client();
  await p.event('ready');
  const inflight = viaProxy('/slow');
  // Wait until the request is at the app (the proxy accepted it and forwarded it).
  await new Promise<void>((resolve) => app.once('request', () => resolve()));
  p.child.kill('SIGTERM');
  // While draining, the admin endpoints stay up and report it.
  let sawDraining = false;
  for (let i = 0; i < 20 && !sawDraining; i++) {
    const r = await fetch(`http://${p.started.readiness}/healthz/ready`).catch(() => undefined);
    if (!r) break;
    sawDraining = r.status === 503 && (await r.text()).includes('draining');
  }
  assert.ok(sawDraining, 'readiness reported draining');
  const refused = connect({ port, host: '127.0.0.1' });
  const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
  assert.equal(err.code, 'ECONNREFUSED');
  const r = await inflight;
  assert.equal(r.status, 200);
  assert.equal(r.body, 'hello /slow');
  assert.equal(await p.exited(), 0);
  await p.event('stopped');
});

test('--concurrency 2: workers share the listener, the primary merges stats and drains both on SIGTERM', async () => {
  const p = await client(['--concurrency', '2']);
  assert.equal(p.started.workers, 2);
  const ready = await p.event('ready');
  assert.equal((ready.listeners as Record<string, string>)[`127.0.0.1_${port}`], `127.0.0.1:${port}`);
  assert.equal((await get(`http://${p.started.readiness}/healthz/ready`)).status, 200);
  for (let i = 0; i < 6; i++) {
    assert.equal((await viaProxy(`/n${i}`)).body, `hello /n${i}`);
  }
  const stats = (await get(`http://${p.started.admin}/stats?filter=^listener\\.127\\.0\\.0\\.1_${port}\\.downstream_cx_total$`)).body;
  assert.equal(stats, `listener.127.0.0.1_${port}.downstream_cx_total: 6\n`);
  assert.equal(await p.stop(), 0);
});

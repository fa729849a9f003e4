// `isthmus up` end to end, run as a user would: a small mesh (control plane, a gateway, httpbin behind its sidecar)
// comes up, status/proxy-status see it, apply/delete change routing through the gateway and wait for SYNCED, invalid
// input changes nothing, SIGTERM stops every process and frees the ports; a runner killed with SIGKILL leaves no
// process behind (the watchdog); a busy port and an invalid mesh file are refused before anything starts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runConfigCommand } from '../../src/cli/apply.js';
import { runProxyStatus } from '../../src/cli/proxy-status.js';
import { runStatus } from '../../src/cli/status.js';
import { httpGet } from '../../src/local/http.js';
import { readState } from '../../src/local/state.js';
import type { UpProcess } from './support.js';
import { REPO_ROOT, canBind, capture, freePort, meshPids, startIsthmus, testOctet, waitGone } from './support.js';

const root = mkdtempSync(join(tmpdir(), 'isthmus-up-test-'));
const running: UpProcess[] = [];
after(async () => {
  for (const p of running) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGTERM');
      await Promise.race([p.exited(), new Promise((r) => setTimeout(r, 15_000))]);
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    }
  }
  rmSync(root, { recursive: true, force: true });
});

interface Tiny {
  dir: string;
  meshFile: string;
  runDir: string;
  env: NodeJS.ProcessEnv;
  octet: number;
  gatewayIp: string;
  gatewayPort: number;
  /** Published on 127.0.0.1 by the runner's forwarder. */
  hostPort: number;
  appIp: string;
}

async function tinyMesh(name: string, opts: { gateway: boolean }): Promise<Tiny> {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const octet = testOctet();
  const gatewayPort = await freePort();
  let hostPort = await freePort();
  while (hostPort === gatewayPort) hostPort = await freePort();
  const httpbin = join(REPO_ROOT, 'samples/httpbin/main.ts');
  const gateway = opts.gateway ? `gateways:\n- {name: gw, labels: {istio: tiny-gw}, address: 127.${octet}.1.1, ports: [{port: ${gatewayPort}, hostPort: ${hostPort}}]}\n` : '';
  const meshFile = join(dir, 'mesh.yaml');
  writeFileSync(
    meshFile,
    `name: ${name}
addressPrefix: "127.${octet}"
controlPlane: {address: 127.${octet}.0.1, grpcPort: 0, httpPort: 0, monitoringPort: 0}
${gateway}workloads:
- name: web-v1
  service: {name: web, port: 8000}
  labels: {app: web, version: v1}
  command: [node, ${httpbin}, --version, v1]
  env: {ACCESS_LOG: "0"}
  health: /health
`,
  );
  return { dir, meshFile, runDir: join(dir, 'run'), env: { XDG_RUNTIME_DIR: join(dir, 'xdg') }, octet, gatewayIp: `127.${octet}.1.1`, gatewayPort, hostPort, appIp: `127.${octet}.10.1` };
}

const ROUTING = (port: number): string => `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: web-gateway}
spec:
  selector: {istio: tiny-gw}
  servers:
  - port: {number: ${port}, name: http, protocol: HTTP}
    hosts: ['*']
`;
const VS = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web}
spec:
  hosts: ['*']
  gateways: [web-gateway]
  http:
  - match: [{uri: {prefix: /get}}]
    route: [{destination: {host: web, port: {number: 8000}}}]
`;

test('up, status, proxy-status, apply, delete, and a clean stop', { timeout: 180_000 }, async (t) => {
  const m = await tinyMesh('tiny', { gateway: true });
  const up = startIsthmus(['up', '-f', m.meshFile, '--run-dir', m.runDir, '--timeout', '90s'], m.env);
  running.push(up);
  const banner = await up.waitFor('Press Ctrl-C to stop.', 120_000);
  assert.match(banner, /ready in [\d.]+ s: 2 proxies SYNCED, 1 workload\(s\) healthy/);
  const pids = meshPids(m.runDir);
  assert.equal(pids.length, 4, 'discovery, gateway, sidecar, app');
  const run = (f: (out: { write(s: string): boolean }, err: { write(s: string): boolean }) => Promise<number>) => capture(f);

  await t.test('status and proxy-status find the mesh through the pointer file', async () => {
    const s = await run((out, err) => runStatus([], out, err, m.env));
    assert.equal(s.code, 0, s.err);
    assert.match(s.out, new RegExp(`web-v1\\s+default\\s+web\\s+127\\.${m.octet}\\.10\\.1\\s+8000→18000\\s+\\d+\\s+\\d+\\s+healthy`));
    assert.match(s.out, /gw\s+istio-system/);
    const ps = await run((out, err) => runProxyStatus(['--run-dir', m.runDir], out, err, {}));
    assert.equal(ps.code, 0, ps.err);
    assert.match(ps.out, /^NAME\s+CLUSTER\s+CDS\s+LDS\s+EDS\s+RDS\s+ECDS\s+ISTIOD\s+VERSION/);
    assert.match(ps.out, /web-v1\.default\s+Kubernetes\s+SYNCED\s+SYNCED\s+SYNCED/);
    assert.match(ps.out, /gw\.istio-system\s+Kubernetes\s+SYNCED\s+SYNCED/);
  });

  await t.test('a crashed app is reported and restarted', async () => {
    const app = readState(m.runDir).processes.find((p) => p.name === 'web-v1')!;
    process.kill(app.pid!, 'SIGKILL');
    await up.waitFor('web-v1 (app) killed by SIGKILL', 10_000);
    assert.match(up.output(), /web-v1 \(app\) killed by SIGKILL after [\d.]+ s; restarting in 1 s — log: .*web-v1\.log/);
    const end = Date.now() + 30_000;
    for (;;) {
      const now = readState(m.runDir).processes.find((p) => p.name === 'web-v1')!;
      if (now.restarts === 1 && now.pid !== undefined && (await httpGet(`http://${m.appIp}:18000/health`, 1000).catch(() => undefined))?.status === 200) break;
      assert.ok(Date.now() < end, 'the app did not come back');
      await new Promise((r) => setTimeout(r, 200));
    }
    pids.splice(pids.indexOf(app.pid!), 1, ...meshPids(m.runDir).filter((p) => !pids.includes(p)));
  });

  await t.test('a crashed control plane comes back on the same addresses and the proxies reconnect', async () => {
    const before = readState(m.runDir);
    const d = before.processes.find((p) => p.name === 'discovery')!;
    process.kill(d.pid!, 'SIGKILL');
    await up.waitFor('discovery (discovery) killed by SIGKILL', 10_000);
    const end = Date.now() + 40_000;
    for (;;) {
      const ps = await run((out, err) => runProxyStatus(['--run-dir', m.runDir], out, err, {}));
      if (ps.code === 0 && /web-v1\.default\s+Kubernetes\s+SYNCED\s+SYNCED/.test(ps.out) && /gw\.istio-system\s+Kubernetes\s+SYNCED/.test(ps.out)) break;
      assert.ok(Date.now() < end, `proxies did not reconnect:\n${ps.out}${ps.err}`);
      await new Promise((r) => setTimeout(r, 300));
    }
    const after = readState(m.runDir);
    assert.deepEqual(after.discovery, before.discovery);
    const now = after.processes.find((p) => p.name === 'discovery')!;
    pids.splice(pids.indexOf(d.pid!), 1, now.pid!);
  });

  const gw = join(m.dir, 'gateway.yaml');
  const vs = join(m.dir, 'vs.yaml');
  writeFileSync(gw, ROUTING(m.gatewayPort));
  writeFileSync(vs, VS);
  const url = `http://${m.gatewayIp}:${m.gatewayPort}/get`;

  await t.test('apply routes through the gateway to the app behind its sidecar, once every proxy is SYNCED', async () => {
    const r = await run((out, err) => runConfigCommand('apply', ['-f', gw, '-f', vs], out, err, m.env));
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /gateway\.networking\.istio\.io\/web-gateway created\nvirtualservice\.networking\.istio\.io\/web created\n2 proxies SYNCED in [\d.]+ s\n/);
    const res = await httpGet(url, 5000);
    assert.equal(res.status, 200, res.body);
    assert.match(res.body, /"url"/);
    assert.equal((await httpGet(`http://127.0.0.1:${m.hostPort}/get`, 5000)).status, 200, 'through the hostPort forwarder');
    const again = await run((out, err) => runConfigCommand('apply', ['-f', vs, '--run-dir', m.runDir], out, err, {}));
    assert.equal(again.code, 0, again.err);
    assert.equal(again.out, 'virtualservice.networking.istio.io/web unchanged\n');
  });

  await t.test('invalid input is refused with every error and changes nothing', async () => {
    const bad = join(m.dir, 'bad.yaml');
    writeFileSync(bad, `${VS.replace('{uri: {prefix: /get}}', '{uri: {prefix: /get}, ignoreUriCase: maybe}')}---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: web}\nspec: {host: web, trafficPolicy: {loadBalancer: {simple: FASTEST}}}\n`);
    const before = readdirSync(join(m.runDir, 'config', 'applied')).sort();
    const r = await run((out, err) => runConfigCommand('apply', ['-f', bad], out, err, m.env));
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.match(r.err, /VirtualService default\/web: spec\.http\[0\]\.match\[0\]\.ignoreUriCase/);
    assert.match(r.err, /DestinationRule default\/web: spec\.trafficPolicy\.loadBalancer\.simple/);
    assert.match(r.err, /2 errors; nothing was changed/);
    assert.deepEqual(readdirSync(join(m.runDir, 'config', 'applied')).sort(), before);
    assert.equal((await httpGet(url, 5000)).status, 200);
  });

  await t.test('delete removes the route: the gateway answers 404 once SYNCED', async () => {
    const r = await run((out, err) => runConfigCommand('delete', ['-f', vs], out, err, m.env));
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /virtualservice\.networking\.istio\.io\/web deleted\n2 proxies SYNCED/);
    assert.equal((await httpGet(url, 5000)).status, 404);
    const missing = await run((out, err) => runConfigCommand('delete', ['-f', vs], out, err, m.env));
    assert.equal(missing.code, 1);
    assert.match(missing.err, /virtualservice\.networking\.istio\.io\/web not found/);
  });

  await t.test('SIGTERM stops every process and frees the ports', async () => {
    up.child.kill('SIGTERM');
    assert.equal(await up.exited(), 0, up.output());
    assert.match(up.output(), /mesh stopped; logs kept in/);
    assert.deepEqual(await waitGone(pids, 5000), []);
    assert.equal(readState(m.runDir).phase, 'stopped');
    for (const [host, port] of [[m.appIp, 8000], [m.appIp, 18000], [m.appIp, 15000], [m.gatewayIp, 15021]] as const) {
      assert.ok(await canBind(host, port), `${host}:${port} still bound`);
    }
    assert.ok(await canBind('0.0.0.0', m.gatewayPort), `gateway port ${m.gatewayPort} still bound`);
    assert.ok(await canBind('127.0.0.1', m.hostPort), `hostPort ${m.hostPort} still bound`);
    const s = await run((out, err) => runStatus([], out, err, m.env));
    assert.equal(s.code, 1);
    assert.match(s.err, /no running mesh found|is not running/);
  });
});

test('a runner killed with SIGKILL leaves no process behind', { timeout: 120_000 }, async () => {
  const m = await tinyMesh('killed', { gateway: false });
  const up = startIsthmus(['up', '-f', m.meshFile, '--run-dir', m.runDir], m.env);
  running.push(up);
  await up.waitFor('Press Ctrl-C to stop.', 90_000);
  const pids = meshPids(m.runDir);
  assert.equal(pids.length, 3);
  up.child.kill('SIGKILL');
  await up.exited();
  // The watchdog sends SIGTERM to every group, then SIGKILL after 10 s.
  assert.deepEqual(await waitGone(pids, 15_000), [], 'processes left behind');
});

test('a busy port and an invalid mesh file are refused before anything starts', { timeout: 60_000 }, async () => {
  const m = await tinyMesh('busy', { gateway: false });
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen({ host: m.appIp, port: 8000 }, r));
  try {
    const up = startIsthmus(['up', '-f', m.meshFile, '--run-dir', m.runDir], m.env);
    running.push(up);
    assert.equal(await up.exited(), 1);
    assert.match(up.output(), new RegExp(`${m.appIp.replace(/\./g, '\\.')}:8000 is already in use \\(needed by sidecar of web-v1 \\(inbound http 8000\\)\\)`));
  } finally {
    await new Promise((r) => blocker.close(r));
  }
  const bad = join(m.dir, 'bad-mesh.yaml');
  writeFileSync(bad, 'workloads:\n- name: Web\n  command: node app.js\n  replicas: -1\n');
  const up = startIsthmus(['up', '-f', bad], m.env);
  running.push(up);
  assert.equal(await up.exited(), 1);
  const out = up.output();
  assert.match(out, /bad-mesh\.yaml:2: workloads\[0\]\.name: "Web" is not valid/);
  assert.match(out, /bad-mesh\.yaml:3: workloads\[0\]\.command: expected a list of strings/);
  assert.match(out, /bad-mesh\.yaml:4: workloads\[0\]\.replicas: expected an integer 1-254, got -1/);
});

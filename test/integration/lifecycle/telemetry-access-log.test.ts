// Telemetry API access logging end to end: a running `isthmus discovery` (no meshConfig.accessLogFile) picks up
// Telemetry resources as they are written, and the `isthmus proxy` sidecar starts, switches and stops writing access
// logs accordingly — Istio's built-in `envoy` provider to stdout, a meshConfig extension provider to a file.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { NAMESPACE } from '../support/istio.js';
import type { Doc } from '../support/istio.js';
import { Mesh } from '../support/mesh.js';
import { eventually } from '../support/net.js';
import { parseAccessLog } from '../support/sidecar.js';
import type { Sidecar } from '../support/sidecar.js';

const HOST = 'echo.test';
let dir: string;
let codesLog: string;
let mesh: Mesh;
let client: Sidecar;

function telemetry(name: string, namespace: string, spec: Doc): Doc {
  return { apiVersion: 'telemetry.istio.io/v1', kind: 'Telemetry', metadata: { name, namespace }, spec };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'isthmus-telemetry-'));
  codesLog = join(dir, 'codes.log');
  const meshConfig = join(dir, 'mesh.yaml');
  writeFileSync(
    meshConfig,
    `extensionProviders:\n- name: codes\n  envoyFileAccessLog:\n    path: ${codesLog}\n    logFormat: {text: "%REQ(:PATH)% %RESPONSE_CODE% %UPSTREAM_CLUSTER%"}\n`,
  );
  // No access-log EnvoyFilter: only Telemetry turns logging on.
  mesh = await Mesh.create({ accessLog: false, discoveryArgs: ['--mesh-config', meshConfig] });
  const app = await mesh.app('v1');
  mesh.write('svc.yaml', mesh.serviceFor('echo', HOST, [app]));
  await mesh.startDiscovery();
  client = await mesh.client({ name: 'client' });
});

after(async () => {
  await mesh?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a Telemetry applied to a running discovery turns the sidecar\'s access log on, switches its provider, and off', async () => {
  const cluster = `outbound|${mesh.port}||${HOST}`;
  assert.equal((await client.request(HOST, '/before')).status, 200);

  // Mesh-wide, the way Istio's docs enable access logs.
  await mesh.apply('telemetry-mesh.yaml', [telemetry('mesh-default', 'istio-system', { accessLogging: [{ providers: [{ name: 'envoy' }] }] })]);
  assert.equal((await client.request(HOST, '/logged')).status, 200);
  const line = parseAccessLog(await client.waitForLog(/"GET \/logged /));
  assert.ok(line, 'Istio\'s TEXT format');
  assert.equal(line.status, 200);
  assert.equal(line.upstreamCluster, cluster);
  assert.ok(!client.accessLines.some((l) => l.includes('/before')), 'nothing was logged before the Telemetry existed');

  // A workload-selector Telemetry replaces the mesh-wide provider for this sidecar: the meshConfig provider's file.
  const selector = { matchLabels: { 'mesh-proxy': 'client' } };
  await mesh.apply('telemetry-client.yaml', [telemetry('client-logs', NAMESPACE, { selector, accessLogging: [{ providers: [{ name: 'codes' }] }] })]);
  assert.equal((await client.request(HOST, '/custom', { headers: { 'x-echo-status': '503' } })).status, 503);
  await eventually(() => existsSync(codesLog) && readFileSync(codesLog, 'utf8').split('\n').includes(`/custom 503 ${cluster}`), {
    timeoutMs: 5_000,
    message: () => (existsSync(codesLog) ? readFileSync(codesLog, 'utf8') : 'no file'),
  });

  // The namespace disables the provider for the client side only (match.mode CLIENT): nothing more is written.
  await mesh.apply('telemetry-client.yaml', [
    telemetry('client-logs', NAMESPACE, { selector, accessLogging: [{ providers: [{ name: 'codes' }], disabled: true, match: { mode: 'CLIENT' } }] }),
  ]);
  assert.equal((await client.request(HOST, '/off')).status, 200);
  // Switch back to the mesh-wide provider; its line for /on proves /off was served (and not logged) before it.
  await mesh.apply('telemetry-client.yaml', []);
  assert.equal((await client.request(HOST, '/on')).status, 200);
  await client.waitForLog(/"GET \/on /);
  assert.ok(!client.accessLines.some((l) => l.includes('/off') || l.includes('/custom')), client.accessLines.join('\n'));
  assert.ok(!readFileSync(codesLog, 'utf8').includes('/off'));
});

// The `isthmus` CLI as a process: dispatch, help and usage errors, and `discovery` start → ready line → SIGTERM → exit 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { main } from './main.js';

const CLI = fileURLToPath(new URL('./main.ts', import.meta.url));

function capture(): { write(s: string): boolean; text(): string } {
  let buf = '';
  return {
    write: (s: string) => {
      buf += s;
      return true;
    },
    text: () => buf,
  };
}

test('dispatcher: help, unknown commands, per-command help, usage errors', async () => {
  const out = capture();
  const err = capture();
  assert.equal(await main(['--help'], out, err), 0);
  assert.match(out.text(), /Usage: isthmus <command>/);
  assert.match(out.text(), /discovery/);
  assert.match(out.text(), /validate/);
  assert.equal(await main([], out, err), 2);
  assert.equal(await main(['frobnicate'], out, err), 2);
  assert.match(err.text(), /unknown command "frobnicate"/);

  const dOut = capture();
  assert.equal(await main(['discovery', '--help'], dOut, err), 0);
  assert.match(dOut.text(), /--config-dir/);
  assert.match(dOut.text(), /"event":"ready"/);
  const vOut = capture();
  assert.equal(await main(['validate', '--help'], vOut, err), 0);
  assert.match(vOut.text(), /isthmus validate/);

  const e2 = capture();
  assert.equal(await main(['discovery', '--bogus'], capture(), e2), 2);
  assert.match(e2.text(), /bogus/);
  const e3 = capture();
  assert.equal(await main(['discovery', '--log-level', 'loud'], capture(), e3), 2);
  assert.match(e3.text(), /invalid --log-level "loud"/);
  const e4 = capture();
  assert.equal(await main(['discovery', '--grpc-addr', 'nowhere'], capture(), e4), 2);
  assert.match(e4.text(), /invalid listen address "nowhere"/);
});

interface Started {
  child: ChildProcessWithoutNullStreams;
  ready: Record<string, string>;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** Spawns `isthmus discovery` and resolves with its ready line (or rejects with its stderr if it exits first). */
function startDiscovery(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'discovery', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => resolve({ child, ready: JSON.parse(line) as Record<string, string>, stderr: () => stderr, exit }));
    void exit.then((code) => reject(Object.assign(new Error(`discovery exited with ${code}: ${stderr}`), { code, stderr })));
  });
}

test('discovery: ready line, /ready, busy port exits 1 naming the address, SIGTERM exits 0', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'isthmus-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(
    join(dir, 'se.yaml'),
    'apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: a, namespace: default}\nspec:\n  hosts: [a.default.svc.cluster.local]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  resolution: STATIC\n  endpoints: [{address: 127.0.0.10}]\n',
  );
  const ports = ['--grpc-addr', '127.0.0.1:0', '--http-addr', '127.0.0.1:0', '--monitoring-addr', '127.0.0.1:0'];
  const s = await startDiscovery(['--config-dir', dir, ...ports, '--log-json']);
  t.after(() => {
    if (s.child.exitCode === null) s.child.kill('SIGKILL');
  });
  assert.deepEqual(Object.keys(s.ready), ['event', 'grpc', 'http', 'monitoring']);
  assert.equal(s.ready.event, 'ready');
  for (const k of ['grpc', 'http', 'monitoring']) assert.match(s.ready[k] ?? '', /^127\.0\.0\.1:[1-9]\d*$/);
  assert.equal((await fetch(`http://${s.ready.http}/ready`)).status, 200);
  assert.match(await (await fetch(`http://${s.ready.monitoring}/metrics`)).text(), /^pilot_xds 0$/m);

  const busy = await startDiscovery(['--config-dir', dir, '--grpc-addr', s.ready.grpc ?? '', '--http-addr', '127.0.0.1:0', '--monitoring-addr', '127.0.0.1:0']).then(
    () => assert.fail('a second discovery on a busy port started'),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, new RegExp(`cannot listen for xDS on ${(s.ready.grpc ?? '').replace(/\./g, '\\.')}: address already in use`));

  s.child.kill('SIGTERM');
  assert.equal(await s.exit, 0);
  assert.match(s.stderr(), /"msg":"stopped"/);
});

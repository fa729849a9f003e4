// `isthmus demo` end to end, as a user runs it: Bookinfo, httpbin and sleep behind an ingress gateway on
// 127.0.0.1:8080; productpage answers through the gateway; request routing applied with isthmus apply sends every
// page to reviews v1; Ctrl-C stops everything. Skipped when the demo's fixed ports are taken (e.g. a demo is running).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runConfigCommand } from '../../src/cli/apply.js';
import { httpGet, httpGetJson } from '../../src/local/http.js';
import { readState } from '../../src/local/state.js';
import type { UpProcess } from './support.js';
import { REPO_ROOT, canBind, capture, meshPids, startIsthmus, waitGone } from './support.js';

const root = mkdtempSync(join(tmpdir(), 'isthmus-demo-test-'));
let demo: UpProcess | undefined;
after(async () => {
  if (demo && demo.child.exitCode === null && demo.child.signalCode === null) {
    demo.child.kill('SIGTERM');
    await Promise.race([demo.exited(), new Promise((r) => setTimeout(r, 15_000))]);
  }
  rmSync(root, { recursive: true, force: true });
});

const PORTS: [string, number][] = [['127.0.0.1', 8080], ['127.0.0.1', 15010], ['127.0.0.1', 15080], ['127.0.0.1', 15014], ['127.0.10.1', 9080], ['127.0.12.1', 15000]];

/** Resident and proportional set size (MB): RSS counts the shared Node.js binary once per process, PSS splits it. */
function memoryMb(pid: number): { rss: number; pss: number } {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) / 1024;
    return { rss: kb('Rss'), pss: kb('Pss') };
  } catch {
    return { rss: 0, pss: 0 };
  }
}

/** Whether the generators build the sidecars' HTTP proxy port (HCM, not a TCP passthrough) yet. */
async function outboundSupported(http: string): Promise<boolean> {
  const id = 'sidecar~127.0.10.1~productpage-v1.default~default.svc.cluster.local';
  const dump = (await httpGetJson(`http://${http}/debug/config_dump?proxyID=${encodeURIComponent(id)}`, 5000)) as { configs: { dynamic_listeners?: { name: string; active_state: { listener: unknown } }[] }[] };
  const listener = dump.configs.flatMap((c) => c.dynamic_listeners ?? []).find((l) => l.name === '127.0.10.1_15001');
  return JSON.stringify(listener?.active_state.listener ?? {}).includes('http_connection_manager');
}

test('isthmus demo serves productpage through the gateway and follows isthmus apply', { timeout: 240_000 }, async (t) => {
  for (const [host, port] of PORTS) {
    if (!(await canBind(host, port))) {
      t.skip(`${host}:${port} is in use (a demo already running?)`);
      return;
    }
  }
  const runDir = join(root, 'run');
  const env = { XDG_RUNTIME_DIR: join(root, 'xdg') };
  const t0 = Date.now();
  demo = startIsthmus(['demo', '--run-dir', runDir, '--timeout', '120s'], env);
  const banner = await demo.waitFor('Press Ctrl-C to stop.', 150_000);
  t.diagnostic(`ready after ${((Date.now() - t0) / 1000).toFixed(1)} s (the runner's own count: ${/ready in ([\d.]+) s/.exec(banner)?.[1]} s)`);
  assert.match(banner, /Open http:\/\/127\.0\.0\.1:8080\/productpage/);
  assert.match(banner, /isthmus apply -f samples\/bookinfo\/networking\/virtual-service-all-v1\.yaml/);
  const pids = meshPids(runDir);
  assert.equal(pids.length, 1 + 1 + 9 + 9, 'discovery, gateway, 9 sidecars, 9 apps');
  const mem = [...pids, demo.child.pid ?? 0].map(memoryMb).reduce((a, b) => ({ rss: a.rss + b.rss, pss: a.pss + b.pss }));
  t.diagnostic(`memory of the runner and its ${pids.length} processes: RSS ${mem.rss.toFixed(0)} MB, PSS ${mem.pss.toFixed(0)} MB (TypeScript through tsx; compiled JS uses less)`);
  assert.ok(mem.pss < 1536, `PSS ${mem.pss.toFixed(0)} MB`);

  const page = await httpGet('http://127.0.0.1:8080/productpage', 10_000);
  assert.equal(page.status, 200);
  assert.match(page.body, /<title>Simple Bookstore App<\/title>/);
  assert.equal((await httpGet('http://127.0.0.1:8080/not-routed', 5000)).status, 404);

  const http = readState(runDir).discovery!.http;
  if (!(await outboundSupported(http))) {
    t.diagnostic('outbound calls need the generators to build Sidecar egress ports of protocol HTTP_PROXY (docs/local-mode.md): page content not checked');
  } else {
    await t.test('productpage shows details and reviews fetched through the sidecars', async () => {
      const body = (await httpGet('http://127.0.0.1:8080/productpage', 10_000)).body;
      assert.doesNotMatch(body, /Error fetching product (details|reviews)/);
      assert.match(body, /Reviews served by:/);
    });
    await t.test('request routing: with destination-rule-all and virtual-service-all-v1 every page comes from reviews-v1', async () => {
      const files = ['destination-rule-all.yaml', 'virtual-service-all-v1.yaml'].map((f) => join(REPO_ROOT, 'samples/bookinfo/networking', f));
      const r = await capture((out, err) => runConfigCommand('apply', files.flatMap((f) => ['-f', f]), out, err, env));
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /proxies SYNCED/);
      for (let i = 0; i < 10; i++) {
        const body = (await httpGet('http://127.0.0.1:8080/productpage', 10_000)).body;
        assert.match(body, /Reviews served by:\s*(<[^>]+>\s*)*reviews-v1/);
      }
    });
  }

  demo.child.kill('SIGINT');
  assert.equal(await demo.exited(), 0, demo.output());
  assert.deepEqual(await waitGone(pids, 5000), []);
  for (const [host, port] of PORTS) assert.ok(await canBind(host, port), `${host}:${port} still bound`);
});

// Istio's traffic-management tasks replayed against `isthmus demo` as a user follows them: the task YAML unchanged,
// applied with `isthmus apply -f`, traffic through the ingress gateway (127.0.0.1:8080) or sleep's sidecar (HTTP_PROXY).
// Request routing, fault injection, traffic shifting, request timeouts, circuit breaking, mirroring, ingress.
// Skipped when the demo's fixed ports are busy (e.g. a demo is already running).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { readState } from '../../src/local/state.js';
import { REPO_ROOT, canBind, meshPids, waitGone } from '../local/support.js';
import type { Demo, Page, Reply } from './tasks-support.js';
import { ISTHMUS, accessLogEntries, login, parsePage, pool, runCli, startCli, sumStat, until, userEnv, viaGateway, viaSidecar } from './tasks-support.js';

const PORTS: [string, number][] = [['127.0.0.1', 8080], ['127.0.0.1', 15010], ['127.0.0.1', 15080], ['127.0.0.1', 15014], ['127.0.10.1', 9080], ['127.0.15.1', 15001]];
let busy: string | undefined;
for (const [host, port] of PORTS) if (!busy && !(await canBind(host, port))) busy = `${host}:${port} is in use (a demo already running?): Istio task replay skipped`;

const root = mkdtempSync(join(tmpdir(), 'isthmus-tasks-test-'));
const runDir = join(root, 'run');
const env = userEnv({ XDG_RUNTIME_DIR: join(root, 'xdg') });
let demo: Demo | undefined;
let lateBusy: string | undefined;

/** An `it` that is skipped when the demo could not start because one of its fixed ports was taken meanwhile. */
function task(name: string, fn: (t: TestContext) => Promise<void>): void {
  it(name, async (t) => {
    if (lateBusy) return t.skip(lateBusy);
    await fn(t);
  });
}
let pids: number[] = [];

const bookinfo = (f: string): string => join(REPO_ROOT, 'samples/bookinfo/networking', f);
const httpbin = (f: string): string => join(REPO_ROOT, 'samples/httpbin/networking', f);

/** `isthmus apply|delete -f FILE...` as a user types it; asserts success (it waits for every proxy SYNCED). */
async function config(verb: 'apply' | 'delete', ...files: string[]): Promise<void> {
  const r = await runCli([verb, ...files.flatMap((f) => ['-f', f]), '--run-dir', runDir], env);
  assert.equal(r.code, 0, `isthmus ${verb} ${files.join(' ')}: exit ${r.code}\n${r.out}${r.err}`);
  if (/ (created|configured|deleted)$/m.test(r.out)) assert.match(r.out, /proxies SYNCED/, r.out);
}

async function page(cookie?: string, timeoutMs?: number): Promise<Page & { reply: Reply }> {
  const reply = await viaGateway('/productpage', cookie, timeoutMs);
  assert.equal(reply.status, 200, reply.body.slice(0, 300));
  return { reply, ...parsePage(reply.body) };
}

function sleepSidecar(): { host: string; port: number; admin: string } {
  const w = readState(runDir).workloads.find((x) => x.workload === 'sleep');
  assert.ok(w, 'sleep workload in state.json');
  return { host: w.ip, port: 15001, admin: `http://${w.ip}:15000` };
}

/** The log file of a workload's app or sidecar process (a sidecar's stdout carries its access log). */
function processLog(workload: string, role: 'app' | 'sidecar'): string {
  const s = readState(runDir);
  const w = s.workloads.find((x) => x.workload === workload);
  const p = s.processes.find((x) => x.role === role && x.owner === w?.name);
  assert.ok(p, `${role} process of ${workload} in state.json`);
  try {
    return readFileSync(p.log, 'utf8');
  } catch {
    return '';
  }
}

after(async () => {
  if (demo && demo.child.exitCode === null && demo.child.signalCode === null) {
    demo.child.kill('SIGTERM');
    await Promise.race([demo.exited(), new Promise((r) => setTimeout(r, 15_000))]);
  }
  if (pids.length > 0) {
    const left = await waitGone(pids, 10_000);
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    assert.deepEqual(left, [], 'processes left after the demo stopped');
  }
  rmSync(root, { recursive: true, force: true });
});

describe("Istio's traffic-management tasks on isthmus demo", { skip: busy ?? false, timeout: 300_000 }, () => {
  let jason = '';

  before(async () => {
    const t0 = Date.now();
    demo = startCli(['demo', '--run-dir', runDir, '--timeout', '120s'], env);
    try {
      await demo.waitFor('Press Ctrl-C to stop.', 150_000);
    } catch (e) {
      // Another demo (e.g. test/local/demo.test.ts in parallel) took a port between the check above and now.
      const taken = /(\S+:\d+) is already in use/.exec(demo.output());
      if (!taken) throw e;
      lateBusy = `${taken[1]} was taken while the demo started (another demo running?): Istio task replay skipped`;
      return;
    }
    pids = meshPids(runDir);
    process.stderr.write(`# demo ready after ${((Date.now() - t0) / 1000).toFixed(1)} s (${ISTHMUS.compiled ? 'compiled dist/' : 'TypeScript through tsx'})\n`);
    jason = await login('jason');
  }, { timeout: 160_000 });

  task('ingress: the gateway serves the routed paths and answers 404 to the others', async () => {
    assert.equal((await viaGateway('/productpage')).status, 200);
    assert.equal((await viaGateway('/api/v1/products')).status, 200);
    for (const path of ['/nope', '/', '/productpage/x', '/health']) assert.equal((await viaGateway(path)).status, 404, path);
  });

  task('request routing: all v1, then end-user jason → reviews v2 (black stars), everyone else v1', async () => {
    await config('apply', bookinfo('destination-rule-all.yaml'));
    await config('apply', bookinfo('virtual-service-all-v1.yaml'));
    for (let i = 0; i < 6; i++) {
      const p = await page(i % 2 === 0 ? jason : undefined);
      assert.match(p.servedBy ?? '', /^reviews-v1/, `page ${i}`);
      assert.equal(p.stars, 'none');
    }
    await config('apply', bookinfo('virtual-service-reviews-test-v2.yaml'));
    for (let i = 0; i < 4; i++) {
      const j = await page(jason);
      assert.match(j.servedBy ?? '', /^reviews-v2/);
      assert.equal(j.stars, 'black');
      const anon = await page();
      assert.match(anon.servedBy ?? '', /^reviews-v1/);
      assert.equal(anon.stars, 'none');
    }
    const other = await page(await login('alice'));
    assert.match(other.servedBy ?? '', /^reviews-v1/);
  });

  task('fault injection: a 7 s ratings delay for jason fails reviews in about 6 s; an HTTP 500 abort shows ratings unavailable', async (t) => {
    await config('apply', bookinfo('virtual-service-ratings-test-delay.yaml'));
    const slow = await page(jason, 20_000);
    t.diagnostic(`jason's page with the 7 s ratings delay took ${(slow.reply.ms / 1000).toFixed(2)} s`);
    assert.ok(slow.reviewsError, `expected the reviews error text; reviews served by ${slow.servedBy}`);
    assert.ok(slow.reply.ms > 2500 && slow.reply.ms < 8000, `page took ${slow.reply.ms.toFixed(0)} ms; want about 6 s (3 s timeout + 1 retry)`);
    const anon = await page();
    assert.ok(anon.reply.ms < 2500 && !anon.reviewsError, 'others are not delayed');

    await config('apply', bookinfo('virtual-service-ratings-test-abort.yaml'));
    const aborted = await page(jason);
    assert.match(aborted.servedBy ?? '', /^reviews-v2/);
    assert.ok(aborted.ratingsUnavailable, 'Ratings service is currently unavailable');
    assert.ok(aborted.reply.ms < 2500, `abort page took ${aborted.reply.ms.toFixed(0)} ms`);
  });

  task('traffic shifting: 50/50 v1/v3 over 200 page loads (±10%), then 100% v3 with red stars', async (t) => {
    await config('apply', bookinfo('virtual-service-reviews-50-v3.yaml'));
    const pages = await pool(200, 4, () => page());
    const v1 = pages.filter((p) => /^reviews-v1/.test(p.servedBy ?? '')).length;
    const v3 = pages.filter((p) => /^reviews-v3/.test(p.servedBy ?? '')).length;
    t.diagnostic(`reviews-50-v3: v1 ${v1}, v3 ${v3} of 200 page loads`);
    assert.equal(v1 + v3, 200, `every page from v1 or v3 (v1 ${v1}, v3 ${v3})`);
    assert.ok(v1 >= 80 && v1 <= 120, `v1 ${v1}/200, v3 ${v3}/200; want 50% ± 10%`);
    for (const p of pages) assert.equal(p.stars, /^reviews-v3/.test(p.servedBy ?? '') ? 'red' : 'none');

    await config('apply', bookinfo('virtual-service-reviews-v3.yaml'));
    for (const p of await pool(20, 4, (i) => page(i % 2 === 0 ? jason : undefined))) {
      assert.match(p.servedBy ?? '', /^reviews-v3/);
    }
    assert.equal((await page()).stars, 'red');
  });

  task('request timeouts: with ratings 2 s slow, a 0.5 s reviews timeout fails the page fast', async (t) => {
    await config('apply', bookinfo('virtual-service-reviews-v2-timeout.yaml'));
    const slow = await page();
    assert.match(slow.servedBy ?? '', /^reviews-v2/);
    assert.equal(slow.stars, 'black');
    assert.ok(slow.reply.ms >= 1900, `with the 2 s ratings delay the page took ${slow.reply.ms.toFixed(0)} ms`);

    await config('apply', bookinfo('virtual-service-reviews-timeout.yaml'));
    const fast = await page();
    t.diagnostic(`page with ratings 2 s slow: ${(slow.reply.ms / 1000).toFixed(2)} s; with the 0.5 s reviews timeout: ${(fast.reply.ms / 1000).toFixed(2)} s`);
    assert.ok(fast.reviewsError, `expected the reviews error text; reviews served by ${fast.servedBy}`);
    assert.ok(fast.reply.ms < 2000, `page took ${fast.reply.ms.toFixed(0)} ms; want < 2 s (0.5 s timeout, 1 retry)`);
  });

  task('circuit breaking: from sleep, 1 client gets no 503; 3 concurrent clients overflow (503 UO, upstream_rq_pending_overflow)', async (t) => {
    await config('apply', httpbin('destination-rule-circuit-breaker.yaml'));
    const sleep = sleepSidecar();
    const stats = async (): Promise<number> => {
      const r = await fetch(`${sleep.admin}/stats`);
      assert.equal(r.status, 200, `GET ${sleep.admin}/stats`);
      return sumStat(await r.text(), 'httpbin', 'upstream_rq_pending_overflow');
    };
    // A query tag per phase finds these requests in sleep's sidecar access log.
    const tag = `cb${Date.now().toString(36)}`;
    const overflow0 = await stats();
    const single = await pool(10, 1, () => viaSidecar(sleep, `http://httpbin:8000/get?${tag}=single`));
    assert.deepEqual(single.map((r) => r.status), new Array<number>(10).fill(200), 'one client at a time: no 503');

    const concurrent = await pool(30, 3, () => viaSidecar(sleep, `http://httpbin:8000/get?${tag}=concurrent`));
    const codes = concurrent.map((r) => r.status);
    const n503 = codes.filter((c) => c === 503).length;
    assert.ok(n503 > 0, `3 concurrent clients: expected some 503, got ${JSON.stringify(codes)}`);
    assert.ok(codes.every((c) => c === 200 || c === 503), JSON.stringify(codes));
    const overflow = await stats();
    t.diagnostic(`3 clients × 10 requests: ${n503} × 503, upstream_rq_pending_overflow +${overflow - overflow0}`);
    assert.ok(overflow - overflow0 > 0, `upstream_rq_pending_overflow for httpbin went ${overflow0} → ${overflow}`);
    // Flag UO (upstream overflow) as Envoy shows it to the caller: x-envoy-overloaded and the overflow reset reason.
    for (const r of concurrent.filter((x) => x.status === 503)) {
      assert.equal(r.headers['x-envoy-overloaded'], 'true');
      assert.match(r.body, /reset reason: overflow/);
    }
    // What `kubectl logs sleep -c istio-proxy` shows in Istio's task: the sidecar logs every request (meshConfig
    // accessLogFile /dev/stdout lands in logs/<replica>.sidecar.log), the overflowed ones as 503 with flag UO.
    const logged = await until('sleep\'s sidecar logged all 40 requests', 10_000, () => {
      const log = processLog('sleep', 'sidecar');
      const s = accessLogEntries(log, `${tag}=single`);
      const c = accessLogEntries(log, `${tag}=concurrent`);
      return s.length >= 10 && c.length >= 30 ? { single: s, concurrent: c } : undefined;
    });
    const show = (l: { status: number; flags: string }[]): string[] => l.map((e) => `${e.status} ${e.flags}`);
    assert.deepEqual(show(logged.single), new Array<string>(10).fill('200 -'), 'one client at a time: no UO');
    assert.equal(logged.concurrent.length, 30);
    assert.deepEqual(show(logged.concurrent.filter((e) => e.status === 503)), new Array<string>(n503).fill('503 UO'));
    assert.deepEqual(show(logged.concurrent.filter((e) => e.status !== 503)), new Array<string>(30 - n503).fill('200 -'));
    for (const e of logged.concurrent) assert.match(e.upstreamCluster, /\|httpbin\./, e.upstreamCluster);
  });

  task('mirroring: requests to httpbin go to v1 and a copy reaches v2 with a -shadow authority', async () => {
    await config('apply', httpbin('httpbin-v1-v2.yaml')); // replaces the circuit-breaker DestinationRule httpbin
    const sleep = sleepSidecar();
    const tag = `m${Date.now().toString(36)}`;
    // Before mirroring, v2 sees none of them.
    assert.equal((await viaSidecar(sleep, `http://httpbin:8000/get?${tag}=before`)).status, 200);
    await config('apply', httpbin('virtual-service-mirror.yaml'));
    for (let i = 0; i < 5; i++) assert.equal((await viaSidecar(sleep, `http://httpbin:8000/get?${tag}=${i}`)).status, 200);

    const lines = (log: string): string[] => log.split('\n').filter((l) => l.includes(`${tag}=`));
    const v2 = await until('v2 logs every mirrored request', 10_000, () => {
      const l = lines(processLog('httpbin-v2', 'app'));
      return l.length >= 5 ? l : undefined;
    });
    const v1 = lines(processLog('httpbin-v1', 'app'));
    assert.equal(v1.filter((l) => l.includes(`${tag}=before`)).length, 1, 'the request before mirroring reached v1');
    for (let i = 0; i < 5; i++) {
      assert.equal(v1.filter((l) => l.includes(`${tag}=${i} `)).length, 1, `request ${i} served by v1 once:\n${v1.join('\n')}`);
      const shadow = v2.filter((l) => l.includes(`${tag}=${i} `));
      assert.equal(shadow.length, 1, `request ${i} mirrored to v2 once:\n${v2.join('\n')}`);
      assert.match(shadow[0], /authority=[^ ]*-shadow(:\d+)? /, shadow[0]);
    }
    assert.ok(!v2.some((l) => l.includes(`${tag}=before`)), 'v2 got nothing before mirroring');
  });

  task('the demo stops on Ctrl-C with no process left', async () => {
    assert.ok(demo);
    demo.child.kill('SIGINT');
    assert.equal(await demo.exited(), 0, demo.output().slice(-2000));
    assert.deepEqual(await waitGone(pids, 5000), []);
    for (const [host, port] of PORTS) assert.ok(await canBind(host, port), `${host}:${port} still bound`);
  });
});

// What keeps a local mesh from being ready: proxies not connected or not SYNCED (discovery's /debug/syncz), apps not
// answering their health path directly or through their sidecar, `open` URLs not answering.
import { connect } from 'node:net';
import { probe } from './http.js';
import type { MeshPlan } from './plan.js';
import { openUrls } from './plan.js';
import type { SyncEntry } from './sync.js';
import { fetchSyncz, inSync } from './sync.js';

function describeSync(e: SyncEntry | undefined): string {
  if (!e) return 'not connected';
  const bad = Object.entries(e.types)
    .filter(([, t]) => t.status !== 'SYNCED' || t.nack)
    .map(([k, t]) => `${k.toUpperCase()} ${t.nack ? `NACK: ${t.nack.message}` : t.status}`);
  if (!e.types.cds) bad.push('CDS not requested');
  if (!e.types.lds) bad.push('LDS not requested');
  return bad.join(', ');
}

export interface ProcView {
  name: string;
  running: boolean;
  /** ms since the current process started. */
  upMs: number;
}

/** An app without a health path that has not crashed for this long counts as started. */
export const SETTLE_MS = 1000;

function tcpConnect(host: string, port: number, timeoutMs = 1000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (err?: string): void => {
      s.destroy();
      resolve(err);
    };
    s.setTimeout(timeoutMs, () => done('no answer'));
    s.once('connect', () => done());
    s.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'connection refused' : e.message));
  });
}

/** One line per problem; empty when the mesh is ready. */
export async function readinessProblems(plan: MeshPlan, discoveryHttp: string, procs: readonly ProcView[] = []): Promise<string[]> {
  const problems: string[] = [];
  const byName = new Map(procs.map((p) => [p.name, p]));
  for (const p of procs) if (!p.running) problems.push(`${p.name}: not running`);
  const expected = [...plan.gateways.map((g) => ({ id: g.proxyId, name: `gateway ${g.spec.name}` })), ...plan.instances.filter((i) => i.proxyId).map((i) => ({ id: i.proxyId!, name: `sidecar of ${i.name}` }))];
  let entries: SyncEntry[] = [];
  try {
    entries = await fetchSyncz(discoveryHttp);
  } catch (e) {
    problems.push(`control plane debug endpoint ${discoveryHttp}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const byId = new Map(entries.map((e) => [e.proxy, e]));
  for (const x of expected) {
    const e = byId.get(x.id);
    if (!e || !inSync(e)) problems.push(`${x.name}: ${describeSync(e)}`);
  }
  const proxiesReady = problems.length === 0;
  const checks: Promise<void>[] = [];
  const check = (url: string, what: string): void => {
    checks.push(
      probe(url).then((p) => {
        if (!p.ok) problems.push(`${what}: GET ${url}: ${p.detail}`);
      }),
    );
  };
  for (const i of plan.instances) {
    const path = i.workload.healthPath;
    const first = i.ports[0];
    if (path === undefined && first) {
      // No health path: the app must at least accept connections on its port.
      checks.push(
        tcpConnect(i.ip, first.listen).then((err) => {
          if (err) problems.push(`app ${i.name}: ${i.ip}:${first.listen}: ${err}`);
        }),
      );
    } else if (!first) {
      const p = byName.get(i.name);
      if (p && p.upMs < SETTLE_MS) problems.push(`app ${i.name}: started ${p.upMs} ms ago`);
    }
    if (path === undefined || !first) continue;
    check(`http://${i.ip}:${first.listen}${path}`, `app ${i.name}`);
    if (i.proxyId && proxiesReady) check(`http://${i.ip}:${first.number}${path}`, `app ${i.name} through its sidecar`);
  }
  if (proxiesReady) for (const url of openUrls(plan)) if (url) check(url, 'open URL');
  await Promise.all(checks);
  return problems;
}

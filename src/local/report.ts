// Tables for the operator commands: `proxy-status` (istioctl's columns and SYNCED / STALE / NOT SENT per xDS type)
// and `status` (workloads, addresses, ports, processes, health).
import { PROXY_READINESS_PORT } from './constants.js';
import { probe } from './http.js';
import type { Probe } from './http.js';
import type { ProcState, RunState } from './state.js';
import type { SyncEntry, SyncType } from './sync.js';

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('   ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** `sidecar~IP~pod.ns~ns.svc.cluster.local` → `pod.ns` (istioctl's NAME column). */
export function proxyName(id: string): string {
  const parts = id.split('~');
  return parts.length === 4 && parts[2] ? parts[2] : id;
}

function cell(t: SyncType | undefined): string {
  if (!t) return 'NOT SENT';
  if (t.status === 'NOT_SENT') return 'NOT SENT';
  return t.nack ? `${t.status} (NACK)` : t.status;
}

/** istioctl proxy-status: NAME CLUSTER CDS LDS EDS RDS ECDS ISTIOD VERSION, sorted by name, then mesh proxies not connected. */
export function proxyStatusReport(entries: readonly SyncEntry[], state: RunState): string {
  const istiod = state.discovery ? `discovery@${state.discovery.grpc}` : 'discovery';
  const rows = [...entries]
    .sort((a, b) => proxyName(a.proxy).localeCompare(proxyName(b.proxy)))
    .map((e) => [proxyName(e.proxy), 'Kubernetes', cell(e.types.cds), cell(e.types.lds), cell(e.types.eds), cell(e.types.rds), e.types.ecds ? cell(e.types.ecds) : 'IGNORED', istiod, e.istioVersion || '-']);
  let out = table(['NAME', 'CLUSTER', 'CDS', 'LDS', 'EDS', 'RDS', 'ECDS', 'ISTIOD', 'VERSION'], rows);
  const connected = new Set(entries.map((e) => e.proxy));
  const expected = [...state.gateways.map((g) => g.proxyId), ...state.workloads.map((w) => w.proxyId).filter((x): x is string => x !== undefined)];
  const missing = expected.filter((id) => !connected.has(id)).map(proxyName);
  if (missing.length > 0) out += `\nnot connected: ${missing.join(', ')}\n`;
  const nacks = entries.flatMap((e) => Object.entries(e.types).filter(([, t]) => t.nack).map(([k, t]) => `  ${proxyName(e.proxy)} ${k.toUpperCase()} rejected version ${t.nack?.version}: ${t.nack?.message}`));
  if (nacks.length > 0) out += `\nrejected config (NACK):\n${nacks.join('\n')}\n`;
  return out;
}

function procCell(p: ProcState | undefined): string {
  if (!p) return '-';
  if (p.pid !== undefined) return `${p.pid}${p.restarts > 0 ? ` (${p.restarts} restarts)` : ''}`;
  return `${p.status}${p.lastExit ? `: ${p.lastExit}` : ''}`;
}

function healthCell(probes: (Probe | undefined)[]): string {
  const present = probes.filter((p): p is Probe => p !== undefined);
  if (present.length === 0) return '-';
  const bad = present.find((p) => !p.ok);
  return bad ? `unhealthy (${bad.detail})` : 'healthy';
}

/** `isthmus status`: the control plane, gateways and every workload instance, probed now. */
export async function statusReport(state: RunState): Promise<string> {
  const procs = new Map(state.processes.map((p) => [p.name, p]));
  const out: string[] = [];
  out.push(`mesh ${state.mesh} (${state.phase}), isthmus up PID ${state.runnerPid}, run directory ${state.runDir}\n`);
  const d = procs.get('discovery');
  out.push(`control plane: PID ${procCell(d)}, xDS ${state.discovery?.grpc ?? '-'}, debug http://${state.discovery?.http ?? '-'}/debug/syncz, metrics http://${state.discovery?.monitoring ?? '-'}/metrics\n\n`);

  if (state.gateways.length > 0) {
    const rows = await Promise.all(
      state.gateways.map(async (g) => {
        const ready = await probe(`http://${g.ip}:${PROXY_READINESS_PORT}/healthz/ready`, 1500);
        const ports = g.ports.map((p) => (p.hostPort !== undefined ? `${p.port} (127.0.0.1:${p.hostPort})` : String(p.port))).join(',');
        return [g.name, g.namespace, g.ip, ports, procCell(procs.get(g.name)), ready.ok ? 'ready' : `not ready (${ready.detail})`];
      }),
    );
    out.push(table(['GATEWAY', 'NAMESPACE', 'ADDRESS', 'PORTS', 'PID', 'HEALTH'], rows), '\n');
  }
  const rows = await Promise.all(
    state.workloads.map(async (w) => {
      const first = w.ports[0];
      const direct = w.healthPath && first ? probe(`http://${w.ip}:${first.appPort}${w.healthPath}`, 1500) : Promise.resolve(undefined);
      const viaSidecar = w.healthPath && first && w.sidecar ? probe(`http://${w.ip}:${first.port}${w.healthPath}`, 1500) : Promise.resolve(undefined);
      const proxyReady = w.sidecar ? probe(`http://${w.ip}:${PROXY_READINESS_PORT}/healthz/ready`, 1500) : Promise.resolve(undefined);
      const [a, b, c] = await Promise.all([direct, viaSidecar, proxyReady]);
      const app = procs.get(w.name);
      const health = app?.pid === undefined ? (app?.status ?? 'not running') : healthCell([a, b, c]);
      const ports = w.ports.map((p) => (w.sidecar ? `${p.port}→${p.appPort}` : String(p.port))).join(',') || '-';
      return [w.name, w.namespace, w.service ?? '-', w.ip, ports, procCell(app), w.sidecar ? procCell(procs.get(`${w.name}.sidecar`)) : 'none', health];
    }),
  );
  out.push(table(['WORKLOAD', 'NAMESPACE', 'SERVICE', 'ADDRESS', 'PORTS', 'APP PID', 'SIDECAR PID', 'HEALTH'], rows));
  if (state.urls.length > 0) out.push(`\nopen: ${state.urls.join('  ')}\n`);
  return out.join('');
}

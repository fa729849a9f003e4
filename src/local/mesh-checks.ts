// Checks across the fields of a mesh file: unique names, one port list per service, reserved and clashing ports,
// gateway addresses and the `open` references (the per-field checks are in mesh-file.ts).
import { joinPath } from '../api/errors.js';
import type { Reader } from './fields.js';
import type { MeshSpec, ServiceSpec } from './mesh-file.js';
import { RESERVED_PORTS } from './constants.js';

/** Instance (process) names of a workload: its name, or `<name>-1..N` with replicas. */
export function instanceNames(name: string, replicas: number): string[] {
  if (replicas <= 1) return [name];
  return Array.from({ length: replicas }, (_, i) => `${name}-${i + 1}`);
}

const portsKey = (s: ServiceSpec): string => s.ports.map((p) => `${p.number}/${p.protocol}/${p.name}`).join(',');

export function crossCheck(mesh: MeshSpec, r: Reader): void {
  const owners = new Map<string, string>();
  const claim = (name: string, path: string, what: string): void => {
    if (!name) return;
    const prev = owners.get(name);
    if (prev !== undefined) r.add(path, `${what} ${JSON.stringify(name)} is already used by ${prev}`);
    else owners.set(name, path);
  };
  mesh.gateways.forEach((g, i) => claim(g.name, joinPath(joinPath('gateways', i), 'name'), 'name'));
  mesh.workloads.forEach((w, i) => {
    const p = joinPath(joinPath('workloads', i), 'name');
    for (const inst of instanceNames(w.name, w.replicas)) claim(inst, p, inst === w.name ? 'name' : `replica name`);
  });

  const services = new Map<string, { spec: ServiceSpec; path: string }>();
  mesh.workloads.forEach((w, i) => {
    const wp = joinPath('workloads', i);
    const svc = w.service;
    if (!svc) return;
    const sp = joinPath(wp, 'service');
    const key = `${w.namespace}/${svc.name}`;
    const first = services.get(key);
    if (!first) services.set(key, { spec: svc, path: sp });
    else if (portsKey(first.spec) !== portsKey(svc)) {
      r.add(sp, `service ${key} is declared with other ports at ${first.path} (${portsKey(first.spec)}); every workload of a service needs the same ports`);
    }
    if (w.labels.app !== svc.name) {
      r.add(joinPath(joinPath(wp, 'labels'), 'app'), `must be ${JSON.stringify(svc.name)}: the ServiceEntry of service ${svc.name} selects its workloads by app=${svc.name}`);
    }
    const used = new Map<number, string>();
    svc.ports.forEach((p, j) => {
      const pp = svc.ports.length === 1 && j === 0 ? sp : joinPath(joinPath(sp, 'ports'), j);
      for (const [port, what] of [[p.number, 'service port'], [p.appPort, 'app port']] as const) {
        const reserved = RESERVED_PORTS.get(port);
        if (reserved) r.add(pp, `${what} ${port} is reserved for the sidecar (${reserved}) on the workload's address`);
        const prev = used.get(port);
        if (prev) r.add(pp, `${what} ${port} is already used as the ${prev}`);
        used.set(port, what);
      }
    });
  });

  const addresses = new Map<string, string>();
  const hostPorts = new Map<number, string>();
  mesh.gateways.forEach((g, i) => {
    const gp = joinPath('gateways', i);
    const prev = addresses.get(g.address);
    if (prev) r.add(joinPath(gp, 'address'), `${g.address} is already the address of ${prev}; each gateway needs its own address (its proxy ports 15000/15020/15021 live there)`);
    addresses.set(g.address, `gateway ${g.name}`);
    if (g.ports.length === 0) r.add(joinPath(gp, 'ports'), 'at least one port (a Gateway server port, e.g. 8080) is required');
    const seen = new Set<number>();
    g.ports.forEach((p, j) => {
      const pp = joinPath(joinPath(gp, 'ports'), j);
      if (seen.has(p.port)) r.add(pp, `port ${p.port} is listed twice`);
      seen.add(p.port);
      const reserved = RESERVED_PORTS.get(p.port);
      if (reserved) r.add(pp, `port ${p.port} is reserved for the gateway proxy (${reserved})`);
      if (p.hostPort !== undefined) {
        const other = hostPorts.get(p.hostPort);
        if (other) r.add(joinPath(pp, 'hostPort'), `hostPort ${p.hostPort} is already used by ${other}`);
        hostPorts.set(p.hostPort, `gateway ${g.name}`);
      }
    });
  });
  const cp = mesh.controlPlane;
  const cpPorts = new Map<number, string>();
  for (const [port, what] of [[cp.grpcPort, 'grpcPort'], [cp.httpPort, 'httpPort'], [cp.monitoringPort, 'monitoringPort']] as const) {
    if (port === 0) continue;
    const prev = cpPorts.get(port);
    if (prev) r.add(joinPath('controlPlane', what), `port ${port} is already the ${prev}`);
    cpPorts.set(port, what);
  }
  mesh.gateways.forEach((g, i) => {
    if (g.address !== cp.address) return;
    for (const p of [...g.ports.map((x) => x.port), 15000, 15020, 15021]) {
      const what = cpPorts.get(p);
      if (what) r.add(joinPath('gateways', i), `gateway ${g.name} on ${g.address} needs port ${p}, which is the control plane's ${what} on the same address`);
    }
  });

  mesh.open.forEach((o, i) => {
    if (o.url !== undefined) return;
    const op = joinPath('open', i);
    const g = mesh.gateways.find((x) => x.name === o.gateway);
    if (!g) {
      r.add(joinPath(op, 'gateway'), `no gateway named ${JSON.stringify(o.gateway)} (gateways: ${mesh.gateways.map((x) => x.name).join(', ') || 'none'})`);
      return;
    }
    if (o.port !== undefined && !g.ports.some((p) => p.port === o.port)) r.add(joinPath(op, 'port'), `gateway ${g.name} has no port ${o.port}`);
  });
}

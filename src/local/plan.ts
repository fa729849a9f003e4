// From a validated mesh file to a plan: one loopback address per workload replica (a block of 254 per service, as
// pods get IPs), each instance's ports, node id and app environment, and every address:port the mesh will bind.
import type { FieldError } from './fields.js';
import { FIRST_BLOCK, INSTANCE_LABEL, OUTBOUND_PROXY_PORT, PROXY_ADMIN_PORT, PROXY_READINESS_PORT, PROXY_STATUS_PORT } from './constants.js';
import { instanceNames } from './mesh-checks.js';
import type { GatewaySpec, MeshSpec, ServicePortSpec, WorkloadSpec } from './mesh-file.js';

export interface InstancePort extends ServicePortSpec {
  /** Where the app really listens: appPort behind a sidecar, the service port itself without one. */
  listen: number;
}

export interface InstancePlan {
  /** Pod-like name: the workload name, or `<workload>-N` with replicas. */
  name: string;
  workload: WorkloadSpec;
  ip: string;
  ports: InstancePort[];
  /** Labels of the WorkloadEntry and the proxy: the workload's plus the instance label. */
  labels: Record<string, string>;
  /** Istio node id of the sidecar, `sidecar~IP~POD.NS~NS.svc.DOMAIN`. */
  proxyId?: string;
}

export interface GatewayPlan {
  spec: GatewaySpec;
  ip: string;
  proxyId: string;
}

export interface ServicePlan {
  name: string;
  namespace: string;
  hostname: string;
  ports: ServicePortSpec[];
}

/** One address the mesh binds, for the busy-port check before anything starts. */
export interface Binding {
  host: string;
  port: number;
  /** What binds it, e.g. "sidecar of reviews-v2 (inbound 9080)". */
  owner: string;
}

export interface MeshPlan {
  mesh: MeshSpec;
  services: ServicePlan[];
  instances: InstancePlan[];
  gateways: GatewayPlan[];
}

export const nodeId = (type: 'sidecar' | 'router', ip: string, pod: string, ns: string, domain: string): string => `${type}~${ip}~${pod}.${ns}~${ns}.svc.${domain}`;

/**
 * Allocates addresses: the n-th distinct service (in order of first appearance; a workload without a service is a block
 * of its own) gets `<prefix>.<10+n>.0/24`, and its replicas .1, .2, ... in workload order.
 */
export function planMesh(mesh: MeshSpec): { plan?: MeshPlan; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const blocks = new Map<string, { third: number; next: number }>();
  const services = new Map<string, ServicePlan>();
  const instances: InstancePlan[] = [];
  const reserved = new Map<string, string>(mesh.gateways.map((g) => [g.address, `gateway ${g.name}`]));
  reserved.set(mesh.controlPlane.address, 'the control plane');
  mesh.workloads.forEach((w, i) => {
    const key = w.service ? `svc:${w.namespace}/${w.service.name}` : `wl:${w.name}`;
    let block = blocks.get(key);
    if (!block) {
      block = { third: FIRST_BLOCK + blocks.size, next: 1 };
      blocks.set(key, block);
      if (block.third > 255) errors.push({ path: `workloads[${i}]`, message: `too many services for addressPrefix ${mesh.addressPrefix} (at most ${256 - FIRST_BLOCK})` });
    }
    if (w.service && !services.has(key)) {
      services.set(key, { name: w.service.name, namespace: w.namespace, hostname: `${w.service.name}.${w.namespace}.svc.${mesh.domain}`, ports: w.service.ports });
    }
    for (const name of instanceNames(w.name, w.replicas)) {
      const n = block.next++;
      if (n > 254) {
        errors.push({ path: `workloads[${i}].replicas`, message: `service block ${mesh.addressPrefix}.${block.third}.0/24 is full (at most 254 replicas per service)` });
        break;
      }
      const ip = `${mesh.addressPrefix}.${block.third}.${n}`;
      const clash = reserved.get(ip);
      if (clash) errors.push({ path: `workloads[${i}]`, message: `${name} would get address ${ip}, which is the address of ${clash}; choose another address for it` });
      const ports = (w.service?.ports ?? []).map((p) => ({ ...p, listen: w.sidecar ? p.appPort : p.number }));
      const inst: InstancePlan = { name, workload: w, ip, ports, labels: { ...w.labels, [INSTANCE_LABEL]: name } };
      if (w.sidecar) inst.proxyId = nodeId('sidecar', ip, name, w.namespace, mesh.domain);
      instances.push(inst);
    }
  });
  if (errors.length > 0) return { errors };
  const gateways = mesh.gateways.map((g) => ({ spec: g, ip: g.address, proxyId: nodeId('router', g.address, g.name, g.namespace, mesh.domain) }));
  return { plan: { mesh, services: [...services.values()], instances, gateways }, errors };
}

/** Every address:port the mesh's processes will bind (port 0 entries are left out: they cannot be busy). */
export function bindings(plan: MeshPlan): Binding[] {
  const out: Binding[] = [];
  const cp = plan.mesh.controlPlane;
  for (const [port, what] of [[cp.grpcPort, 'xDS'], [cp.httpPort, 'debug'], [cp.monitoringPort, 'monitoring']] as const) {
    out.push({ host: cp.address, port, owner: `control plane (${what})` });
  }
  const proxyPorts = (ip: string, who: string): void => {
    out.push({ host: ip, port: PROXY_ADMIN_PORT, owner: `${who} (admin)` });
    out.push({ host: ip, port: PROXY_STATUS_PORT, owner: `${who} (status)` });
    out.push({ host: ip, port: PROXY_READINESS_PORT, owner: `${who} (readiness)` });
  };
  for (const g of plan.gateways) {
    proxyPorts(g.ip, `gateway ${g.spec.name}`);
    for (const p of g.spec.ports) {
      out.push({ host: g.ip, port: p.port, owner: `gateway ${g.spec.name} (Gateway server port ${p.port})` });
      if (p.hostPort !== undefined && (p.hostPort !== p.port || g.ip !== '127.0.0.1')) {
        out.push({ host: '127.0.0.1', port: p.hostPort, owner: `gateway ${g.spec.name} (hostPort ${p.hostPort} → ${g.ip}:${p.port})` });
      }
    }
  }
  for (const inst of plan.instances) {
    if (inst.proxyId) {
      const who = `sidecar of ${inst.name}`;
      proxyPorts(inst.ip, who);
      out.push({ host: inst.ip, port: OUTBOUND_PROXY_PORT, owner: `${who} (outbound HTTP proxy)` });
      for (const p of inst.ports) out.push({ host: inst.ip, port: p.number, owner: `${who} (inbound ${p.name} ${p.number})` });
    }
    for (const p of inst.ports) out.push({ host: inst.ip, port: p.listen, owner: `app ${inst.name} (${p.name} ${p.listen})` });
  }
  return out.filter((b) => b.port !== 0);
}

/** `$(VAR)` references in a string, replaced from `vars` (Kubernetes' rules: unknown stay as written, `$$` escapes). */
export function expandVars(s: string, vars: Readonly<Record<string, string>>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) => {
    if (name === undefined) return '$';
    return Object.hasOwn(vars, name) ? String(vars[name]) : m;
  });
}

/** Proxy variables a user's shell may carry that must not leak into apps (they reach the mesh through the sidecar). */
const PROXY_ENV = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy'];

/**
 * The app's environment: the runner's (minus proxy settings), then what local mode provides (BIND, HTTP_PROXY,
 * WORKLOAD_NAME, POD_NAME, POD_NAMESPACE, INSTANCE_IP, SERVICE_ACCOUNT, ISTHMUS_APP_PORT), then the mesh file's
 * `env`, then the workload's, with `$(VAR)` references expanded.
 */
export function appEnv(inst: InstancePlan, inherited: NodeJS.ProcessEnv, meshEnv: Readonly<Record<string, string>> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(inherited)) if (v !== undefined && !PROXY_ENV.includes(k)) env[k] = v;
  const w = inst.workload;
  const provided: Record<string, string> = {
    WORKLOAD_NAME: inst.name,
    POD_NAME: inst.name,
    POD_NAMESPACE: w.namespace,
    INSTANCE_IP: inst.ip,
    SERVICE_ACCOUNT: w.serviceAccount,
  };
  const first = inst.ports[0];
  if (first) {
    provided.BIND = `${inst.ip}:${first.listen}`;
    provided.ISTHMUS_APP_PORT = String(first.listen);
  }
  if (inst.proxyId) {
    provided.HTTP_PROXY = `http://${inst.ip}:${OUTBOUND_PROXY_PORT}`;
    provided.http_proxy = provided.HTTP_PROXY;
  }
  Object.assign(env, provided);
  for (const [k, v] of Object.entries(meshEnv)) env[k] = expandVars(v, env);
  for (const [k, v] of Object.entries(w.env)) env[k] = expandVars(v, env);
  return env;
}

/** The app's argv with `$(VAR)` references expanded from its environment. */
export function appArgv(inst: InstancePlan, env: Readonly<Record<string, string>>): string[] {
  return inst.workload.command.map((a) => expandVars(a, env));
}

/** The `open` entries as URLs: a gateway port is reached on 127.0.0.1:hostPort when published, else on its address. */
export function openUrls(plan: MeshPlan): string[] {
  return plan.mesh.open.map((o) => {
    if (o.url !== undefined) return o.url;
    const g = plan.gateways.find((x) => x.spec.name === o.gateway);
    if (!g) return '';
    const p = g.spec.ports.find((x) => x.port === (o.port ?? g.spec.ports[0]?.port)) ?? g.spec.ports[0];
    if (!p) return '';
    return p.hostPort !== undefined ? `http://127.0.0.1:${p.hostPort}${o.path}` : `http://${g.ip}:${p.port}${o.path}`;
  });
}

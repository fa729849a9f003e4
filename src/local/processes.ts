// The command lines of the mesh's processes: `isthmus discovery`, `isthmus proxy router|sidecar` (istio-proxy-like
// flags: node identity, labels, admin/status/readiness on the instance's address, no interception) and the apps.
import { join } from 'node:path';
import type { Program } from './command.js';
import { workloadProgram } from './command.js';
import { PROXY_ADMIN_PORT, PROXY_READINESS_PORT, PROXY_STATUS_PORT } from './constants.js';
import type { GatewayPlan, InstancePlan, MeshPlan } from './plan.js';
import { appArgv, appEnv } from './plan.js';
import type { ProcSpec } from './supervisor.js';

/** Environment of isthmus' own processes: the runner's, without proxy settings or PILOT_* overrides of the flags. */
export function isthmusEnv(inherited: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(inherited)) {
    if (/^(https?_proxy|all_proxy|no_proxy)$/i.test(k) || k.startsWith('PILOT_') || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  return env;
}

export function discoverySpec(plan: MeshPlan, isthmus: Program, configDir: string, logs: string, env: NodeJS.ProcessEnv, onLine: (l: string) => void): ProcSpec {
  const cp = plan.mesh.controlPlane;
  return {
    name: 'discovery',
    role: 'discovery',
    owner: 'control plane',
    file: isthmus.file,
    args: [
      ...isthmus.args,
      'discovery',
      '--config-dir', configDir,
      '--grpc-addr', `${cp.address}:${cp.grpcPort}`,
      '--http-addr', `${cp.address}:${cp.httpPort}`,
      '--monitoring-addr', `${cp.address}:${cp.monitoringPort}`,
      '--domain', plan.mesh.domain,
      '--log-level', cp.logLevel,
      ...(cp.accessLogFile ? ['--access-log-file', cp.accessLogFile] : []),
    ],
    cwd: process.cwd(),
    env: isthmusEnv(env),
    log: join(logs, 'discovery.log'),
    onLine,
    restart: true,
  };
}

interface ProxyIdentity {
  type: 'sidecar' | 'router';
  ip: string;
  pod: string;
  namespace: string;
  serviceAccount: string;
  labels: Record<string, string>;
}

/** `isthmus proxy sidecar|router` flags (see `isthmus proxy sidecar --help`). */
export function proxyArgs(id: ProxyIdentity, plan: MeshPlan, grpc: string): string[] {
  const labels = Object.entries(id.labels).map(([k, v]) => `${k}=${v}`).join(',');
  return [
    'proxy', id.type,
    '--discovery-address', grpc,
    '--ip', id.ip,
    '--pod-name', id.pod,
    '--namespace', id.namespace,
    '--service-account', id.serviceAccount,
    ...(labels ? ['--labels', labels] : []),
    '--admin-addr', `${id.ip}:${PROXY_ADMIN_PORT}`,
    '--status-addr', `${id.ip}:${PROXY_STATUS_PORT}`,
    '--readiness-addr', `${id.ip}:${PROXY_READINESS_PORT}`,
    '--interception-mode', 'NONE',
    '--drain-duration', plan.mesh.proxy.drainDuration,
    '--log-level', plan.mesh.proxy.logLevel,
  ];
}

export function gatewaySpec(g: GatewayPlan, plan: MeshPlan, isthmus: Program, grpc: string, logs: string, env: NodeJS.ProcessEnv, onLine: (l: string) => void): ProcSpec {
  const s = g.spec;
  return {
    name: s.name,
    role: 'gateway',
    owner: s.name,
    file: isthmus.file,
    args: [...plan.mesh.proxy.nodeArgs, ...isthmus.args, ...proxyArgs({ type: 'router', ip: g.ip, pod: s.name, namespace: s.namespace, serviceAccount: s.serviceAccount, labels: s.labels }, plan, grpc)],
    cwd: process.cwd(),
    env: isthmusEnv(env),
    log: join(logs, `${s.name}.log`),
    onLine,
    restart: true,
  };
}

export function sidecarSpec(i: InstancePlan, plan: MeshPlan, isthmus: Program, grpc: string, logs: string, env: NodeJS.ProcessEnv, onLine: (l: string) => void): ProcSpec {
  const w = i.workload;
  return {
    name: `${i.name}.sidecar`,
    role: 'sidecar',
    owner: i.name,
    file: isthmus.file,
    args: [...plan.mesh.proxy.nodeArgs, ...isthmus.args, ...proxyArgs({ type: 'sidecar', ip: i.ip, pod: i.name, namespace: w.namespace, serviceAccount: w.serviceAccount, labels: i.labels }, plan, grpc)],
    cwd: process.cwd(),
    env: isthmusEnv(env),
    log: join(logs, `${i.name}.sidecar.log`),
    onLine,
    restart: true,
  };
}

export function appSpec(i: InstancePlan, plan: MeshPlan, logs: string, inherited: NodeJS.ProcessEnv): ProcSpec {
  const env = appEnv(i, inherited, plan.mesh.env);
  const prog = workloadProgram(appArgv(i, env), i.workload.workingDir);
  return {
    name: i.name,
    role: 'app',
    owner: i.name,
    file: prog.file,
    args: prog.args,
    cwd: i.workload.workingDir,
    env,
    log: join(logs, `${i.name}.log`),
    restart: i.workload.restart === 'always',
  };
}

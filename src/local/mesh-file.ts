// mesh.yaml: the local runner's description of a mesh (control plane, gateways, workloads) — types, defaults, and a
// validator that reports every error with file, line and field path. Format: docs/local-mode.md.
import { dirname, resolve } from 'node:path';
import { readFile } from 'node:fs/promises';
import { isIPv4 } from 'node:net';
import { LineCounter, isScalar, parseDocument } from 'yaml';
import type { ValidationError } from '../api/errors.js';
import { joinPath } from '../api/errors.js';
import { lineOf } from '../api/yamlpos.js';
import { DNS_LABEL, DNS_LABEL_HINT, LABEL_KEY, LABEL_VALUE, Reader, isObj } from './fields.js';
import type { Obj } from './fields.js';
import { APP_PORT_OFFSET } from './constants.js';
import { crossCheck } from './mesh-checks.js';

export const SERVICE_PROTOCOLS = ['HTTP', 'HTTP2', 'GRPC', 'TCP'] as const;
export type ServiceProtocol = (typeof SERVICE_PROTOCOLS)[number];

export interface ServicePortSpec {
  number: number;
  protocol: ServiceProtocol;
  /** Port name (ServiceEntry/WorkloadEntry port name); defaults to the protocol in lower case. */
  name: string;
  /** Where the app listens on its own address; inbound traffic reaches it only through the sidecar on `number`. */
  appPort: number;
}

export interface ServiceSpec {
  name: string;
  ports: ServicePortSpec[];
}

export interface WorkloadSpec {
  name: string;
  namespace: string;
  service?: ServiceSpec;
  labels: Record<string, string>;
  serviceAccount: string;
  command: string[];
  env: Record<string, string>;
  /** Absolute working directory of the app (default: the mesh file's directory). */
  workingDir: string;
  replicas: number;
  /** HTTP path answered by the app (probed on its first app port); without it only the process is watched. */
  healthPath?: string;
  /** Run an `isthmus proxy sidecar` in front of the app (default true). */
  sidecar: boolean;
  restart: 'always' | 'never';
}

export interface GatewayPortSpec {
  /** Port of the Gateway server (what Gateway resources say, e.g. 8080). */
  port: number;
  /** Port on 127.0.0.1 forwarded to `address:port` by the runner (like a Service/LoadBalancer port); none by default. */
  hostPort?: number;
}

export interface GatewaySpec {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  serviceAccount: string;
  /** The gateway proxy's own address (its "pod IP"): admin/status ports and Gateway servers without bind. */
  address: string;
  ports: GatewayPortSpec[];
}

export interface ControlPlaneSpec {
  address: string;
  grpcPort: number;
  httpPort: number;
  monitoringPort: number;
  logLevel: LogLevelName;
  /** meshConfig.accessLogFile for every proxy ('' = off); '/dev/stdout' lands in each proxy's log file. */
  accessLogFile: string;
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

export interface ProxyDefaultsSpec {
  logLevel: LogLevelName;
  /** --drain-duration of every proxy, e.g. "1s" (local mode stops fast). */
  drainDuration: string;
  /** Node.js options of the proxy processes (default a 2 MB young generation: ~18 MB less RSS per proxy). */
  nodeArgs: string[];
}

/** A URL `up` waits for (any HTTP answer below 500) and prints: a full URL or a gateway port + path. */
export interface OpenSpec {
  url?: string;
  gateway?: string;
  port?: number;
  path: string;
}

export interface MeshSpec {
  /** Absolute path of the mesh file. */
  file: string;
  name: string;
  /** First two octets of workload addresses: `127.0` → 127.0.10.1, 127.0.11.1, ... */
  addressPrefix: string;
  domain: string;
  controlPlane: ControlPlaneSpec;
  proxy: ProxyDefaultsSpec;
  /** Istio YAML applied when the mesh starts (absolute paths). */
  config: string[];
  /** Environment of every app, before the workload's own `env`. */
  env: Record<string, string>;
  gateways: GatewaySpec[];
  workloads: WorkloadSpec[];
  open: OpenSpec[];
}

export interface MeshFileResult {
  mesh?: MeshSpec;
  errors: ValidationError[];
}


const DURATION = /^\d+(\.\d+)?(ms|s|m)$/;
const ADDRESS_PREFIX = /^127\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Reads and validates a mesh file. */
export async function loadMeshFile(path: string): Promise<MeshFileResult> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    return { errors: [{ file: path, path: '', message: `cannot read mesh file: ${(e as NodeJS.ErrnoException).code ?? String(e)}` }] };
  }
  return parseMeshFile(text, file, path);
}

/** Validates mesh YAML text; `file` (absolute) anchors relative paths, `shownAs` is the name used in errors. */
export function parseMeshFile(text: string, file: string, shownAs: string = file): MeshFileResult {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: true, keepSourceTokens: true });
  if (doc.errors.length > 0) {
    return {
      errors: doc.errors.map((e) => ({ file: shownAs, ...(e.linePos?.[0] ? { line: e.linePos[0].line } : {}), path: '', message: `YAML syntax error: ${e.message.split('\n')[0] ?? e.code}` })),
    };
  }
  const r = new Reader();
  const value = doc.toJS() as unknown;
  // `addressPrefix: 127.10` is a number to YAML (127.1): take the digits as written.
  const prefix = isObj(value) && typeof value.addressPrefix === 'number' ? doc.get('addressPrefix', true) : undefined;
  if (isObj(value) && isScalar(prefix) && prefix.srcToken && 'source' in prefix.srcToken) value.addressPrefix = prefix.srcToken.source;
  const mesh = readMesh(r, value, file);
  crossCheck(mesh, r);
  const errors = r.errors.map((e) => {
    const line = lineOf(doc.contents, e.path, lc);
    return { file: shownAs, ...(line !== undefined ? { line } : {}), path: e.path, message: e.message };
  });
  return errors.length > 0 ? { errors } : { mesh, errors };
}

function readMesh(r: Reader, v: unknown, file: string): MeshSpec {
  const o = r.object(v, '', ['name', 'addressPrefix', 'domain', 'controlPlane', 'proxy', 'config', 'env', 'gateways', 'workloads', 'open']);
  if (v === undefined || v === null) r.add('', 'the mesh file is empty');
  const base = dirname(file);
  const cpO = r.object(o.controlPlane, 'controlPlane', ['address', 'grpcPort', 'httpPort', 'monitoringPort', 'logLevel', 'accessLogFile']);
  const controlPlane: ControlPlaneSpec = {
    address: ipv4(r, cpO, 'address', 'controlPlane', '127.0.0.1'),
    grpcPort: r.int(cpO, 'grpcPort', 'controlPlane', 15010, 0, 65535),
    httpPort: r.int(cpO, 'httpPort', 'controlPlane', 15080, 0, 65535),
    monitoringPort: r.int(cpO, 'monitoringPort', 'controlPlane', 15014, 0, 65535),
    logLevel: r.oneOf(cpO, 'logLevel', 'controlPlane', 'info', LOG_LEVELS),
    accessLogFile: r.string(cpO, 'accessLogFile', 'controlPlane', ''),
  };
  const pO = r.object(o.proxy, 'proxy', ['logLevel', 'drainDuration', 'nodeArgs']);
  const proxy: ProxyDefaultsSpec = {
    logLevel: r.oneOf(pO, 'logLevel', 'proxy', 'warn', LOG_LEVELS),
    drainDuration: r.string(pO, 'drainDuration', 'proxy', '1s', { pattern: DURATION, hint: 'a duration such as 500ms, 1s, 2m' }),
    nodeArgs: pO.nodeArgs === undefined || pO.nodeArgs === null ? ['--max-semi-space-size=2'] : Array.isArray(pO.nodeArgs) && pO.nodeArgs.length === 0 ? [] : r.argv(pO, 'nodeArgs', 'proxy', false),
  };
  const config: string[] = [];
  r.list(o, 'config', '').forEach((c, i) => {
    if (typeof c === 'string' && c !== '') config.push(resolve(base, c));
    else r.add(joinPath('config', i), 'expected a file or directory path');
  });
  return {
    file,
    name: r.string(o, 'name', '', 'mesh', { pattern: DNS_LABEL, hint: DNS_LABEL_HINT }),
    addressPrefix: r.string(o, 'addressPrefix', '', '127.0', { pattern: ADDRESS_PREFIX, hint: 'the first two octets of a loopback address, e.g. 127.0' }),
    domain: r.string(o, 'domain', '', 'cluster.local', { pattern: /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, hint: 'a DNS suffix such as cluster.local' }),
    controlPlane,
    proxy,
    config,
    gateways: r.list(o, 'gateways', '').map((g, i) => readGateway(r, g, joinPath('gateways', i))),
    workloads: r.list(o, 'workloads', '').map((w, i) => readWorkload(r, w, joinPath('workloads', i), base)),
    open: r.list(o, 'open', '').map((x, i) => readOpen(r, x, joinPath('open', i))),
    env: r.stringMap(o, 'env', '', { keyPattern: ENV_NAME, keyHint: 'an environment variable name', scalars: true }),
  };
}

function ipv4(r: Reader, o: Obj, key: string, path: string, dflt: string): string {
  const s = r.string(o, key, path, dflt);
  if (!isIPv4(s) || !s.startsWith('127.')) {
    r.add(joinPath(path, key), `${JSON.stringify(s)} is not a loopback IPv4 address (127.x.y.z)`);
    return dflt;
  }
  return s;
}

function labels(r: Reader, o: Obj, path: string): Record<string, string> {
  const l = r.stringMap(o, 'labels', path, { keyPattern: LABEL_KEY, keyHint: 'a Kubernetes label key' });
  for (const [k, v] of Object.entries(l)) {
    if (!LABEL_VALUE.test(v)) r.add(joinPath(joinPath(path, 'labels'), k), `${JSON.stringify(v)} is not a valid label value`);
  }
  return l;
}

function readGateway(r: Reader, v: unknown, path: string): GatewaySpec {
  const o = r.object(v, path, ['name', 'namespace', 'labels', 'serviceAccount', 'address', 'ports']);
  const name = r.string(o, 'name', path, '', { required: true, pattern: DNS_LABEL, hint: DNS_LABEL_HINT });
  const ports = r.list(o, 'ports', path).map((p, i) => {
    const pp = joinPath(joinPath(path, 'ports'), i);
    if (typeof p === 'number') return { port: r.int({ port: p }, 'port', pp, 0, 1, 65535) };
    const po = r.object(p, pp, ['port', 'hostPort']);
    if (po.port === undefined) r.add(joinPath(pp, 'port'), 'required');
    const hostPort = r.optionalInt(po, 'hostPort', pp, 1, 65535);
    return { port: r.int(po, 'port', pp, 0, 1, 65535), ...(hostPort !== undefined ? { hostPort } : {}) };
  });
  return {
    name,
    namespace: r.string(o, 'namespace', path, 'istio-system', { pattern: DNS_LABEL, hint: DNS_LABEL_HINT }),
    labels: labels(r, o, path),
    serviceAccount: r.string(o, 'serviceAccount', path, `${name || 'gateway'}-service-account`, { pattern: DNS_LABEL, hint: DNS_LABEL_HINT }),
    address: ipv4(r, o, 'address', path, '127.0.0.1'),
    ports,
  };
}

function readService(r: Reader, v: unknown, path: string, workloadName: string): ServiceSpec {
  const o = r.object(v, path, ['name', 'port', 'protocol', 'appPort', 'ports']);
  const name = r.string(o, 'name', path, workloadName, { pattern: DNS_LABEL, hint: DNS_LABEL_HINT });
  const readPort = (po: Obj, pp: string, numberKey: string, withName: boolean): ServicePortSpec => {
    const number = r.int(po, numberKey, pp, 0, 1, 65535);
    const protocol = r.oneOf(po, 'protocol', pp, 'HTTP', SERVICE_PROTOCOLS);
    const dfltApp = number + APP_PORT_OFFSET <= 65535 ? number + APP_PORT_OFFSET : number - APP_PORT_OFFSET;
    return {
      number,
      protocol,
      name: withName ? r.string(po, 'name', pp, protocol.toLowerCase(), { pattern: DNS_LABEL, hint: DNS_LABEL_HINT }) : protocol.toLowerCase(),
      appPort: r.int(po, 'appPort', pp, dfltApp, 1, 65535),
    };
  };
  if (o.ports !== undefined) {
    if (o.port !== undefined || o.protocol !== undefined || o.appPort !== undefined) r.add(joinPath(path, 'ports'), 'use either port/protocol/appPort or ports, not both');
    const list = r.list(o, 'ports', path);
    if (list.length === 0) r.add(joinPath(path, 'ports'), 'at least one port is required');
    return {
      name,
      ports: list.map((p, i) => {
        const pp = joinPath(joinPath(path, 'ports'), i);
        const po = r.object(p, pp, ['number', 'protocol', 'name', 'appPort']);
        if (po.number === undefined) r.add(joinPath(pp, 'number'), 'required');
        return readPort(po, pp, 'number', true);
      }),
    };
  }
  if (o.port === undefined) r.add(joinPath(path, 'port'), 'required (the port other workloads call, e.g. 9080)');
  return { name, ports: [readPort(o, path, 'port', false)] };
}

function readWorkload(r: Reader, v: unknown, path: string, base: string): WorkloadSpec {
  const o = r.object(v, path, ['name', 'namespace', 'service', 'labels', 'serviceAccount', 'command', 'env', 'workingDir', 'replicas', 'health', 'sidecar', 'restart']);
  const name = r.string(o, 'name', path, '', { required: true, pattern: DNS_LABEL, hint: DNS_LABEL_HINT });
  const service = o.service === undefined || o.service === null ? undefined : readService(r, o.service, joinPath(path, 'service'), name);
  const l = labels(r, o, path);
  if (service && l.app === undefined) l.app = service.name;
  let healthPath: string | undefined;
  if (typeof o.health === 'string') healthPath = o.health;
  else if (o.health !== undefined && o.health !== null) {
    const h = r.object(o.health, joinPath(path, 'health'), ['path']);
    healthPath = r.string(h, 'path', joinPath(path, 'health'), '/', { required: true });
  }
  if (healthPath !== undefined && !healthPath.startsWith('/')) r.add(joinPath(path, 'health'), `the health path must start with "/", got ${JSON.stringify(healthPath)}`);
  if (healthPath !== undefined && !service) r.add(joinPath(path, 'health'), 'a health path needs a service port to probe (add service)');
  const wd = r.string(o, 'workingDir', path, '.');
  return {
    name,
    namespace: r.string(o, 'namespace', path, 'default', { pattern: DNS_LABEL, hint: DNS_LABEL_HINT }),
    ...(service ? { service } : {}),
    labels: l,
    serviceAccount: r.string(o, 'serviceAccount', path, 'default', { pattern: DNS_LABEL, hint: DNS_LABEL_HINT }),
    command: r.argv(o, 'command', path, true),
    env: r.stringMap(o, 'env', path, { keyPattern: ENV_NAME, keyHint: 'an environment variable name', scalars: true }),
    workingDir: resolve(base, wd),
    replicas: r.int(o, 'replicas', path, 1, 1, 254),
    ...(healthPath !== undefined ? { healthPath } : {}),
    sidecar: r.bool(o, 'sidecar', path, true),
    restart: r.oneOf(o, 'restart', path, 'always', ['always', 'never'] as const),
  };
}

function readOpen(r: Reader, v: unknown, path: string): OpenSpec {
  if (typeof v === 'string') {
    if (!/^https?:\/\//.test(v)) r.add(path, `expected an http:// URL or {gateway, port, path}, got ${JSON.stringify(v)}`);
    return { url: v, path: '' };
  }
  const o = r.object(v, path, ['url', 'gateway', 'port', 'path']);
  if (!isObj(v)) return { path: '/' };
  if (o.url !== undefined) return { url: r.string(o, 'url', path, ''), path: '' };
  const port = r.optionalInt(o, 'port', path, 1, 65535);
  return {
    gateway: r.string(o, 'gateway', path, '', { required: true }),
    ...(port !== undefined ? { port } : {}),
    path: r.string(o, 'path', path, '/', { pattern: /^\//, hint: 'a path starting with "/"' }),
  };
}

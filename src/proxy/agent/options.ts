// pilot-agent's flags and environment → ProxyOptions (one validated object), and the xDS Node the proxy presents:
// Istio's node id `TYPE~IP~POD.NAMESPACE~NAMESPACE.svc.DOMAIN` with the metadata istiod reads.
import { hostname } from 'node:os';
import { ErrorCode, MeshError } from '../../shared/errors.js';
import type { LogLevel } from '../../shared/log.js';
import { isLogLevel } from '../../shared/log.js';
import type { ProxyNodeOptions } from '../xds-client/node.js';

export type InterceptionMode = 'REDIRECT' | 'TPROXY' | 'NONE';

export interface ProxyOptions {
  type: 'sidecar' | 'router';
  /** The control plane's xDS address (host:port). */
  discoveryAddress: string;
  ip: string;
  podName: string;
  namespace: string;
  serviceAccount: string;
  labels: Record<string, string>;
  /** Auto-registration: the WorkloadGroup this workload joins (node metadata WORKLOAD_GROUP). */
  workloadGroup?: string;
  /** DNS domain suffix (the node id ends `NAMESPACE.svc.DOMAIN`), cluster.local by default. */
  domain: string;
  clusterId: string;
  network?: string;
  /** `region/zone/subzone`. */
  locality?: string;
  concurrency: number;
  /** SIGTERM: how long connections may drain before the process exits (ms). */
  drainDurationMs: number;
  /** Connections of a changed or removed listener drain this long (Istio's drainDuration, ms). */
  listenerDrainMs: number;
  logLevel: LogLevel;
  logJson: boolean;
  adminAddr: string;
  statusAddr: string;
  readinessAddr: string;
  interceptionMode: InterceptionMode;
  delta: boolean;
  /** Extra node metadata (ISTIO_META_* / ISTIO_METAJSON_* environment). */
  metadata: Record<string, unknown>;
}

/** Flags as parsed by the CLI (strings; undefined when absent). */
export interface ProxyFlags {
  'discovery-address'?: string;
  ip?: string;
  'pod-name'?: string;
  namespace?: string;
  'service-account'?: string;
  labels?: string;
  'workload-group'?: string;
  domain?: string;
  'cluster-id'?: string;
  network?: string;
  locality?: string;
  concurrency?: string;
  'drain-duration'?: string;
  'listener-drain-duration'?: string;
  'log-level'?: string;
  'log-json'?: boolean;
  'admin-addr'?: string;
  'status-addr'?: string;
  'readiness-addr'?: string;
  'interception-mode'?: string;
  'xds-delta'?: boolean;
}

/** The environment variables read (pilot-agent's names), with what each sets. */
export const PROXY_ENV: Record<string, string> = {
  PILOT_ADDRESS: 'control plane xDS address (also PROXY_CONFIG {"discoveryAddress": ...})',
  INSTANCE_IP: 'workload IP (node id, INSTANCE_IPS)',
  POD_NAME: 'workload name',
  POD_NAMESPACE: 'namespace',
  SERVICE_ACCOUNT: 'service account',
  ISTIO_METAJSON_LABELS: 'workload labels as JSON',
  ISTIO_META_WORKLOAD_GROUP: 'WorkloadGroup for auto-registration (also ISTIO_META_AUTO_REGISTER_GROUP)',
  ISTIO_META_CLUSTER_ID: 'cluster id (default Kubernetes)',
  ISTIO_META_NETWORK: 'network',
  ISTIO_META_INTERCEPTION_MODE: 'REDIRECT | TPROXY | NONE',
  ISTIO_LOCALITY: 'region/zone/subzone',
  ISTIO_DOMAIN: 'DNS domain suffix (default cluster.local)',
  TERMINATION_DRAIN_DURATION_SECONDS: 'SIGTERM drain time (default 5)',
  ISTIO_DELTA_XDS: 'use Delta xDS (true/false)',
  PROXY_CONFIG: 'ProxyConfig JSON: discoveryAddress, concurrency, drainDuration, terminationDrainDuration, proxyMetadata',
  'ISTIO_META_*': 'any other node metadata (ISTIO_METAJSON_* parsed as JSON)',
};

export const DEFAULTS = {
  discoveryAddress: '127.0.0.1:15010',
  ip: '127.0.0.1',
  namespace: 'default',
  domain: 'cluster.local',
  serviceAccount: 'default',
  clusterId: 'Kubernetes',
  concurrency: 1,
  drainDurationMs: 5_000,
  listenerDrainMs: 45_000,
  adminAddr: '127.0.0.1:15000',
  statusPort: 15020,
  readinessPort: 15021,
} as const;

const usage = (msg: string): MeshError => new MeshError(ErrorCode.Usage, msg);

/** `5s`, `500ms`, `1m`, or a bare number of seconds → ms. */
export function parseDurationMs(v: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw usage(`invalid ${what} ${JSON.stringify(v)}: want a duration like 5s or 500ms`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000));
}

/** `app=reviews,version=v1` → labels. */
export function parseLabels(v: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of v.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw usage(`invalid label ${JSON.stringify(part)}: want key=value`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

function parseJsonObject(v: string, what: string): Record<string, unknown> {
  let x: unknown;
  try {
    x = JSON.parse(v);
  } catch (e) {
    throw usage(`${what} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw usage(`${what} must be a JSON object`);
  return x as Record<string, unknown>;
}

const durationField = (v: unknown, what: string): number | undefined =>
  typeof v === 'string' ? parseDurationMs(v, what) : typeof v === 'number' ? v * 1000 : undefined;

/** Flags win over the environment, which wins over defaults. Throws MeshError(Usage) on bad values. */
export function resolveOptions(type: 'sidecar' | 'router', f: ProxyFlags, env: Readonly<Record<string, string | undefined>>): ProxyOptions {
  const e = (k: string): string | undefined => (env[k] === '' ? undefined : env[k]);
  const proxyConfig = e('PROXY_CONFIG') ? parseJsonObject(e('PROXY_CONFIG')!, 'PROXY_CONFIG') : {};

  // Node metadata from ISTIO_META_* / ISTIO_METAJSON_*.
  const metadata: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) continue;
    if (k.startsWith('ISTIO_METAJSON_')) metadata[k.slice(15)] = parseJsonObject(v, k);
    else if (k.startsWith('ISTIO_META_')) metadata[k.slice(11)] = v;
  }
  const pm = proxyConfig.proxyMetadata;
  if (pm && typeof pm === 'object') for (const [k, v] of Object.entries(pm as Record<string, unknown>)) if (k.startsWith('ISTIO_META_')) metadata[k.slice(11)] ??= v;

  const ip = f.ip ?? e('INSTANCE_IP') ?? DEFAULTS.ip;
  const namespace = f.namespace ?? e('POD_NAMESPACE') ?? DEFAULTS.namespace;
  const podName = f['pod-name'] ?? e('POD_NAME') ?? hostname();
  let labels: Record<string, string> = {};
  if (metadata.LABELS && typeof metadata.LABELS === 'object') labels = { ...(metadata.LABELS as Record<string, string>) };
  if (f.labels !== undefined) labels = { ...labels, ...parseLabels(f.labels) };
  delete metadata.LABELS;

  const concurrencyText = f.concurrency ?? (typeof proxyConfig.concurrency === 'number' || typeof proxyConfig.concurrency === 'string' ? String(proxyConfig.concurrency) : undefined);
  const concurrency = concurrencyText === undefined ? DEFAULTS.concurrency : Number(concurrencyText);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw usage(`invalid --concurrency ${JSON.stringify(concurrencyText)}: want 1..64`);

  const drainDurationMs =
    f['drain-duration'] !== undefined ? parseDurationMs(f['drain-duration'], '--drain-duration')
    : e('TERMINATION_DRAIN_DURATION_SECONDS') !== undefined ? parseDurationMs(e('TERMINATION_DRAIN_DURATION_SECONDS')!, 'TERMINATION_DRAIN_DURATION_SECONDS')
    : durationField(proxyConfig.terminationDrainDuration, 'PROXY_CONFIG terminationDrainDuration') ?? DEFAULTS.drainDurationMs;
  const listenerDrainMs =
    f['listener-drain-duration'] !== undefined ? parseDurationMs(f['listener-drain-duration'], '--listener-drain-duration')
    : durationField(proxyConfig.drainDuration, 'PROXY_CONFIG drainDuration') ?? DEFAULTS.listenerDrainMs;

  const level = f['log-level'] ?? 'info';
  if (!isLogLevel(level) || level === 'none') throw usage(`invalid --log-level ${JSON.stringify(level)}: want debug, info, warn or error`);

  const modeText = (f['interception-mode'] ?? (typeof metadata.INTERCEPTION_MODE === 'string' ? metadata.INTERCEPTION_MODE : undefined) ?? 'REDIRECT').toUpperCase();
  if (modeText !== 'REDIRECT' && modeText !== 'TPROXY' && modeText !== 'NONE') throw usage(`invalid --interception-mode ${JSON.stringify(modeText)}: want REDIRECT, TPROXY or NONE`);
  delete metadata.INTERCEPTION_MODE;

  const workloadGroup = f['workload-group'] ?? str(metadata.WORKLOAD_GROUP) ?? str(metadata.AUTO_REGISTER_GROUP);
  delete metadata.WORKLOAD_GROUP;
  const clusterId = f['cluster-id'] ?? str(metadata.CLUSTER_ID) ?? DEFAULTS.clusterId;
  delete metadata.CLUSTER_ID;
  const network = f.network ?? str(metadata.NETWORK);
  delete metadata.NETWORK;
  const locality = f.locality ?? e('ISTIO_LOCALITY');
  const deltaEnv = e('ISTIO_DELTA_XDS');
  const hostIp = ip.includes(':') ? `[${ip}]` : ip;

  return {
    type,
    discoveryAddress: f['discovery-address'] ?? e('PILOT_ADDRESS') ?? str(proxyConfig.discoveryAddress) ?? DEFAULTS.discoveryAddress,
    ip,
    podName,
    namespace,
    serviceAccount: f['service-account'] ?? e('SERVICE_ACCOUNT') ?? DEFAULTS.serviceAccount,
    labels,
    ...(workloadGroup ? { workloadGroup } : {}),
    domain: f.domain ?? e('ISTIO_DOMAIN') ?? DEFAULTS.domain,
    clusterId,
    ...(network ? { network } : {}),
    ...(locality ? { locality } : {}),
    concurrency,
    drainDurationMs,
    listenerDrainMs,
    logLevel: level,
    logJson: f['log-json'] ?? false,
    adminAddr: f['admin-addr'] ?? DEFAULTS.adminAddr,
    // Bound to the workload IP by default, so many local-mode sidecars can share a machine.
    statusAddr: f['status-addr'] ?? `${hostIp}:${DEFAULTS.statusPort}`,
    readinessAddr: f['readiness-addr'] ?? `${hostIp}:${DEFAULTS.readinessPort}`,
    interceptionMode: modeText,
    delta: f['xds-delta'] ?? (deltaEnv === 'true' || deltaEnv === '1'),
    metadata,
  };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The xDS client's node options (Istio's node id and metadata) for these proxy options. */
export function nodeOptions(o: ProxyOptions, version: string): ProxyNodeOptions {
  const extra: Record<string, unknown> = { ...o.metadata, NAME: o.podName };
  let locality: ProxyNodeOptions['locality'];
  if (o.locality) {
    const [region, zone, subZone] = o.locality.split('/');
    locality = { ...(region ? { region } : {}), ...(zone ? { zone } : {}), ...(subZone ? { subZone } : {}) };
  }
  const workloadName = typeof o.metadata.WORKLOAD_NAME === 'string' ? o.metadata.WORKLOAD_NAME : undefined;
  return {
    type: o.type,
    ip: o.ip,
    podName: o.podName,
    namespace: o.namespace,
    domain: o.domain,
    labels: o.labels,
    serviceAccount: o.serviceAccount,
    ...(workloadName ? { workloadName } : {}),
    ...(o.workloadGroup ? { workloadGroup: o.workloadGroup } : {}),
    interceptionMode: o.interceptionMode,
    istioVersion: typeof o.metadata.ISTIO_VERSION === 'string' ? o.metadata.ISTIO_VERSION : version,
    clusterId: o.clusterId,
    ...(o.network ? { network: o.network } : {}),
    ...(locality ? { locality } : {}),
    extraMetadata: extra,
  };
}

// Test helpers for generator authors: YAML text → PushContext (store + registry + snapshot), and Proxy builders.
import { formatError } from '../../api/errors.js';
import { parseDocuments } from '../../api/load.js';
import { MeshError, ErrorCode } from '../../shared/errors.js';
import { ConfigStore } from '../configstore/store.js';
import { ServiceRegistry } from '../registry/registry.js';
import { buildPushContext } from './push-context.js';
import type { PushContextExtras } from './push-context.js';
import type { MeshConfig, NodeMetadata, Proxy, PushContext } from './types.js';

export interface PushContextFromYamlOptions {
  /** DNS domain suffix (default cluster.local). */
  domainSuffix?: string;
  /** Snapshot version (default 'test'). */
  version?: string;
  /** Proxies to auto-register (WORKLOAD_GROUP metadata) before the snapshot is taken. */
  autoRegister?: readonly Proxy[];
  /** Accept invalid documents (they are left out, as the file store does) instead of throwing. */
  allowInvalid?: boolean;
  /** Mesh-wide settings (meshConfig). */
  mesh?: MeshConfig;
}

/**
 * Parses multi-document Istio YAML and builds a PushContext from it. Throws a MeshError listing every validation error
 * unless `allowInvalid` is set.
 */
export function pushContextFromYaml(yaml: string, opts: PushContextFromYamlOptions = {}): PushContext & PushContextExtras {
  const domainSuffix = opts.domainSuffix ?? 'cluster.local';
  const parsed = parseDocuments(yaml, 'test.yaml');
  if (parsed.errors.length > 0 && !opts.allowInvalid) {
    throw new MeshError(ErrorCode.Invalid, `invalid test YAML:\n${parsed.errors.map(formatError).join('\n')}`);
  }
  const store = new ConfigStore({ onRejected: () => undefined });
  store.applySource('test.yaml', { configs: parsed.configs, rejected: parsed.rejected, errors: parsed.errors });
  const registry = new ServiceRegistry({ store, domainSuffix, autoRegistrationGraceMs: 0 });
  for (const p of opts.autoRegister ?? []) registry.autoRegister(p);
  const push = buildPushContext({ store, registry, domainSuffix, version: opts.version ?? 'test', ...(opts.mesh ? { mesh: opts.mesh } : {}) });
  registry.close();
  return push;
}

export interface TestProxyOptions {
  type?: 'sidecar' | 'router';
  /** Primary IP (default 10.0.0.1). */
  ip?: string;
  ips?: string[];
  namespace?: string;
  /** POD part of the node id (default `<app label or 'app'>-0`). */
  name?: string;
  labels?: Record<string, string>;
  serviceAccount?: string;
  locality?: string;
  domainSuffix?: string;
  metadata?: Partial<Omit<NodeMetadata, 'raw'>>;
  isGrpc?: boolean;
}

/** A Proxy as proxyFromNode would build it, with an Istio node id `TYPE~IP~POD.NS~NS.svc.DOMAIN`. */
export function testProxy(o: TestProxyOptions = {}): Proxy {
  const type = o.type ?? 'sidecar';
  const ips = o.ips ?? [o.ip ?? '10.0.0.1'];
  const namespace = o.namespace ?? 'default';
  const labels = o.labels ?? {};
  const name = o.name ?? `${labels.app ?? 'app'}-0`;
  const dnsDomain = `${namespace}.svc.${o.domainSuffix ?? 'cluster.local'}`;
  const serviceAccount = o.serviceAccount ?? 'default';
  const metadata: NodeMetadata = { NAMESPACE: namespace, LABELS: labels, SERVICE_ACCOUNT: serviceAccount, ...o.metadata, raw: {} };
  metadata.raw = { ...metadata, raw: undefined };
  delete metadata.raw.raw;
  return {
    id: `${type}~${ips[0] ?? ''}~${name}.${namespace}~${dnsDomain}`,
    type,
    ips,
    workloadName: name,
    namespace,
    dnsDomain,
    labels,
    serviceAccount,
    locality: o.locality ?? '',
    metadata,
    isGrpc: o.isGrpc ?? metadata.GENERATOR === 'grpc',
  };
}

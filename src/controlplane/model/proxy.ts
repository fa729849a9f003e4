// Builds the control plane's Proxy from the envoy.config.core.v3.Node an xDS client sends (Istio's ParseServiceNodeWithMetadata).
import { fromStruct } from '../../xds/codec.js';
import { parseNodeId } from '../../xds/types.js';
import type { NodeMetadata, Proxy } from './types.js';

export interface ProxyFromNodeOptions {
  /** DNS domain suffix used to build the dnsDomain of proxies whose id does not carry one (default cluster.local). */
  domainSuffix?: string;
}

const INTERCEPTION_MODES = new Set(['REDIRECT', 'TPROXY', 'NONE']);

/** Decoded Node (proto field names) → Proxy, or an error that names what is wrong with the node. */
export function proxyFromNode(node: Record<string, unknown>, opts: ProxyFromNodeOptions = {}): Proxy | { error: string } {
  const id = typeof node.id === 'string' ? node.id : '';
  if (!id) return { error: 'node has no id' };
  const raw = fromStruct(node.metadata);
  const metadata = nodeMetadata(raw);
  const locality = localityString(node.locality);
  const labels = metadata.LABELS ?? {};
  const serviceAccount = metadata.SERVICE_ACCOUNT || 'default';
  const instanceIps = (metadata.INSTANCE_IPS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const isGrpc = metadata.GENERATOR === 'grpc';

  const parsed = parseNodeId(id);
  if ('error' in parsed) {
    // Proxyless gRPC clients are not always given an Istio-shaped id; their metadata says who they are.
    if (!metadata.NAMESPACE) return { error: `${parsed.error} (and node metadata has no NAMESPACE)` };
    const namespace = metadata.NAMESPACE;
    return {
      id,
      type: 'sidecar',
      ips: instanceIps,
      workloadName: metadata.WORKLOAD_NAME || id,
      namespace,
      dnsDomain: `${namespace}.svc.${opts.domainSuffix ?? 'cluster.local'}`,
      labels,
      serviceAccount,
      locality,
      metadata,
      isGrpc: true,
    };
  }

  const dot = parsed.id.lastIndexOf('.');
  const workloadName = dot > 0 ? parsed.id.slice(0, dot) : parsed.id;
  const idNamespace = dot > 0 ? parsed.id.slice(dot + 1) : '';
  const domainNamespace = parsed.dnsDomain.split('.')[0] ?? '';
  const namespace = metadata.NAMESPACE || idNamespace || domainNamespace || 'default';
  const ips = instanceIps.length > 0 ? instanceIps : parsed.ip ? [parsed.ip] : [];
  return {
    id,
    type: parsed.type,
    ips,
    workloadName,
    namespace,
    dnsDomain: parsed.dnsDomain || `${namespace}.svc.${opts.domainSuffix ?? 'cluster.local'}`,
    labels,
    serviceAccount,
    locality,
    metadata,
    isGrpc,
  };
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** The metadata fields the control plane reads, typed; everything stays available in `raw`. */
export function nodeMetadata(raw: Record<string, unknown>): NodeMetadata {
  const md: NodeMetadata = { raw };
  const setStr = (key: Exclude<keyof NodeMetadata, 'raw' | 'LABELS' | 'INTERCEPTION_MODE'>): void => {
    const v = str(raw[key]);
    if (v !== undefined) md[key] = v;
  };
  setStr('NAMESPACE');
  setStr('SERVICE_ACCOUNT');
  setStr('WORKLOAD_NAME');
  setStr('WORKLOAD_GROUP');
  setStr('GENERATOR');
  setStr('NETWORK');
  setStr('CLUSTER_ID');
  setStr('ISTIO_VERSION');
  setStr('INSTANCE_IPS');
  const podPorts = raw.POD_PORTS;
  if (typeof podPorts === 'string') md.POD_PORTS = podPorts;
  else if (podPorts !== undefined && podPorts !== null) md.POD_PORTS = JSON.stringify(podPorts);
  const mode = str(raw.INTERCEPTION_MODE);
  if (mode !== undefined && INTERCEPTION_MODES.has(mode)) md.INTERCEPTION_MODE = mode as NodeMetadata['INTERCEPTION_MODE'];
  const labels = raw.LABELS;
  if (labels && typeof labels === 'object' && !Array.isArray(labels)) {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
      const s = str(v);
      if (s !== undefined) out[k] = s;
    }
    md.LABELS = out;
  }
  return md;
}

/** Istio's LocalityToString: `region/zone/subzone`, trailing empty parts dropped; empty when unknown. */
export function localityString(loc: unknown): string {
  if (!loc || typeof loc !== 'object') return '';
  const l = loc as Record<string, unknown>;
  const region = str(l.region) ?? '';
  const zone = str(l.zone) ?? '';
  const subZone = str(l.sub_zone) ?? '';
  if (!zone) return region;
  if (!subZone) return `${region}/${zone}`;
  return `${region}/${zone}/${subZone}`;
}

// The xDS Node the proxy announces, in the shape istio-agent builds: id `TYPE~IP~POD.NAMESPACE~NAMESPACE.svc.DOMAIN`
// and Istio's node metadata (NAMESPACE, LABELS, SERVICE_ACCOUNT, ...), which the control plane uses to pick config.
import { toStruct } from '../../xds/codec.js';
import { formatNodeId } from '../../xds/types.js';
import type { NodeType } from '../../xds/types.js';

export interface ProxyNodeOptions {
  type: NodeType;
  /** Primary workload IP (the second part of the node id). */
  ip: string;
  podName: string;
  namespace: string;
  /** DNS domain suffix; default cluster.local. */
  domain?: string;
  /** Envoy's service cluster (node.cluster); default `<app label or pod>.<namespace>`. */
  cluster?: string;
  labels?: Record<string, string>;
  serviceAccount?: string;
  workloadName?: string;
  /** Auto-registration: the WorkloadGroup this proxy belongs to. */
  workloadGroup?: string;
  interceptionMode?: 'REDIRECT' | 'TPROXY' | 'NONE';
  istioVersion?: string;
  /** All workload IPs (INSTANCE_IPS); default [ip]. */
  instanceIps?: string[];
  clusterId?: string;
  network?: string;
  locality?: { region?: string; zone?: string; subZone?: string };
  /** More metadata, merged last (plain JSON). */
  extraMetadata?: Record<string, unknown>;
}

/** envoy.config.core.v3.Node in the codec's object form (metadata as a google.protobuf.Struct). */
export interface NodeProto {
  id: string;
  cluster: string;
  metadata: ReturnType<typeof toStruct>;
  locality: { region?: string; zone?: string; sub_zone?: string };
  user_agent_name: string;
}

export function proxyNodeId(o: Pick<ProxyNodeOptions, 'type' | 'ip' | 'podName' | 'namespace' | 'domain'>): string {
  return formatNodeId({ type: o.type, ip: o.ip, id: `${o.podName}.${o.namespace}`, dnsDomain: `${o.namespace}.svc.${o.domain ?? 'cluster.local'}` });
}

/** The plain metadata map (before Struct conversion), for admin /server_info. */
export function nodeMetadata(o: ProxyNodeOptions): Record<string, unknown> {
  const md: Record<string, unknown> = {
    NAMESPACE: o.namespace,
    LABELS: o.labels ?? {},
    SERVICE_ACCOUNT: o.serviceAccount ?? 'default',
    WORKLOAD_NAME: o.workloadName ?? o.podName,
    INSTANCE_IPS: (o.instanceIps ?? [o.ip]).join(','),
    INTERCEPTION_MODE: o.interceptionMode ?? 'REDIRECT',
    CLUSTER_ID: o.clusterId ?? 'Kubernetes',
  };
  if (o.workloadGroup) md.WORKLOAD_GROUP = o.workloadGroup;
  if (o.network) md.NETWORK = o.network;
  if (o.istioVersion) md.ISTIO_VERSION = o.istioVersion;
  return { ...md, ...o.extraMetadata };
}

export function buildNode(o: ProxyNodeOptions): NodeProto {
  const loc = o.locality ?? {};
  return {
    id: proxyNodeId(o),
    cluster: o.cluster ?? `${o.labels?.app ?? o.podName}.${o.namespace}`,
    metadata: toStruct(nodeMetadata(o)),
    locality: {
      ...(loc.region ? { region: loc.region } : {}),
      ...(loc.zone ? { zone: loc.zone } : {}),
      ...(loc.subZone ? { sub_zone: loc.subZone } : {}),
    },
    user_agent_name: 'isthmus',
  };
}

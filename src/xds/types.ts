// xDS vocabulary shared by control plane and proxy: type URLs, well-known names, node ids.

export const TypeUrl = {
  Listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  RouteConfiguration: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  Cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  ClusterLoadAssignment: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  Secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
} as const;
export type TypeUrl = (typeof TypeUrl)[keyof typeof TypeUrl];

/** Short names used in logs, metrics and debug output (as istiod does: lds, rds, cds, eds, sds). */
export const ShortType: Record<string, string> = {
  [TypeUrl.Listener]: 'lds',
  [TypeUrl.RouteConfiguration]: 'rds',
  [TypeUrl.Cluster]: 'cds',
  [TypeUrl.ClusterLoadAssignment]: 'eds',
  [TypeUrl.Secret]: 'sds',
};

/** Envoy's push order: CDS before EDS, LDS before RDS. */
export const PushOrder: readonly string[] = [TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment, TypeUrl.Listener, TypeUrl.RouteConfiguration, TypeUrl.Secret];

/** Types whose subscription is a wildcard (all resources) rather than a named list. */
export function isWildcardType(typeUrl: string): boolean {
  return typeUrl === TypeUrl.Listener || typeUrl === TypeUrl.Cluster;
}

export const ClusterName = {
  Passthrough: 'PassthroughCluster',
  BlackHole: 'BlackHoleCluster',
  InboundPassthrough: 'InboundPassthroughCluster',
  /** istiod's name for the IPv4 inbound passthrough cluster. */
  InboundPassthroughV4: 'InboundPassthroughClusterIpv4',
} as const;

export const ListenerName = {
  VirtualOutbound: 'virtualOutbound',
  VirtualInbound: 'virtualInbound',
} as const;

export type TrafficDirection = 'outbound' | 'inbound';

/** `outbound|9080|v1|reviews.default.svc.cluster.local` (Istio's cluster naming). */
export function clusterName(direction: TrafficDirection, port: number, subset: string, host: string): string {
  return `${direction}|${port}|${subset}|${host}`;
}

export interface ParsedClusterName {
  direction: TrafficDirection;
  port: number;
  subset: string;
  host: string;
}

export function parseClusterName(name: string): ParsedClusterName | undefined {
  const parts = name.split('|');
  if (parts.length !== 4) return undefined;
  const [dir, port, subset, host] = parts as [string, string, string, string];
  if (dir !== 'outbound' && dir !== 'inbound') return undefined;
  const p = Number(port);
  if (!Number.isInteger(p)) return undefined;
  return { direction: dir, port: p, subset, host };
}

export type NodeType = 'sidecar' | 'router';

export interface NodeId {
  type: NodeType;
  ip: string;
  /** POD.NAMESPACE */
  id: string;
  /** NAMESPACE.svc.DOMAIN */
  dnsDomain: string;
}

/** Parses Istio's node id `TYPE~IP~POD.NAMESPACE~NAMESPACE.svc.DOMAIN`. */
export function parseNodeId(s: string): NodeId | { error: string } {
  const parts = s.split('~');
  if (parts.length !== 4) return { error: `node id "${s}" must have 4 parts TYPE~IP~ID~DOMAIN, has ${parts.length}` };
  const [type, ip, id, dnsDomain] = parts as [string, string, string, string];
  if (type !== 'sidecar' && type !== 'router') return { error: `node id "${s}": type "${type}" is not sidecar or router` };
  if (!id) return { error: `node id "${s}": empty workload id` };
  return { type, ip, id, dnsDomain };
}

export function formatNodeId(n: NodeId): string {
  return `${n.type}~${n.ip}~${n.id}~${n.dnsDomain}`;
}

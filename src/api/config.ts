// The envelope of every Istio resource the mesh reads: kind, group/version, metadata, typed spec, and where it came from.

export const Group = {
  Networking: 'networking.istio.io',
  Security: 'security.istio.io',
  Telemetry: 'telemetry.istio.io',
} as const;

export type Kind =
  | 'VirtualService'
  | 'DestinationRule'
  | 'Gateway'
  | 'ServiceEntry'
  | 'WorkloadEntry'
  | 'WorkloadGroup'
  | 'Sidecar'
  | 'EnvoyFilter'
  | 'PeerAuthentication'
  | 'AuthorizationPolicy'
  | 'RequestAuthentication'
  | 'Telemetry';

/** Which API group and versions serve each kind (Istio's CRDs). */
export const KINDS: Readonly<Record<Kind, { group: string; versions: readonly string[] }>> = {
  VirtualService: { group: Group.Networking, versions: ['v1', 'v1beta1', 'v1alpha3'] },
  DestinationRule: { group: Group.Networking, versions: ['v1', 'v1beta1', 'v1alpha3'] },
  Gateway: { group: Group.Networking, versions: ['v1', 'v1beta1', 'v1alpha3'] },
  ServiceEntry: { group: Group.Networking, versions: ['v1', 'v1beta1', 'v1alpha3'] },
  WorkloadEntry: { group: Group.Networking, versions: ['v1', 'v1beta1', 'v1alpha3'] },
  WorkloadGroup: { group: Group.Networking, versions: ['v1', 'v1beta1', 'v1alpha3'] },
  Sidecar: { group: Group.Networking, versions: ['v1', 'v1beta1', 'v1alpha3'] },
  EnvoyFilter: { group: Group.Networking, versions: ['v1alpha3'] },
  PeerAuthentication: { group: Group.Security, versions: ['v1', 'v1beta1'] },
  AuthorizationPolicy: { group: Group.Security, versions: ['v1', 'v1beta1'] },
  RequestAuthentication: { group: Group.Security, versions: ['v1', 'v1beta1'] },
  Telemetry: { group: Group.Telemetry, versions: ['v1', 'v1alpha1'] },
};

export interface SourceRef {
  /** File the resource was read from (absent for resources created at run time, e.g. auto-registration). */
  file?: string;
  /** Index of the YAML document inside the file (0-based). */
  index?: number;
}

export interface ConfigMeta {
  kind: Kind;
  group: string;
  version: string;
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Changes whenever the resource's content changes (a content hash for file-backed config). */
  resourceVersion: string;
  creationTimestamp?: string;
  source?: SourceRef;
}

export interface Config<S = unknown> {
  meta: ConfigMeta;
  spec: S;
}

/** `Kind/namespace/name`, the identity of a resource in stores and logs. */
export function configKey(m: Pick<ConfigMeta, 'kind' | 'namespace' | 'name'>): string {
  return `${m.kind}/${m.namespace}/${m.name}`;
}

/** Namespace used when a resource has none (as kubectl does). */
export const DEFAULT_NAMESPACE = 'default';
/** Istio's root namespace: mesh-wide policies live here. */
export const ROOT_NAMESPACE = 'istio-system';

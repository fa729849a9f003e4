// The control plane's view of the world, shared by registry, model and generators: services, endpoints, proxies,
// and the read-only PushContext snapshot that generators are pure functions of.
import type { Config } from '../../api/config.js';

/** Istio's port protocols (https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/). */
export type Protocol = 'HTTP' | 'HTTP2' | 'HTTPS' | 'GRPC' | 'GRPC-WEB' | 'TLS' | 'TCP' | 'MONGO' | 'REDIS' | 'MYSQL' | 'UDP' | 'HTTP_PROXY' | 'UNSUPPORTED';

export interface ServicePort {
  /** Port name (e.g. http, grpc-web). */
  name: string;
  port: number;
  protocol: Protocol;
  /** Port the workloads listen on, when it differs from `port` (ServiceEntry targetPort). */
  targetPort?: number;
}

export type Resolution = 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN';
export type MeshLocation = 'MESH_EXTERNAL' | 'MESH_INTERNAL';

/** One service, keyed by FQDN hostname and namespace (a ServiceEntry host, expanded). */
export interface Service {
  /** Fully qualified: `reviews.default.svc.cluster.local`, or an external host as written (`api.example.com`, `*.example.com`). */
  hostname: string;
  namespace: string;
  /** Virtual IPs (ServiceEntry addresses); empty when none. */
  addresses: string[];
  ports: ServicePort[];
  resolution: Resolution;
  location: MeshLocation;
  /** Namespaces that can see this service: '*' means all, '.' is already expanded to the own namespace. */
  exportTo: ReadonlySet<string>;
  /** Labels of the resource that declared it. */
  labels: Record<string, string>;
  /** ServiceEntry workloadSelector: WorkloadEntries with these labels (same namespace) are endpoints. */
  workloadSelector?: Record<string, string>;
  /** `ServiceEntry/ns/name` of the declaring resource. */
  source: string;
  /** Subject alt names for mTLS (ServiceEntry subjectAltNames). */
  subjectAltNames: string[];
}

/** One endpoint of one service port (Istio's IstioEndpoint). */
export interface Endpoint {
  address: string;
  /** Port to connect to on the workload. */
  port: number;
  /** The service port this endpoint serves. */
  servicePortName: string;
  labels: Record<string, string>;
  serviceAccount: string;
  network: string;
  /** `region/zone/subzone`, empty when unknown. */
  locality: string;
  /** Load-balancing weight, default 1. */
  weight: number;
  namespace: string;
  /** Workload name (WorkloadEntry name, or ServiceEntry inline endpoint index). */
  workloadName: string;
  healthy: boolean;
}

/** Istio's node metadata, as sent in the xDS Node.metadata struct (only the fields the control plane uses, plus raw). */
export interface NodeMetadata {
  NAMESPACE?: string;
  LABELS?: Record<string, string>;
  SERVICE_ACCOUNT?: string;
  WORKLOAD_NAME?: string;
  /** Auto-registration: name of the WorkloadGroup this proxy belongs to. */
  WORKLOAD_GROUP?: string;
  INTERCEPTION_MODE?: 'REDIRECT' | 'TPROXY' | 'NONE';
  /** 'grpc' for proxyless gRPC clients. */
  GENERATOR?: string;
  NETWORK?: string;
  CLUSTER_ID?: string;
  ISTIO_VERSION?: string;
  INSTANCE_IPS?: string;
  /** Ports the workload listens on, `name: port` (Istio's POD_PORTS is a JSON list). */
  POD_PORTS?: string;
  raw: Record<string, unknown>;
}

/** A connected proxy as generators see it (Istio's model.Proxy). */
export interface Proxy {
  /** Full node id `TYPE~IP~POD.NAMESPACE~NAMESPACE.svc.DOMAIN`. */
  id: string;
  type: 'sidecar' | 'router';
  /** Workload IPs; the first is the primary. */
  ips: string[];
  /** POD part of the id. */
  workloadName: string;
  namespace: string;
  dnsDomain: string;
  labels: Record<string, string>;
  serviceAccount: string;
  /** `region/zone/subzone` from Node.locality. */
  locality: string;
  metadata: NodeMetadata;
  /** Proxyless gRPC client (metadata GENERATOR=grpc). */
  isGrpc: boolean;
}

/** A Sidecar resource applied to one proxy, or the default scope (everything visible) when none applies. */
export interface SidecarScope {
  /** The Sidecar config in effect, absent for the default scope. */
  config?: Config<import('../../api/types/networking.js').Sidecar>;
  /** Services this proxy may reach (after egress hosts and exportTo). */
  services: Service[];
  outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
}

/** The parts of Istio's MeshConfig the control plane honours (https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/). */
export interface MeshConfig {
  /** meshConfig.accessLogFile: '' (off), '/dev/stdout', or a file path. */
  accessLogFile?: string;
  /** meshConfig.accessLogEncoding. */
  accessLogEncoding?: 'TEXT' | 'JSON';
  /** meshConfig.accessLogFormat: an Envoy format string (TEXT) replacing Istio's default. */
  accessLogFormat?: string;
  /**
   * meshConfig.extensionProviders: providers Telemetry resources name. Istio's built-in `envoy` (a file access log to
   * /dev/stdout formatted by accessLogEncoding/accessLogFormat) exists unless one here has the same name.
   */
  extensionProviders?: ExtensionProvider[];
  /** meshConfig.defaultProviders: providers used where a Telemetry names none, and mesh-wide without any Telemetry. */
  defaultProviders?: { accessLogging?: string[] };
}

/** One meshConfig.extensionProviders entry; only the envoyFileAccessLog kind is honoured (others are left out on load). */
export interface ExtensionProvider {
  name: string;
  envoyFileAccessLog?: EnvoyFileAccessLogProvider;
}

/** https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/#MeshConfig-ExtensionProvider-EnvoyFileAccessLogProvider */
export interface EnvoyFileAccessLogProvider {
  /** Default /dev/stdout. */
  path?: string;
  /** `text` (an Envoy format string) or `labels` (JSON fields); absent = Istio's default TEXT format. */
  logFormat?: { text?: string; labels?: Record<string, unknown> };
}

/** Istio's WorkloadMode as a listener class sees it: gateways and sidecar outbound are CLIENT, sidecar inbound SERVER. */
export type TelemetryMode = 'CLIENT' | 'SERVER';

/** One access-log provider in effect for a proxy and listener class (Istio's model.LoggingConfig). */
export interface LoggingConfig {
  provider: ExtensionProvider;
  /** Set when a Telemetry turned this provider off: no log, and no fallback to meshConfig.accessLogFile either. */
  disabled: boolean;
  /** The CEL filter.expression that applies (not enforced: see src/api/validate/telemetry.ts). */
  filter?: string;
}

/** Immutable snapshot of all config and registry state for one push (Istio's PushContext). */
export interface PushContext {
  /** Monotonic version, changes every push. */
  readonly version: string;
  /** Mesh-wide settings; absent means Istio's defaults. */
  readonly mesh?: MeshConfig;
  readonly domainSuffix: string;
  /** Every service in the mesh. */
  readonly services: readonly Service[];
  /** All valid configs of a kind (sorted by namespace/name). */
  configs<S>(kind: Config['meta']['kind']): readonly Config<S>[];
  /** Service by FQDN hostname as seen from `namespace` (honours exportTo), or undefined. */
  serviceForHost(hostname: string, namespace: string): Service | undefined;
  /** Endpoints of a service port; `subsetLabels` narrows to a DestinationRule subset. */
  endpoints(service: Service, port: number, subsetLabels?: Record<string, string>): readonly Endpoint[];
  /** The Sidecar scope that applies to a proxy. */
  sidecarScope(proxy: Proxy): SidecarScope;
  /** VirtualServices visible to the proxy for a gateway name ('mesh' for sidecars), hosts already FQDN-expanded in order. */
  virtualServices(proxy: Proxy, gateway: string): readonly Config<import('../../api/types/networking.js').VirtualService>[];
  /** The (merged) DestinationRule applying to `hostname` for this proxy, or undefined. */
  destinationRule(proxy: Proxy, hostname: string): Config<import('../../api/types/networking.js').DestinationRule> | undefined;
  /** Gateways whose selector matches a router proxy's labels. */
  gatewaysForProxy(proxy: Proxy): readonly Config<import('../../api/types/networking.js').Gateway>[];
  /** Services whose workloads include this proxy (its inbound side), with the endpoint that matches it. */
  serviceInstances(proxy: Proxy): readonly { service: Service; port: ServicePort; endpoint: Endpoint }[];
  /** EnvoyFilters that apply to this proxy (root namespace first, then its own). */
  envoyFilters(proxy: Proxy): readonly Config<import('../../api/types/networking.js').EnvoyFilter>[];
  /**
   * Telemetry access logging for one listener class of a proxy, sorted by provider name (Istio's
   * Telemetries.AccessLogging). Empty when no Telemetry (nor default provider) applies: meshConfig.accessLogFile decides.
   */
  accessLogging(proxy: Proxy, mode: TelemetryMode): readonly LoggingConfig[];
}

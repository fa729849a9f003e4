// Local mode's fixed numbers: the proxy ports on every workload address (Istio's), address blocks, app port offset.

/** Istio's proxy ports, used on each workload's own loopback address. */
export const PROXY_ADMIN_PORT = 15000;
/** The sidecar's outbound HTTP proxy listener (Sidecar egress port, protocol HTTP_PROXY, captureMode NONE). */
export const OUTBOUND_PROXY_PORT = 15001;
export const PROXY_STATUS_PORT = 15020;
export const PROXY_READINESS_PORT = 15021;

/** Ports the proxy owns on each workload address, which services and apps may not use. */
export const RESERVED_PORTS: ReadonlyMap<number, string> = new Map([
  [PROXY_ADMIN_PORT, 'proxy admin'],
  [OUTBOUND_PROXY_PORT, 'outbound HTTP proxy'],
  [15004, 'proxy debug'],
  [15006, 'inbound capture'],
  [15008, 'HBONE'],
  [PROXY_STATUS_PORT, 'proxy status/metrics'],
  [PROXY_READINESS_PORT, 'proxy readiness'],
  [15053, 'DNS'],
  [15090, 'Prometheus'],
]);

/** Third octet of the first service's block: productpage 127.0.10.1, details 127.0.11.1, ... */
export const FIRST_BLOCK = 10;
/** Default distance between a service port and the app's private port (9080 → 19080). */
export const APP_PORT_OFFSET = 10000;

/** Label carried by each instance (WorkloadEntry, proxy) so its own Sidecar resource can select it alone. */
export const INSTANCE_LABEL = 'isthmus.io/instance';
/** Annotation on every resource the runner generates from the mesh file. */
export const MANAGED_ANNOTATION = 'isthmus.io/managed-by';

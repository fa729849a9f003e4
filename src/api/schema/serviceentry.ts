// Schemas of networking.istio.io ServiceEntry, WorkloadEntry and WorkloadGroup
// (https://istio.io/latest/docs/reference/config/networking/service-entry/, workload-entry/, workload-group/).
import { int, labels, list, map, msg, networkingSelector, oneOfStr, port, required, str, uint } from './dsl.js';

export const workloadEntrySchema = msg('WorkloadEntry', {
  address: str,
  ports: map(port),
  labels,
  network: str,
  locality: str,
  weight: uint,
  serviceAccount: str,
});

const servicePort = msg('ServicePort', { number: required(port), protocol: str, name: required(str), targetPort: port });

export const serviceEntrySchema = msg('ServiceEntry', {
  hosts: required(list(str)),
  addresses: list(str),
  ports: list(servicePort),
  location: oneOfStr('MESH_EXTERNAL', 'MESH_INTERNAL'),
  resolution: oneOfStr('NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN'),
  endpoints: list(workloadEntrySchema),
  workloadSelector: networkingSelector,
  exportTo: list(str),
  subjectAltNames: list(str),
});

const probe = msg('ReadinessProbe', {
  initialDelaySeconds: int,
  timeoutSeconds: int,
  periodSeconds: int,
  successThreshold: int,
  failureThreshold: int,
  httpGet: msg('HTTPHealthCheckConfig', {
    path: str,
    port: required(port),
    host: str,
    scheme: str,
    httpHeaders: list(msg('HTTPHeader', { name: str, value: str })),
  }),
  tcpSocket: msg('TCPHealthCheckConfig', { host: str, port: required(port) }),
  exec: msg('ExecHealthCheckConfig', { command: list(str) }),
  grpc: msg('GrpcHealthCheckConfig', { port: required(port), service: str }),
}, [['httpGet', 'tcpSocket', 'exec', 'grpc']]);

export const workloadGroupSchema = msg('WorkloadGroup', {
  metadata: msg('ObjectMeta', { labels, annotations: map(str) }),
  template: required(workloadEntrySchema),
  probe,
});

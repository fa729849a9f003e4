// Schema of networking.istio.io Sidecar (https://istio.io/latest/docs/reference/config/networking/sidecar/).
import { list, msg, networkingSelector, oneOfStr, port, required, str } from './dsl.js';
import { connectionPool } from './destinationrule.js';
import { serverTls } from './gateway.js';
import { destination } from './virtualservice.js';

const captureMode = oneOfStr('DEFAULT', 'IPTABLES', 'NONE');
const sidecarPort = msg('SidecarPort', { number: port, protocol: str, name: str, targetPort: port });

export const sidecarSchema = msg('Sidecar', {
  workloadSelector: networkingSelector,
  ingress: list(
    msg('IstioIngressListener', {
      port: required(sidecarPort),
      bind: str,
      captureMode,
      defaultEndpoint: str,
      tls: serverTls,
      connectionPool,
    }),
  ),
  egress: list(msg('IstioEgressListener', { port: sidecarPort, bind: str, captureMode, hosts: required(list(str)) })),
  inboundConnectionPool: connectionPool,
  outboundTrafficPolicy: msg('OutboundTrafficPolicy', { mode: oneOfStr('REGISTRY_ONLY', 'ALLOW_ANY'), egressProxy: destination }),
});

// Schema of networking.istio.io Gateway (https://istio.io/latest/docs/reference/config/networking/gateway/).
import { bool, labels, list, msg, oneOfStr, port, required, str } from './dsl.js';

export const tlsProtocol = oneOfStr('TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3');

export const gatewayPort = msg('Port', { number: required(port), protocol: required(str), name: str, targetPort: port });

export const serverTls = msg('ServerTLSSettings', {
  httpsRedirect: bool,
  mode: oneOfStr('PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL'),
  serverCertificate: str,
  privateKey: str,
  caCertificates: str,
  caCrl: str,
  credentialName: str,
  credentialNames: list(str),
  tlsCertificates: list(msg('TLSCertificate', { serverCertificate: str, privateKey: str, caCertificates: str })),
  subjectAltNames: list(str),
  verifyCertificateSpki: list(str),
  verifyCertificateHash: list(str),
  minProtocolVersion: tlsProtocol,
  maxProtocolVersion: tlsProtocol,
  cipherSuites: list(str),
});

const server = msg('Server', {
  port: required(gatewayPort),
  bind: str,
  hosts: required(list(str)),
  tls: serverTls,
  defaultEndpoint: str,
  name: str,
});

export const gatewaySchema = msg('Gateway', { servers: required(list(server)), selector: labels });

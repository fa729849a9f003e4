// DownstreamTlsContext for Gateway servers that terminate TLS, with SDS secret names as Istio derives them:
// credentialName → `kubernetes://NAME` (+ `-cacert` for MUTUAL), file paths → `file-cert:CERT~KEY` / `file-root:CA`,
// ISTIO_MUTUAL → `default` / `ROOTCA` (Istio's BuildListenerTLSContext). Enforcement comes with the security issue.
import type { ServerTLSSettings, TLSProtocol } from '../../../api/types/networking.js';
import type { Obj } from '../route/util.js';
import { NAME, TYPE } from '../route/util.js';

const SDS_ADS: Obj = { ads: {}, resource_api_version: 'V3' };
const sds = (name: string): Obj => ({ name, sds_config: SDS_ADS });

const TLS_VERSION: Record<TLSProtocol, string> = {
  TLS_AUTO: 'TLS_AUTO',
  TLSV1_0: 'TLSv1_0',
  TLSV1_1: 'TLSv1_1',
  TLSV1_2: 'TLSv1_2',
  TLSV1_3: 'TLSv1_3',
};

/** `kubernetes://NAME` unless the name already carries a scheme (credentials.ToResourceName). */
export function credentialResourceName(name: string): string {
  return name.includes('://') || name.startsWith('file-') ? name : `kubernetes://${name}`;
}

/** Builds the DownstreamTlsContext; `alpn` for HTTPS servers serving HTTP/2 and HTTP/1.1. */
export function downstreamTlsContext(tls: ServerTLSSettings, alpn: string[] | undefined): Obj {
  const common: Obj = {};
  if (alpn) common.alpn_protocols = alpn;
  const mode = tls.mode ?? 'SIMPLE';
  const mutual = mode === 'MUTUAL' || mode === 'ISTIO_MUTUAL' || mode === 'OPTIONAL_MUTUAL';
  let validation: Obj | undefined;
  if (mode === 'ISTIO_MUTUAL') {
    common.tls_certificate_sds_secret_configs = [sds('default')];
    validation = sds('ROOTCA');
  } else if (tls.credentialName || (tls.credentialNames && tls.credentialNames.length > 0)) {
    const names = tls.credentialNames && tls.credentialNames.length > 0 ? tls.credentialNames : [tls.credentialName!];
    common.tls_certificate_sds_secret_configs = names.map((n) => sds(credentialResourceName(n)));
    if (mutual) validation = sds(`${credentialResourceName(names[0])}-cacert`);
  } else if (tls.tlsCertificates && tls.tlsCertificates.length > 0) {
    common.tls_certificate_sds_secret_configs = tls.tlsCertificates.map((c) => sds(`file-cert:${c.serverCertificate ?? ''}~${c.privateKey ?? ''}`));
    if (mutual && tls.caCertificates) validation = sds(`file-root:${tls.caCertificates}`);
  } else if (tls.serverCertificate) {
    common.tls_certificate_sds_secret_configs = [sds(`file-cert:${tls.serverCertificate}~${tls.privateKey ?? ''}`)];
    if (mutual && tls.caCertificates) validation = sds(`file-root:${tls.caCertificates}`);
  }
  if (validation) {
    const dflt: Obj = {};
    if (tls.subjectAltNames?.length) dflt.match_typed_subject_alt_names = tls.subjectAltNames.map((exact) => ({ san_type: 'URI', matcher: { exact } }));
    if (tls.verifyCertificateSpki?.length) dflt.verify_certificate_spki = tls.verifyCertificateSpki;
    if (tls.verifyCertificateHash?.length) dflt.verify_certificate_hash = tls.verifyCertificateHash;
    common.combined_validation_context = { default_validation_context: dflt, validation_context_sds_secret_config: validation };
  }
  const params: Obj = {};
  if (tls.minProtocolVersion) params.tls_minimum_protocol_version = TLS_VERSION[tls.minProtocolVersion];
  if (tls.maxProtocolVersion) params.tls_maximum_protocol_version = TLS_VERSION[tls.maxProtocolVersion];
  if (tls.cipherSuites?.length) params.cipher_suites = tls.cipherSuites;
  if (Object.keys(params).length > 0) common.tls_params = params;
  return {
    '@type': TYPE.DownstreamTls,
    common_tls_context: common,
    require_client_certificate: { value: mode === 'MUTUAL' || mode === 'ISTIO_MUTUAL' },
  };
}

export function tlsTransportSocket(tls: ServerTLSSettings, alpn: string[] | undefined): Obj {
  return { name: NAME.TlsTransport, typed_config: downstreamTlsContext(tls, alpn) };
}

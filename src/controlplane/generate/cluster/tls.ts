// DestinationRule tls → Cluster transport_socket with an UpstreamTlsContext (Istio's cluster_tls.go), plus the
// proxyless-gRPC variant (certificate provider instances, as istiod's grpcgen builds it).
import type { ClientTLSSettings } from '../../../api/types/networking.js';
import { httpOptions, isHttp2, type ClusterDraft } from './draft.js';
import { UPSTREAM_TLS_CONTEXT_TYPE, adsConfigSource, type Obj } from './util.js';

/** SDS resource names of the workload certificate and the mesh root (Istio's SDSDefaultResourceName / SDSRootResourceName). */
export const SDS_DEFAULT = 'default';
export const SDS_ROOT = 'ROOTCA';
/** Suffix of the CA secret paired with a credentialName (Istio's SdsCaSuffix). */
export const SDS_CA_SUFFIX = '-cacert';

const ALPN_IN_MESH = ['istio-peer-exchange', 'istio'];
const ALPN_IN_MESH_H2 = ['istio-peer-exchange', 'istio', 'h2'];

export interface TlsContextInput {
  /** Istio's SNI for ISTIO_MUTUAL: `outbound_.PORT_.SUBSET_.HOST`. */
  istioSni: string;
  /** SPIFFE identities of the service's workloads (ISTIO_MUTUAL SAN check when the DR gives none); computed on demand. */
  serviceAccounts: () => string[];
  /** ServiceEntry subjectAltNames (SIMPLE/MUTUAL SAN check when the DR gives none, as Istio does for ServiceEntries). */
  subjectAltNames: string[];
  /** Router (gateway) node: credentialName may be used; on sidecars only with a workload-selecting DR. */
  sidecar: boolean;
  drHasWorkloadSelector: boolean;
}

/** Istio's BuildDNSSrvSubsetKey: `outbound_.9080_.v1_.reviews.default.svc.cluster.local`. */
export function istioMtlsSni(port: number, subset: string, host: string): string {
  return `outbound_.${port}_.${subset}_.${host}`;
}

function sdsSecret(name: string): Obj {
  return { name, sds_config: adsConfigSource() };
}

function exactSans(sans: readonly string[]): Obj[] {
  return sans.map((s) => ({ exact: s }));
}

function defaultCommon(): Obj {
  return { tls_params: { tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLSv1_3' } };
}

function istioMutual(d: ClusterDraft, tls: ClientTLSSettings, input: TlsContextInput): Obj {
  const sans = tls.subjectAltNames && tls.subjectAltNames.length > 0 ? tls.subjectAltNames : input.serviceAccounts();
  const common = defaultCommon();
  common.tls_certificate_sds_secret_configs = [sdsSecret(SDS_DEFAULT)];
  const dvc: Obj = {};
  if (sans.length > 0) dvc.match_subject_alt_names = exactSans(sans);
  common.combined_validation_context = { default_validation_context: dvc, validation_context_sds_secret_config: sdsSecret(SDS_ROOT) };
  common.alpn_protocols = isHttp2(d) ? ALPN_IN_MESH_H2 : ALPN_IN_MESH;
  return { common_tls_context: common, sni: tls.sni || input.istioSni };
}

/** SIMPLE / MUTUAL: certificates from files or from a credentialName secret (Istio's constructUpstreamTLS). */
function userTls(d: ClusterDraft, tls: ClientTLSSettings, input: TlsContextInput, mutual: boolean): Obj | undefined {
  const common = defaultCommon();
  const ctx: Obj = { common_tls_context: common };
  if (tls.sni) ctx.sni = tls.sni;
  const sans = tls.subjectAltNames && tls.subjectAltNames.length > 0 ? tls.subjectAltNames : input.subjectAltNames;
  // Istio's setAutoSniAndAutoSanValidation.
  const autoSni = !tls.sni;
  const autoSan = autoSni && sans.length === 0 && !tls.insecureSkipVerify;
  if (autoSni || autoSan) {
    const o = httpOptions(d);
    const up = (o.upstream_http_protocol_options ??= {}) as Obj;
    if (autoSni) up.auto_sni = true;
    if (autoSan) up.auto_san_validation = true;
  }
  if (tls.credentialName) {
    if (mutual) common.tls_certificate_sds_secret_configs = [sdsSecret(tls.credentialName)];
    const dvc: Obj = {};
    if (sans.length > 0) dvc.match_subject_alt_names = exactSans(sans);
    common.combined_validation_context = { default_validation_context: dvc, validation_context_sds_secret_config: sdsSecret(tls.credentialName + SDS_CA_SUFFIX) };
  } else {
    if (mutual) {
      // Istio refuses to build the context without both files (and leaves the cluster without TLS).
      if (!tls.clientCertificate || !tls.privateKey) return undefined;
      common.tls_certificates = [{ certificate_chain: { filename: tls.clientCertificate }, private_key: { filename: tls.privateKey } }];
    }
    if (!tls.insecureSkipVerify) {
      const vc: Obj = {};
      // Unset caCertificates means the system roots (Istio's "system" default).
      if (tls.caCertificates && tls.caCertificates !== 'system') vc.trusted_ca = { filename: tls.caCertificates };
      else vc.system_root_certs = {};
      if (sans.length > 0) vc.match_subject_alt_names = exactSans(sans);
      if (tls.caCrl) vc.crl = { filename: tls.caCrl };
      common.validation_context = vc;
    }
  }
  if (isHttp2(d)) common.alpn_protocols = ['h2'];
  return ctx;
}

/** Sets (or leaves unset) the cluster's transport_socket for a DestinationRule tls setting. */
export function applyUpstreamTls(d: ClusterDraft, tls: ClientTLSSettings | undefined, input: TlsContextInput): void {
  if (!tls || !tls.mode || tls.mode === 'DISABLE') return;
  // Istio: credentialName on a sidecar needs a workload-selecting DR (otherwise every sidecar would wait on the secret).
  if (tls.credentialName && input.sidecar && !input.drHasWorkloadSelector && (tls.mode === 'SIMPLE' || tls.mode === 'MUTUAL')) return;
  let ctx: Obj | undefined;
  if (tls.mode === 'ISTIO_MUTUAL') ctx = istioMutual(d, tls, input);
  else ctx = userTls(d, tls, input, tls.mode === 'MUTUAL');
  if (!ctx) return;
  d.c.transport_socket = { name: 'envoy.transport_sockets.tls', typed_config: { '@type': UPSTREAM_TLS_CONTEXT_TYPE, ...ctx } };
}

/**
 * Proxyless gRPC: only ISTIO_MUTUAL is expressed, with certificate provider instances (grpc-js-xds rejects SDS
 * secrets and tls_params); SIMPLE/MUTUAL are left to the application's credentials, as istiod's grpcgen does.
 */
export function applyGrpcTls(c: Obj, tls: ClientTLSSettings | undefined, serviceAccounts: () => string[]): void {
  if (tls?.mode !== 'ISTIO_MUTUAL') return;
  const sans = tls.subjectAltNames && tls.subjectAltNames.length > 0 ? tls.subjectAltNames : serviceAccounts();
  const dvc: Obj = { ca_certificate_provider_instance: { instance_name: 'default', certificate_name: SDS_ROOT } };
  if (sans.length > 0) dvc.match_subject_alt_names = exactSans(sans);
  c.transport_socket = {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': UPSTREAM_TLS_CONTEXT_TYPE,
      common_tls_context: {
        tls_certificate_provider_instance: { instance_name: 'default', certificate_name: SDS_DEFAULT },
        combined_validation_context: { default_validation_context: dvc },
      },
    },
  };
}

// Transport sockets: DownstreamTlsContext (listener filter chains) and UpstreamTlsContext (clusters) → DownstreamTls /
// UpstreamTls; raw_buffer means plaintext. Files are read here (Envoy also loads them when the config arrives).
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/transport_sockets/tls/v3/tls.proto
import type { DownstreamTls, StringMatcher, UpstreamTls } from '../types.js';
import { stringMatcher } from './matchers.js';
import type { DecodeContext, Problems, Rec } from './util.js';
import { at, dataSource, list, msg, str, strs, unpackAny, wrappedBool } from './util.js';

export const TransportSocketType = {
  Downstream: 'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
  Upstream: 'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
  RawBuffer: 'envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer',
} as const;

const TLS_VERSIONS: Record<string, string | undefined> = {
  TLS_AUTO: undefined,
  TLSv1_0: 'TLSv1',
  TLSv1_1: 'TLSv1.1',
  TLSv1_2: 'TLSv1.2',
  TLSv1_3: 'TLSv1.3',
};

interface Common {
  certChain?: string;
  privateKey?: string;
  sdsCertificate?: string;
  sdsValidation?: string;
  caCert?: string;
  /** A validation context exists (trusted CA, SDS validation or system roots). */
  validates: boolean;
  alpn: string[];
  matchSans: StringMatcher[];
  minVersion?: string;
  maxVersion?: string;
}

function sans(v: Rec, path: string, p: Problems): StringMatcher[] {
  const out: StringMatcher[] = [];
  list(v, 'match_subject_alt_names').forEach((m, i) => {
    const sm = stringMatcher(m, `${at(path, 'match_subject_alt_names')}[${i}]`, p);
    if (sm) out.push(sm);
  });
  list(v, 'match_typed_subject_alt_names').forEach((m, i) => {
    const sm = stringMatcher(msg(m, 'matcher'), `${at(path, 'match_typed_subject_alt_names')}[${i}].matcher`, p);
    if (sm) out.push(sm);
  });
  return out;
}

function validationContext(v: Rec, path: string, p: Problems, ctx: DecodeContext, out: Common): void {
  if (v.trusted_ca !== undefined) {
    const ca = dataSource(msg(v, 'trusted_ca'), at(path, 'trusted_ca'), p, ctx);
    if (ca !== undefined) out.caCert = ca;
    out.validates = true;
  }
  if (v.system_root_certs !== undefined) out.validates = true;
  if (v.ca_certificate_provider_instance !== undefined) p.add(at(path, 'ca_certificate_provider_instance'), 'certificate provider instances are not supported');
  if (v.custom_validator_config !== undefined) p.add(at(path, 'custom_validator_config'), 'custom certificate validators are not supported');
  if (v.crl !== undefined) p.add(at(path, 'crl'), 'certificate revocation lists are not supported');
  out.matchSans.push(...sans(v, path, p));
}

function commonTls(c: Rec | undefined, path: string, p: Problems, ctx: DecodeContext): Common {
  const out: Common = { validates: false, alpn: [], matchSans: [] };
  if (!c) return out;
  out.alpn = strs(c, 'alpn_protocols');
  const params = msg(c, 'tls_params');
  if (params) {
    for (const [k, field] of [
      ['tls_minimum_protocol_version', 'minVersion'],
      ['tls_maximum_protocol_version', 'maxVersion'],
    ] as const) {
      const v = str(params, k);
      if (v === undefined) continue;
      if (!(v in TLS_VERSIONS)) p.add(at(path, `tls_params.${k}`), `unknown TLS version ${v}`);
      const node = TLS_VERSIONS[v];
      if (node) out[field] = node;
    }
  }
  const certs = list(c, 'tls_certificates');
  if (certs.length > 0) {
    const cp = `${at(path, 'tls_certificates')}[0]`;
    const first = certs[0] ?? {};
    const chain = dataSource(msg(first, 'certificate_chain'), at(cp, 'certificate_chain'), p, ctx);
    const key = dataSource(msg(first, 'private_key'), at(cp, 'private_key'), p, ctx);
    if (!chain) p.add(at(cp, 'certificate_chain'), 'certificate_chain is required');
    if (!key) p.add(at(cp, 'private_key'), 'private_key is required');
    if (chain) out.certChain = chain;
    if (key) out.privateKey = key;
  }
  const sds = list(c, 'tls_certificate_sds_secret_configs');
  if (sds.length > 0) {
    const name = str(sds[0] ?? {}, 'name');
    if (!name) p.add(`${at(path, 'tls_certificate_sds_secret_configs')}[0].name`, 'secret name is required');
    else out.sdsCertificate = name;
  }
  if (c.tls_certificate_provider_instance !== undefined) p.add(at(path, 'tls_certificate_provider_instance'), 'certificate provider instances are not supported');
  const vc = msg(c, 'validation_context');
  if (vc) validationContext(vc, at(path, 'validation_context'), p, ctx, out);
  const sdsV = msg(c, 'validation_context_sds_secret_config');
  if (sdsV) {
    out.sdsValidation = str(sdsV, 'name') ?? '';
    out.validates = true;
  }
  const combined = msg(c, 'combined_validation_context');
  if (combined) {
    const cp = at(path, 'combined_validation_context');
    const dflt = msg(combined, 'default_validation_context');
    if (dflt) validationContext(dflt, at(cp, 'default_validation_context'), p, ctx, out);
    const s = msg(combined, 'validation_context_sds_secret_config');
    const name = s ? str(s, 'name') : undefined;
    if (s && !name) p.add(at(cp, 'validation_context_sds_secret_config.name'), 'secret name is required');
    if (name) {
      out.sdsValidation = name;
      out.validates = true;
    }
  }
  return out;
}

/** A listener filter chain's transport_socket: undefined for plaintext (absent or raw_buffer). */
export function downstreamTls(ts: Rec | undefined, path: string, p: Problems, ctx: DecodeContext): DownstreamTls | undefined {
  const a = transportSocket(ts, path, p, TransportSocketType.Downstream);
  if (!a) return undefined;
  const tp = at(path, 'typed_config');
  const c = commonTls(msg(a, 'common_tls_context'), at(tp, 'common_tls_context'), p, ctx);
  if (!c.certChain && !c.sdsCertificate) p.add(at(tp, 'common_tls_context'), 'a server certificate (tls_certificates or tls_certificate_sds_secret_configs) is required');
  const requireClient = wrappedBool(a, 'require_client_certificate') ?? false;
  if (requireClient && !c.validates) p.add(at(tp, 'require_client_certificate'), 'requires a validation context');
  const out: DownstreamTls = { requireClientCertificate: requireClient, alpn: c.alpn, matchSans: c.matchSans };
  copyCommon(c, out);
  return out;
}

/** A cluster's transport_socket: undefined for plaintext. auto_sni comes from the cluster's HTTP protocol options. */
export function upstreamTls(ts: Rec | undefined, path: string, p: Problems, ctx: DecodeContext, autoSni: boolean): UpstreamTls | undefined {
  const a = transportSocket(ts, path, p, TransportSocketType.Upstream);
  if (!a) return undefined;
  const tp = at(path, 'typed_config');
  const c = commonTls(msg(a, 'common_tls_context'), at(tp, 'common_tls_context'), p, ctx);
  const out: UpstreamTls = { alpn: c.alpn, matchSans: c.matchSans, skipVerify: !c.validates, autoSni };
  const sni = str(a, 'sni');
  if (sni) out.sni = sni;
  copyCommon(c, out);
  return out;
}

function copyCommon(c: Common, out: DownstreamTls | UpstreamTls): void {
  if (c.certChain !== undefined) out.certChain = c.certChain;
  if (c.privateKey !== undefined) out.privateKey = c.privateKey;
  if (c.sdsCertificate !== undefined) out.sdsCertificate = c.sdsCertificate;
  if (c.sdsValidation !== undefined) out.sdsValidation = c.sdsValidation;
  if (c.caCert !== undefined) out.caCert = c.caCert;
  if (c.minVersion !== undefined) out.minVersion = c.minVersion;
  if (c.maxVersion !== undefined) out.maxVersion = c.maxVersion;
}

/** The TLS context fields of a TransportSocket, undefined for plaintext; other socket types are refused. */
function transportSocket(ts: Rec | undefined, path: string, p: Problems, want: string): Rec | undefined {
  if (!ts) return undefined;
  const a = unpackAny(msg(ts, 'typed_config'));
  const name = str(ts, 'name') ?? '';
  if (!a) {
    if (name === 'envoy.transport_sockets.raw_buffer' || name === 'raw_buffer') return undefined;
    p.add(at(path, 'typed_config'), `transport socket ${name || '(unnamed)'} has no typed_config`);
    return undefined;
  }
  if (a.type === TransportSocketType.RawBuffer) return undefined;
  if (a.type !== want) {
    p.add(at(path, 'typed_config'), `unsupported transport socket type ${a.type}`);
    return undefined;
  }
  return a.fields ?? {};
}

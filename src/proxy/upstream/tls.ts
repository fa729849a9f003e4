// Upstream TLS (Envoy's UpstreamTlsContext): secure context from inline PEM or SDS secrets, SNI, ALPN, and
// subject-alt-name verification. Built once per cluster; SDS secrets are looked up per connection (rotation).
import { readFileSync } from 'node:fs';
import { createSecureContext, type ConnectionOptions, type PeerCertificate, type SecureContext } from 'node:tls';
import type { UpstreamTls } from '../runtime/types.js';
import type { SecretLookup, TlsSecret } from './deps.js';

/** PEM text, or a file path to read (decoders may hand either). */
function pem(v: string | undefined): string | undefined {
  if (v === undefined || v === '') return undefined;
  return v.includes('-----BEGIN') ? v : readFileSync(v, 'utf8');
}

/** Subject alt names of a certificate as Envoy matches them: URI, DNS, IP and email values. */
export function subjectAltNames(cert: PeerCertificate): string[] {
  const raw = cert.subjectaltname;
  if (!raw) return [];
  return raw.split(', ').map((e) => e.slice(e.indexOf(':') + 1));
}

export class UpstreamTlsContext {
  private readonly cache = new WeakMap<TlsSecret, WeakMap<TlsSecret, SecureContext>>();
  private readonly inline: SecureContext | undefined;

  constructor(
    readonly cfg: UpstreamTls,
    private readonly secrets: SecretLookup | undefined,
  ) {
    if (!cfg.sdsCertificate && !cfg.sdsValidation) {
      this.inline = createSecureContext({ cert: pem(cfg.certChain), key: pem(cfg.privateKey), ca: pem(cfg.caCert) });
    }
  }

  /**
   * tls.connect options for one connection. `servername`: the request's authority when auto_sni, else the
   * configured SNI. `alpn` overrides the configured list (HTTP pools restrict it to their protocol).
   * Throws when an SDS secret is not available yet.
   */
  options(servername: string | undefined, alpn: string[] | undefined): ConnectionOptions {
    const cfg = this.cfg;
    const sni = cfg.sni || (cfg.autoSni ? servername : undefined);
    const protocols = alpn ?? cfg.alpn;
    const matchSans = cfg.matchSans;
    return {
      secureContext: this.inline ?? this.sdsContext(),
      servername: sni && !isIpLiteral(sni) ? sni : undefined,
      ALPNProtocols: protocols.length > 0 ? protocols : undefined,
      rejectUnauthorized: !cfg.skipVerify,
      // Envoy verifies the chain against the CA and then only the configured SANs (no hostname check).
      checkServerIdentity:
        matchSans.length === 0
          ? () => undefined
          : (_host: string, cert: PeerCertificate) => {
              const sans = subjectAltNames(cert);
              for (const m of matchSans) for (const s of sans) if (m.test(s)) return undefined;
              return new Error(`SAN mismatch: [${sans.join(', ')}] matches none of the expected subject alt names`);
            },
    };
  }

  private sdsContext(): SecureContext {
    const cfg = this.cfg;
    const need = (name: string | undefined): TlsSecret | undefined => {
      if (!name) return undefined;
      const s = this.secrets?.get(name);
      if (!s) throw new Error(`SDS secret "${name}" is not available`);
      return s;
    };
    const cert = need(cfg.sdsCertificate);
    const validation = need(cfg.sdsValidation);
    // Cached per (certificate, validation) secret objects: a rotated secret is a new object, hence a new context.
    let inner = this.cache.get(cert ?? NONE);
    if (!inner) this.cache.set(cert ?? NONE, (inner = new WeakMap()));
    let ctx = inner.get(validation ?? NONE);
    if (!ctx) {
      ctx = createSecureContext({
        cert: cert?.certChain ?? pem(cfg.certChain),
        key: cert?.privateKey ?? pem(cfg.privateKey),
        ca: validation?.caCert ?? pem(cfg.caCert),
      });
      inner.set(validation ?? NONE, ctx);
    }
    return ctx;
  }
}

const NONE: TlsSecret = {};

function isIpLiteral(s: string): boolean {
  return /^[0-9.]+$/.test(s) || s.includes(':');
}

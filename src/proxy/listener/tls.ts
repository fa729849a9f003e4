// Downstream TLS termination for filter chains with a transport socket: a SecureContext built at config time from
// PEM or files (or, per handshake, from SDS secrets through a SecretProvider), client-certificate validation with SAN
// matching, and the peer's SPIFFE identity for ConnectionInfo.peerPrincipal.
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { SecureContextOptions, SecureVersion, TLSSocket } from 'node:tls';
import { ErrorCode, MeshError } from '../../shared/errors.js';
import type { DownstreamTls } from '../runtime/types.js';

/** PEM material of an SDS secret: a TLS certificate (chain + key) and/or a validation context (CA bundle). */
export interface SecretMaterial {
  certChain?: string;
  privateKey?: string;
  caCert?: string;
}

/** Resolves SDS secret names (e.g. Istio's `default`, `ROOTCA`, `kubernetes://name`) at handshake time. */
export interface SecretProvider {
  get(name: string): SecretMaterial | undefined;
}

/** Handshakes slower than this are abandoned (Envoy has no default; a client that never finishes must not linger). */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

const VERSIONS: Record<string, SecureVersion | undefined> = {
  TLSv1_0: 'TLSv1',
  TLSv1_1: 'TLSv1.1',
  TLSv1_2: 'TLSv1.2',
  TLSv1_3: 'TLSv1.3',
  TLS_AUTO: undefined,
};

/** A PEM string, or the path of a file holding one (read at config time). */
function pem(value: string | undefined, what: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.includes('-----BEGIN')) return value;
  try {
    return readFileSync(value, 'utf8');
  } catch (e) {
    throw new MeshError(ErrorCode.Invalid, `cannot read ${what} ${JSON.stringify(value)}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

function version(v: string | undefined): SecureVersion | undefined {
  if (v === undefined) return undefined;
  if (Object.hasOwn(VERSIONS, v)) return VERSIONS[v];
  if (v === 'TLSv1' || v === 'TLSv1.1' || v === 'TLSv1.2' || v === 'TLSv1.3') return v;
  throw new MeshError(ErrorCode.Invalid, `unsupported TLS version ${JSON.stringify(v)}`);
}

export interface TerminatedTls {
  socket: TLSSocket;
  /** First URI SAN of the verified client certificate (spiffe://...). */
  peerPrincipal?: string;
}

interface Pending {
  raw: Socket;
  cb: (err: Error | null, t?: TerminatedTls) => void;
  onRawClose: () => void;
}

/**
 * One filter chain's server-side TLS: a node:tls Server that never listens; accepted sockets are fed to it with
 * `emit('connection')`, so Node's own server path runs (client-certificate verification → `authorized`,
 * handshake timeout, ALPN selection).
 */
export class DownstreamTlsContext {
  private server: TlsServer | undefined;
  /** The SDS secrets the server's context was built from (rebuilt when the provider returns new objects). */
  private builtFrom: [SecretMaterial | undefined, SecretMaterial | undefined] = [undefined, undefined];
  private readonly pending = new Map<string, Pending>();
  private readonly requestCert: boolean;

  constructor(
    private readonly tls: DownstreamTls,
    private readonly secrets?: SecretProvider,
  ) {
    this.requestCert = tls.requireClientCertificate || tls.caCert !== undefined || tls.sdsValidation !== undefined;
    if (!tls.sdsCertificate) {
      const cert = pem(tls.certChain, 'certificate chain');
      const key = pem(tls.privateKey, 'private key');
      if (!cert || !key) throw new MeshError(ErrorCode.Invalid, 'downstream TLS needs a certificate chain and a private key (or an SDS secret)');
      this.server = this.makeServer(this.contextOptions(cert, key, pem(tls.caCert, 'CA certificate')));
    } else if (!secrets) {
      throw new MeshError(ErrorCode.Invalid, `SDS secret ${JSON.stringify(tls.sdsCertificate)} but no secret provider`);
    }
  }

  private contextOptions(cert: string, key: string, ca: string | undefined): SecureContextOptions {
    const min = version(this.tls.minVersion);
    const max = version(this.tls.maxVersion);
    return { cert, key, ...(ca ? { ca } : {}), ...(min ? { minVersion: min } : {}), ...(max ? { maxVersion: max } : {}) };
  }

  private makeServer(ctx: SecureContextOptions): TlsServer {
    const srv = new TlsServer({
      ...ctx,
      requestCert: this.requestCert,
      rejectUnauthorized: false, // verified in onSecure, so optional client certificates are allowed
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      ...(this.tls.alpn.length > 0 ? { ALPNProtocols: this.tls.alpn } : {}),
    });
    srv.on('secureConnection', (t: TLSSocket) => this.onSecure(t));
    srv.on('tlsClientError', (err: Error, t: TLSSocket) => this.settle(t, err));
    return srv;
  }

  /** The server for the next handshake; SDS secrets are looked up now (a rotated secret takes effect at once). */
  private current(): TlsServer {
    if (!this.tls.sdsCertificate) return this.server!;
    const cert = this.secrets?.get(this.tls.sdsCertificate);
    if (!cert?.certChain || !cert.privateKey) {
      throw new MeshError(ErrorCode.NotFound, `SDS secret ${JSON.stringify(this.tls.sdsCertificate)} is not available`);
    }
    const ca = this.tls.sdsValidation ? this.secrets?.get(this.tls.sdsValidation) : undefined;
    if (this.server && this.builtFrom[0] === cert && this.builtFrom[1] === ca) return this.server;
    const opts = this.contextOptions(cert.certChain, cert.privateKey, ca?.caCert ?? pem(this.tls.caCert, 'CA certificate'));
    if (this.server) this.server.setSecureContext(opts);
    else this.server = this.makeServer(opts);
    this.builtFrom = [cert, ca];
    return this.server;
  }

  /** Terminates TLS on `socket` (bytes already read were unshifted); `cb` runs once after the handshake or on failure. */
  terminate(socket: Socket, cb: (err: Error | null, t?: TerminatedTls) => void): void {
    let srv: TlsServer;
    try {
      srv = this.current();
    } catch (e) {
      cb(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    const key = tupleKey(socket);
    const onRawClose = (): void => {
      if (this.pending.get(key)?.raw !== socket) return;
      this.pending.delete(key);
      cb(new MeshError(ErrorCode.Io, 'connection closed during the TLS handshake'));
    };
    this.pending.set(key, { raw: socket, cb, onRawClose });
    socket.once('close', onRawClose);
    srv.emit('connection', socket);
  }

  private settle(t: TLSSocket, err: Error | null, v?: TerminatedTls): void {
    const key = tupleKey(t);
    const p = this.pending.get(key);
    if (!p) {
      t.destroy();
      return;
    }
    this.pending.delete(key);
    p.raw.removeListener('close', p.onRawClose);
    if (err) {
      t.destroy();
      p.raw.destroy();
    }
    p.cb(err, v);
  }

  private onSecure(t: TLSSocket): void {
    const verdict = this.verifyPeer(t);
    if (typeof verdict === 'object') this.settle(t, verdict);
    else this.settle(t, null, verdict === '' ? { socket: t } : { socket: t, peerPrincipal: verdict });
  }

  /** '' or the peer principal when the client certificate is acceptable, else the reason it is not. */
  private verifyPeer(t: TLSSocket): string | MeshError {
    if (!this.requestCert) return '';
    const cert = t.getPeerCertificate();
    const present = cert && Object.keys(cert).length > 0;
    if (!present) {
      return this.tls.requireClientCertificate ? new MeshError(ErrorCode.Invalid, 'client certificate required') : '';
    }
    if (!t.authorized) return new MeshError(ErrorCode.Invalid, `client certificate rejected: ${String(t.authorizationError)}`);
    const sans = (cert.subjectaltname ?? '').split(', ').filter((s) => s !== '');
    const values = sans.map((s) => s.slice(s.indexOf(':') + 1));
    if (this.tls.matchSans.length > 0 && !values.some((v) => this.tls.matchSans.some((m) => m.test(v)))) {
      return new MeshError(ErrorCode.Invalid, `client certificate SANs ${JSON.stringify(values)} match none of the allowed names`);
    }
    const uri = sans.find((s) => s.startsWith('URI:'));
    return uri ? uri.slice(4) : '';
  }
}

/** A live TCP connection's 4-tuple: the TLS socket reports the same addresses as the raw socket it wraps. */
function tupleKey(s: Socket): string {
  return `${s.remoteAddress}|${s.remotePort}|${s.localAddress}|${s.localPort}`;
}

// Opens one upstream connection: TCP or TLS (SNI, ALPN, SAN check), optional source address, connect timeout
// covering the TLS handshake (as Envoy's connect_timeout does). Shared by the HTTP pools and the TCP proxy.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { UpstreamTlsContext } from './tls.js';

export type ConnectFailureKind = 'timeout' | 'refused' | 'tls' | 'other';

export class ConnectFailure extends Error {
  constructor(
    readonly kind: ConnectFailureKind,
    /** Envoy-style transport failure reason, e.g. "delayed connect error: ECONNREFUSED", "TLS error: ...". */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(detail, options);
    this.name = 'ConnectFailure';
  }
}

export interface ConnectParams {
  address: string;
  port: number;
  timeoutMs: number;
  /** Source address to bind (upstream_bind_config, e.g. 127.0.0.6 for inbound passthrough). */
  localAddress?: string;
  tls?: UpstreamTlsContext;
  /** Request authority for auto_sni. */
  servername?: string;
  /** ALPN override (HTTP pools pin their protocol). */
  alpn?: string[];
}

/** Connects; `cb` gets the ready socket (TLS handshake done) or a ConnectFailure. The socket's errors after that are the caller's. */
export function openConnection(p: ConnectParams, cb: (err: ConnectFailure | null, socket?: Socket) => void): void {
  let socket: Socket;
  let tcpConnected = false;
  let done = false;
  if (p.tls) {
    let opts: ConnectionOptions;
    try {
      opts = p.tls.options(p.servername, p.alpn);
    } catch (err) {
      process.nextTick(cb, new ConnectFailure('tls', `TLS error: ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
      return;
    }
    const full: ConnectionOptions & { localAddress?: string } = { ...opts, host: p.address, port: p.port, localAddress: p.localAddress };
    socket = tlsConnect(full);
    socket.once('connect', () => (tcpConnected = true));
  } else {
    socket = netConnect({ host: p.address, port: p.port, localAddress: p.localAddress });
  }
  const timer =
    p.timeoutMs > 0
      ? setTimeout(() => {
          if (done) return;
          done = true;
          socket.destroy();
          cb(new ConnectFailure('timeout', `connect timeout after ${p.timeoutMs}ms`));
        }, p.timeoutMs)
      : undefined;
  const onError = (err: NodeJS.ErrnoException): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    socket.destroy();
    if (p.tls && tcpConnected) cb(new ConnectFailure('tls', `TLS error: ${err.message}`, { cause: err }));
    else cb(new ConnectFailure(err.code === 'ECONNREFUSED' ? 'refused' : 'other', `delayed connect error: ${err.code ?? err.message}`, { cause: err }));
  };
  socket.once('error', onError);
  socket.once(p.tls ? 'secureConnect' : 'connect', () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    socket.removeListener('error', onError);
    socket.setNoDelay(true);
    cb(null, socket);
  });
}

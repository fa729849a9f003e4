// One proxied TCP connection: connect upstream (retrying other hosts on connect failure up to max_connect_attempts),
// then copy bytes both ways with backpressure, forward half-closes (FIN), propagate resets, apply the idle
// timeout, flush what the upstream still has to send after the client left, and write the access log.
import type { Socket } from 'node:net';
import type { ConnectionInfo } from '../runtime/contracts.js';
import type { UpstreamError } from '../runtime/contracts.js';
import type { AccessLogContext } from '../http/access-log.js';
import { UpstreamResetError } from '../upstream/errors.js';
import type { TcpProxy } from './index.js';

function addr(address: string | undefined, port: number | undefined): string | undefined {
  if (!address) return undefined;
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export class TcpSession implements AccessLogContext {
  readonly startTime = Date.now();
  durationMs: number | undefined;
  readonly protocol = undefined;
  readonly responseCode = 0;
  readonly responseFlags: string[] = [];
  readonly responseCodeDetails = undefined;
  connectionTerminationDetails: string | undefined;
  upstreamTransportFailureReason: string | undefined;
  bytesReceived = 0;
  bytesSent = 0;
  upstreamHost: string | undefined;
  upstreamCluster: string | undefined;
  upstreamLocalAddress: string | undefined;
  readonly downstreamLocalAddress: string | undefined;
  readonly downstreamRemoteAddress: string | undefined;
  readonly requestedServerName: string | undefined;
  readonly routeName = undefined;
  readonly downstreamPeerUriSan: string | undefined;

  private upstream: Socket | undefined;
  private attempts = 0;
  private tried: Set<string> | undefined;
  private closed = false;
  private downClosed = false;
  private upClosed = true;
  private flushing = false;

  constructor(
    private readonly proxy: TcpProxy,
    private readonly down: Socket,
    private readonly info: ConnectionInfo,
  ) {
    const od = info.originalDst;
    this.downstreamLocalAddress = od ? addr(od.address, od.port) : addr(info.localAddress, info.localPort);
    this.downstreamRemoteAddress = addr(info.remoteAddress, info.remotePort);
    this.requestedServerName = info.sni;
    this.downstreamPeerUriSan = info.peerPrincipal;
  }

  requestHeader(): undefined {
    return undefined;
  }
  responseHeader(): undefined {
    return undefined;
  }
  responseTrailer(): undefined {
    return undefined;
  }

  start(): void {
    const { proxy, down } = this;
    proxy.stats.cxTotal.inc();
    // Half-close support: a FIN from one side is forwarded, the other direction keeps flowing.
    down.allowHalfOpen = true;
    down.pause();
    down.on('error', () => (this.connectionTerminationDetails ??= 'downstream_error'));
    down.once('close', () => this.onDownstreamClose());
    const idle = proxy.config.idleTimeoutMs;
    if (idle > 0) {
      // Reads and writes both refresh a socket's timer, so one timer on the downstream covers both directions.
      down.setTimeout(idle, () => {
        proxy.stats.idleTimeout.inc();
        this.connectionTerminationDetails = 'idle_timeout';
        this.close();
      });
    }
    const name = proxy.pickCluster();
    this.upstreamCluster = name;
    const cluster = name === undefined ? undefined : proxy.deps.clusters.get(name);
    if (cluster === undefined) {
      proxy.stats.noRoute.inc();
      this.responseFlags.push('NC');
      down.destroy();
      return;
    }
    this.connect();
  }

  private connect(): void {
    const cluster = this.proxy.deps.clusters.get(this.upstreamCluster ?? '');
    if (cluster === undefined || this.closed) return this.close();
    this.attempts++;
    cluster.connect({ originalDst: this.info.originalDst, downstreamAddress: this.downstreamRemoteAddress, exclude: this.tried }, (err, sock, hostKey) =>
      this.onConnect(err, sock, hostKey),
    );
  }

  private onConnect(err: UpstreamError | null, sock: Socket | undefined, hostKey: string | undefined): void {
    if (hostKey) this.upstreamHost = hostKey;
    if (this.closed || this.downClosed) {
      sock?.destroy();
      return this.close();
    }
    if (err || !sock) {
      const e = err;
      if (e?.flag === 'UF' && this.attempts < Math.max(1, this.proxy.config.maxConnectAttempts)) {
        if (hostKey) (this.tried ??= new Set()).add(hostKey);
        return this.connect();
      }
      if (e?.flag === 'UF' && this.proxy.config.maxConnectAttempts > 1) this.proxy.stats.connectAttemptsExceeded.inc();
      this.responseFlags.push(e?.flag ?? 'UF');
      this.upstreamTransportFailureReason = e instanceof UpstreamResetError ? e.transportFailure : undefined;
      this.down.destroy();
      return;
    }
    this.wire(sock);
  }

  private wire(up: Socket): void {
    const { down, proxy } = this;
    this.upstream = up;
    this.upClosed = false;
    up.allowHalfOpen = true;
    this.upstreamLocalAddress = addr(up.localAddress, up.localPort);
    down.on('data', (d: Buffer) => {
      if (!up.write(d)) {
        down.pause();
        proxy.stats.pausedReading.inc();
      }
    });
    up.on('drain', () => {
      if (!down.destroyed && down.isPaused()) {
        down.resume();
        proxy.stats.resumedReading.inc();
      }
    });
    up.on('data', (d: Buffer) => {
      if (!down.write(d)) up.pause();
    });
    down.on('drain', () => up.resume());
    down.on('end', () => up.end());
    up.on('end', () => down.end());
    up.on('error', (e: NodeJS.ErrnoException) => {
      this.connectionTerminationDetails ??= e.code === 'ECONNRESET' ? 'upstream_reset' : 'upstream_error';
    });
    up.once('close', (hadError: boolean) => this.onUpstreamClose(hadError));
    down.resume();
  }

  private onDownstreamClose(): void {
    this.downClosed = true;
    const up = this.upstream;
    if (up && !this.upClosed) {
      if (up.writableLength > 0 && !up.destroyed && !this.down.errored) {
        // The client is gone but the upstream has not received everything yet: flush, then close.
        this.flushing = true;
        this.proxy.stats.flushTotal.inc();
        this.proxy.stats.flushActive.inc();
        up.end();
      } else {
        up.destroy();
      }
    }
    this.maybeFinish();
  }

  private onUpstreamClose(hadError: boolean): void {
    this.upClosed = true;
    if (this.flushing) {
      this.flushing = false;
      this.proxy.stats.flushActive.dec();
    }
    const down = this.down;
    if (!down.destroyed) {
      if (hadError && typeof down.resetAndDestroy === 'function') down.resetAndDestroy();
      else down.end();
    }
    this.maybeFinish();
  }

  /** Closes both sides now (idle timeout, drain deadline). */
  close(): void {
    this.upstream?.destroy();
    this.down.destroy();
  }

  private maybeFinish(): void {
    if (this.closed || !this.downClosed || !this.upClosed) return;
    this.closed = true;
    const { down, proxy } = this;
    this.durationMs = Date.now() - this.startTime;
    this.bytesReceived = down.bytesRead;
    this.bytesSent = down.bytesWritten;
    proxy.stats.rxBytes.inc(this.bytesReceived);
    proxy.stats.txBytes.inc(this.bytesSent);
    for (const l of proxy.logs) l.sink.write(l.format(this));
    proxy.ended(this);
  }
}

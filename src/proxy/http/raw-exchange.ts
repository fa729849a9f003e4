// HTTP/1.1 Upgrade (WebSocket) and CONNECT requests on the socket the HTTP/1 codec handed over: an Exchange that writes HTTP/1.1 responses itself and then tunnels bytes both ways.
import type { Socket } from 'node:net';
import type { HcmContext } from './context.js';
import { Exchange, type ConnState } from './exchange.js';
import { getHeader } from './headers.js';
import { headerLines, statusLine } from '../http1/llhttp.js';
import { initFromH1, type H1Head } from './h1.js';
import { pipeBoth } from './tunnel.js';

/** An HTTP/1.1 Upgrade or CONNECT request on a socket the HTTP/1 codec handed over. */
export class RawExchange extends Exchange {
  readonly protocol: string;
  private closed = false;
  private tunnel = false;
  private head: Buffer | null;

  constructor(
    hcm: HcmContext,
    conn: ConnState,
    req: H1Head,
    readonly socket: Socket,
    head: Buffer,
  ) {
    super(hcm, conn);
    this.protocol = req.versionMinor === 0 ? 'HTTP/1.0' : 'HTTP/1.1';
    initFromH1(this, req);
    this.head = head.length ? head : null;
    if (this.method === 'CONNECT') {
      this.isConnect = true;
      this.authority = req.url;
      this.path = '/';
    } else this.upgrade = getHeader(this.headers, 'upgrade')?.toLowerCase();
    // An upgrade request's body (if any) is tunnel data: it goes upstream after the switch.
    this.hasBody = false;
    socket.on('close', () => this.onSocketClose());
    socket.on('drain', () => this.onDownstreamDrain());
    socket.on('error', () => socket.destroy());
  }

  protected writeHead(status: number, headers: string[], end: boolean): void {
    if (this.socket.destroyed) return;
    let s: string;
    try {
      s = headerLines(headers, statusLine(status));
    } catch {
      // A header the codec cannot write (CR/LF from a mutation): as for any HTTP/1 response, the stream is reset.
      this.responseCodeDetails = 'invalid_response_header';
      this.resetDownstream();
      return;
    }
    const switching = status === 101 || (this.isConnect && status >= 200 && status < 300);
    if (!switching) s += 'connection: close\r\n';
    this.socket.write(s + '\r\n', 'latin1');
    if (end) this.socket.end();
  }

  writeBody(chunk: Buffer): boolean {
    return this.socket.destroyed ? true : this.socket.write(chunk);
  }

  endBody(): void {
    this.socket.end();
  }

  resetDownstream(): void {
    this.localReset = true;
    this.socket.destroy();
  }

  override acceptUpgrade(status: number, headers: string[], upstream: Socket): void {
    this.respond(status, headers, false, false, true);
    this.openTunnel(upstream);
  }

  override openTunnel(upstream: Socket): void {
    if (this.socket.destroyed) {
      upstream.destroy();
      return;
    }
    this.tunnel = true;
    if (this.head) upstream.write(this.head);
    this.head = null;
    pipeBoth(this.socket, upstream);
  }

  private onSocketClose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.tunnel) {
      this.bytesSent = this.socket.bytesWritten;
      this.tunnelBytesReceived = this.socket.bytesRead;
    }
    this.finish(!this.tunnel && !this.socket.writableFinished);
  }
}

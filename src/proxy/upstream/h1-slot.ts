// An HTTP/1.1 upstream connection: one undici Client (pipelining 1, keep-alive, our connector), fed one request
// at a time by its HostPool through undici's dispatch API (raw headers, streamed bodies, no buffering).
import type { Socket } from 'node:net';
import { Client, type Dispatcher } from 'undici';
import type { HostPool, Slot } from './pool.js';
import type { UpstreamStream } from './stream.js';

const MAX_TIMER_MS = 2_147_483_647;

export class H1Slot implements Slot {
  inflight = 0;
  requests = 0;
  connected = false;
  dead = false;
  retiring = false;
  removed = false;
  inReady = false;
  readonly capacity = 1;
  private readonly client: Client;

  constructor(private readonly pool: HostPool) {
    const c = pool.owner.config;
    const idle = c.idleTimeoutMs > 0 ? Math.min(c.idleTimeoutMs, MAX_TIMER_MS) : MAX_TIMER_MS;
    const host = pool.host;
    this.client = new Client(`http://${host.key}`, {
      connect: (opts, cb) => {
        pool.connect(this, opts.servername ?? undefined, (err, socket) => (err ? cb(err, null) : cb(null, socket as Socket)));
      },
      pipelining: 1,
      keepAliveTimeout: idle,
      keepAliveMaxTimeout: idle,
      headersTimeout: 0,
      bodyTimeout: 0,
      strictContentLength: false,
    });
    this.client.on('connect', () => pool.onConnected(this));
    this.client.on('disconnect', () => pool.onDisconnected(this, this.inflight > 0 && !this.dead));
  }

  send(s: UpstreamStream): void {
    const req = s.req;
    // `servername` (per-request SNI) is accepted by undici's Request but missing from its typings.
    const opts: Dispatcher.DispatchOptions & { servername?: string } = {
      path: req.path,
      method: req.method,
      headers: s.reqHeaders,
      body: req.body,
      upgrade: req.upgrade ?? null,
    };
    if (this.pool.owner.tls?.cfg.autoSni) opts.servername = authorityHost(s.reqHeaders);
    try {
      this.client.dispatch(opts, s);
    } catch (err) {
      s.error(err);
    }
  }

  close(): void {
    this.dead = true;
    this.client.close().catch(() => undefined);
  }

  destroy(): void {
    this.dead = true;
    this.client.destroy().catch(() => undefined);
  }
}

/** Host part of the request's authority (for auto_sni). */
export function authorityHost(headers: readonly string[]): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === 'host') {
      const h = headers[i + 1];
      if (h.startsWith('[')) return h.slice(1, h.indexOf(']'));
      const c = h.lastIndexOf(':');
      return c > 0 ? h.slice(0, c) : h;
    }
  }
  return undefined;
}

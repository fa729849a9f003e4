// An HTTP/2 upstream connection on node:http2 (h2c prior knowledge or TLS): many concurrent streams, full duplex
// (gRPC streaming), response trailers. undici is not used here: its HTTP/2 client serializes requests that have
// a streamed body, which would put every gRPC call on a connection in single file.
import { connect as h2connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { UpstreamRequest } from '../runtime/contracts.js';
import type { HostPool, Slot } from './pool.js';
import type { UpstreamStream } from './stream.js';

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM } = constants;
/** Streams per connection before another connection is opened (Envoy's default is unlimited; servers advertise less). */
const MAX_STREAMS = 1000;
const kStream = Symbol('upstreamStream');

type Tagged = ClientHttp2Stream & { [kStream]: UpstreamStream; trailerList?: string[]; lastError?: Error };

/** Connection-specific headers HTTP/2 forbids (RFC 9113 §8.2.2). */
const FORBIDDEN = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings']);

export function toH2Headers(req: UpstreamRequest, headers: readonly string[], scheme: string): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ':method': req.method, ':path': req.path, ':scheme': scheme };
  const h = headers;
  for (let i = 0; i < h.length; i += 2) {
    let name = h[i];
    const value = h[i + 1];
    if (name === 'host') name = ':authority';
    else if (FORBIDDEN.has(name) || (name === 'te' && value !== 'trailers')) continue;
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [String(prev), value];
  }
  return out;
}

/** node:http2 raw headers → flat list without pseudo-headers. */
function fromRaw(raw: string[] | undefined, obj: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  if (raw) {
    for (let i = 0; i < raw.length; i += 2) if (raw[i].charCodeAt(0) !== 58 /* ':' */) out.push(raw[i], raw[i + 1]);
    return out;
  }
  for (const k of Object.keys(obj)) {
    if (k.startsWith(':')) continue;
    const v = obj[k];
    if (Array.isArray(v)) for (const x of v) out.push(k, x);
    else if (v !== undefined) out.push(k, String(v));
  }
  return out;
}

export class H2Slot implements Slot {
  inflight = 0;
  requests = 0;
  connected = false;
  dead = false;
  retiring = false;
  removed = false;
  inReady = false;
  capacity = MAX_STREAMS;
  private session: ClientHttp2Session | undefined;
  private waiting: UpstreamStream[] = [];
  private readonly scheme: string;

  constructor(
    private readonly pool: HostPool,
    servername: string | undefined,
  ) {
    this.scheme = pool.owner.tls ? 'https' : 'http';
    pool.connect(this, servername, (err, socket) => {
      if (err || !socket) {
        const w = this.waiting;
        this.waiting = [];
        for (const s of w) s.error(err);
        return;
      }
      if (this.removed) {
        socket.destroy();
        return;
      }
      const session = h2connect(`${this.scheme}://${pool.host.key}`, { createConnection: () => socket, settings: { enablePush: false } });
      this.session = session;
      session.on('remoteSettings', (s) => {
        this.capacity = Math.max(1, Math.min(MAX_STREAMS, s.maxConcurrentStreams ?? MAX_STREAMS));
      });
      session.on('goaway', () => {
        this.dead = true;
      });
      session.on('error', () => undefined); // stream errors are reported per stream
      session.on('close', () => pool.onDisconnected(this, false));
      const idle = pool.owner.config.idleTimeoutMs;
      if (idle > 0) {
        session.setTimeout(idle, () => {
          if (this.inflight === 0) session.close();
        });
      }
      pool.onConnected(this);
      const w = this.waiting;
      this.waiting = [];
      for (const s of w) this.send(s);
    });
  }

  send(s: UpstreamStream): void {
    const session = this.session;
    if (session === undefined) {
      this.waiting.push(s);
      return;
    }
    if (s.done) return;
    const body = s.req.body;
    let stream: Tagged;
    try {
      stream = session.request(toH2Headers(s.req, s.reqHeaders, this.scheme), { endStream: body === null }) as Tagged;
    } catch (err) {
      s.error(err);
      return;
    }
    stream[kStream] = s;
    s.h2 = stream;
    s.markSent();
    stream.on('response', onResponse);
    stream.on('trailers', onTrailers);
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
    if (body !== null) {
      body.on('error', onBodyError.bind(stream));
      body.pipe(stream);
    }
  }

  close(): void {
    this.dead = true;
    if (this.session) this.session.close();
  }

  destroy(): void {
    this.dead = true;
    const w = this.waiting;
    this.waiting = [];
    for (const s of w) s.error(new Error('connection closed'));
    if (this.session) this.session.destroy();
  }
}

function errCode(e: unknown): unknown {
  return typeof e === 'object' && e !== null && 'code' in e ? e.code : undefined;
}

function onError(this: Tagged, err: Error): void {
  this.lastError = err;
}

function onResponse(this: Tagged, headers: IncomingHttpHeaders, _flags: number, raw?: string[]): void {
  const s = this[kStream];
  const status = Number(headers[':status']);
  if (status < 200) return;
  if (!s.headers(status, fromRaw(raw, headers), this.resume.bind(this))) this.pause();
}

function onData(this: Tagged, chunk: Buffer): void {
  const s = this[kStream];
  if (s.done || s.aborted) return;
  if (!s.handler.onData(chunk)) this.pause();
}

function onTrailers(this: Tagged, headers: IncomingHttpHeaders, _flags: number, raw?: string[]): void {
  this.trailerList = fromRaw(raw, headers);
}

function onEnd(this: Tagged): void {
  const s = this[kStream];
  if (s.responded) s.complete(this.trailerList ?? null);
}

function onClose(this: Tagged): void {
  const s = this[kStream];
  if (s.req.body) s.req.body.unpipe(this);
  if (s.done) return;
  const code = this.rstCode;
  if (code === NGHTTP2_REFUSED_STREAM || errCode(this.lastError) === 'ERR_HTTP2_GOAWAY_SESSION') return s.reset(true, this.lastError);
  if (this.session?.destroyed !== true && code !== undefined && code !== 0) return s.reset(false, this.lastError);
  // The connection went away, or the stream ended without a response.
  s.error(Object.assign(new Error('HTTP/2 stream closed before the response was complete', { cause: this.lastError }), { code: 'UND_ERR_SOCKET' }));
}

function onBodyError(this: Tagged): void {
  this.close(NGHTTP2_CANCEL);
}

// Protocol endpoints for lifecycle tests: a minimal WebSocket echo (on an HTTP server) and raw client (RFC 6455 text frames), a
// gRPC streaming service defined without a .proto (server and bidi streaming of UTF-8 strings), a TCP echo server.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import { connect, createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { Duplex } from 'node:stream';
import grpc from '@grpc/grpc-js';
import type { ServiceDefinition } from '@grpc/grpc-js';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Encodes one text frame (masked when sent by a client, as RFC 6455 requires). */
function frame(text: string, mask: boolean): Buffer {
  const payload = Buffer.from(text, 'utf8');
  if (payload.length > 125) throw new Error('test frames stay under 126 bytes');
  const head = Buffer.from([0x81, (mask ? 0x80 : 0) | payload.length]);
  if (!mask) return Buffer.concat([head, payload]);
  const key = Buffer.from([1, 2, 3, 4]);
  const body = Buffer.from(payload.map((b, i) => b ^ key[i % 4]));
  return Buffer.concat([head, key, body]);
}

/** Splits complete frames off `buf`; returns [texts, rest]. Handles short frames only (< 126 bytes, as sent here). */
function parseFrames(buf: Buffer): [{ op: number; text: string }[], Buffer] {
  const out: { op: number; text: string }[] = [];
  let b = buf;
  while (b.length >= 2) {
    const masked = (b[1] & 0x80) !== 0;
    const len = b[1] & 0x7f;
    const need = 2 + (masked ? 4 : 0) + len;
    if (b.length < need) break;
    let payload = b.subarray(2 + (masked ? 4 : 0), need);
    if (masked) {
      const key = b.subarray(2, 6);
      payload = Buffer.from(payload.map((x, i) => x ^ key[i % 4]));
    }
    out.push({ op: b[0] & 0x0f, text: payload.toString('utf8') });
    b = b.subarray(need);
  }
  return [out, b];
}

/**
 * Makes `server` a WebSocket echo: greets with `hello <path>`, answers every text frame `echo:<text>`, closes on "bye".
 * Returns the upgrade requests it saw.
 */
export function attachWsEcho(server: Server): { path: string; headers: Record<string, unknown> }[] {
  const upgrades: { path: string; headers: Record<string, unknown> }[] = [];
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    upgrades.push({ path: req.url ?? '', headers: req.headers });
    const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}${WS_GUID}`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    socket.write(frame(`hello ${req.url ?? ''}`, false));
    let buf: Buffer = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      const [frames, rest] = parseFrames(Buffer.concat([buf, d]));
      buf = rest;
      for (const f of frames) {
        if (f.op === 0x8 || f.text === 'bye') {
          socket.end(Buffer.from([0x88, 0]));
          return;
        }
        socket.write(frame(`echo:${f.text}`, false));
      }
    });
    socket.on('error', () => socket.destroy());
  });
  return upgrades;
}

export interface WsClient {
  /** Status line of the handshake response, e.g. `HTTP/1.1 101 Switching Protocols`. */
  status: string;
  send(text: string): void;
  /** Next text frame received (in order). */
  next(timeoutMs?: number): Promise<string>;
  /** Resolves when the server closed the connection. */
  closed: Promise<void>;
  destroy(): void;
}

/** Opens a WebSocket by hand: `GET <target>` with Host `host` to `address` (`ip:port`); target may be an absolute URI. */
export async function wsConnect(address: string, target: string, host: string): Promise<WsClient> {
  const i = address.lastIndexOf(':');
  const s = connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)) });
  await once(s, 'connect');
  s.write(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  let buf: Buffer = Buffer.alloc(0);
  const texts: string[] = [];
  const waiters: ((t: string) => void)[] = [];
  let status = '';
  const head = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      if (!status) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        status = buf.subarray(0, buf.indexOf('\r\n')).toString('latin1');
        buf = buf.subarray(end + 4);
        resolve();
      }
      const [frames, rest] = parseFrames(buf);
      buf = rest;
      for (const f of frames) {
        if (f.op !== 0x1) continue;
        const w = waiters.shift();
        if (w) w(f.text);
        else texts.push(f.text);
      }
    };
    s.on('data', onData);
    s.once('error', reject);
    s.once('close', () => resolve());
  });
  const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
  await head;
  return {
    status,
    send: (t) => s.write(frame(t, true)),
    next: (timeoutMs = 5_000) => {
      const have = texts.shift();
      if (have !== undefined) return Promise.resolve(have);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no WebSocket frame in time')), timeoutMs);
        waiters.push((x) => {
          clearTimeout(t);
          resolve(x);
        });
      });
    },
    closed,
    destroy: () => s.destroy(),
  };
}

const str = (s: string): Buffer => Buffer.from(s, 'utf8');
const unstr = (b: Buffer): string => b.toString('utf8');
const method = (path: string, requestStream: boolean, responseStream: boolean) => ({
  path,
  requestStream,
  responseStream,
  requestSerialize: str,
  requestDeserialize: unstr,
  responseSerialize: str,
  responseDeserialize: unstr,
});

/** test.Stream: Count (server streaming: "n" → "1".."n", then trailer x-total), Chat (bidi: "echo:<msg>"), Fail (status from the request). */
export const STREAM_SERVICE = {
  Count: method('/test.Stream/Count', false, true),
  Chat: method('/test.Stream/Chat', true, true),
  Fail: method('/test.Stream/Fail', false, false),
} as unknown as ServiceDefinition;

export const StreamClient = grpc.makeGenericClientConstructor(STREAM_SERVICE, 'Stream');

/** A plaintext gRPC server for test.Stream on `ip` (port 0 = free port). */
export async function startStreamServer(ip: string, port = 0): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(STREAM_SERVICE, {
    Count: (call: grpc.ServerWritableStream<string, string>) => {
      const n = Number(call.request);
      for (let i = 1; i <= n; i++) call.write(String(i));
      const md = new grpc.Metadata();
      md.set('x-total', String(n));
      call.end(md);
    },
    Chat: (call: grpc.ServerDuplexStream<string, string>) => {
      call.on('data', (m: string) => call.write(`echo:${m}`));
      call.on('end', () => call.end());
    },
    Fail: (call: grpc.ServerUnaryCall<string, string>, cb: grpc.sendUnaryData<string>) => {
      cb({ code: Number(call.request), details: `failed with ${call.request}` });
    },
  });
  const bound = await new Promise<number>((resolve, reject) => server.bindAsync(`${ip}:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return { server, port: bound };
}

/** A TCP server on `ip` that greets `tcp-echo\n` and echoes every byte. */
export async function startTcpEcho(ip: string, port = 0): Promise<{ server: NetServer; port: number }> {
  const server = createNetServer((s) => {
    s.on('error', () => s.destroy());
    s.write('tcp-echo\n');
    s.pipe(s);
  });
  server.listen(port, ip);
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

/** Connects to `ip:port`, sends `data`, resolves with everything received until `until` appears (or the socket ends). */
export async function tcpExchange(ip: string, port: number, data: string | Buffer, until: string, timeoutMs = 5_000): Promise<string> {
  const s = connect({ host: ip, port });
  let got = '';
  try {
    await once(s, 'connect');
    s.write(data);
    return await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`tcp: "${until}" not received in time (got ${JSON.stringify(got)})`)), timeoutMs);
      s.on('data', (d: Buffer) => {
        got += d.toString('latin1');
        if (got.includes(until)) {
          clearTimeout(t);
          resolve(got);
        }
      });
      s.on('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
      s.on('end', () => {
        clearTimeout(t);
        resolve(got);
      });
    });
  } finally {
    s.destroy();
  }
}

/** A Duplex over `s` that first yields `head` (bytes already read from it). */
function replaying(s: Socket, head: Buffer): Duplex {
  const d = new Duplex({
    read: () => void s.resume(),
    write: (chunk: Buffer, _enc, cb) => void s.write(chunk, cb),
    final: (cb) => {
      s.end();
      cb();
    },
    destroy: (err, cb) => {
      s.destroy();
      cb(err);
    },
  });
  d.push(head);
  s.on('data', (c: Buffer) => {
    if (!d.push(c)) s.pause();
  });
  s.on('end', () => d.push(null));
  s.on('close', () => d.destroy());
  return d;
}

/**
 * One port, three protocols (a sniffing target): HTTP/2 prior knowledge (h2c) and HTTP/1.1 answer `<proto> <path>`
 * with `x-app`, anything else is echoed as opaque TCP after a `tcp:` greeting.
 */
export async function startMultiProtocolApp(ip: string, name: string, port = 0): Promise<{ server: NetServer; port: number; close(): void }> {
  const h1 = createHttpServer((req, res) => res.writeHead(200, { 'x-app': name }).end(`HTTP/${req.httpVersion} ${req.url ?? ''}`));
  const h2 = createHttp2Server();
  h2.on('stream', (st, headers) => {
    st.respond({ ':status': 200, 'x-app': name });
    st.end(`HTTP/2.0 ${String(headers[':path'])}`);
  });
  const server = createNetServer((s) => {
    s.on('error', () => s.destroy());
    s.once('data', (first: Buffer) => {
      s.pause();
      const text = first.toString('latin1');
      // node:http2 reads the socket's handle directly (unshifted bytes would be lost): give it a stream that replays them.
      if (text.startsWith('PRI * HTTP/2.0')) h2.emit('connection', replaying(s, first));
      else if (/^[A-Z]+ \S+ HTTP\/1\.[01]\r\n/.test(text)) {
        s.unshift(first);
        h1.emit('connection', s);
      }
      else {
        s.unshift(first);
        s.write('tcp:');
        s.pipe(s);
      }
      s.resume();
    });
  });
  server.listen(port, ip);
  await once(server, 'listening');
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => {
      h1.closeAllConnections();
      h2.close();
      server.close();
    },
  };
}

// Socket clients for listener tests: connect, optionally send bytes, read the handler's greeting line.
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface LineClient {
  socket: Socket;
  /** Next '\n'-terminated line (without it); rejects if the connection closes first. */
  line(): Promise<string>;
  /** Resolves with everything received once the server closes the connection. */
  closed(): Promise<string>;
}

export function lineReader(socket: Socket): LineClient {
  let buf = '';
  let all = '';
  let ended = false;
  const waiters: { resolve: (s: string) => void; reject: (e: Error) => void }[] = [];
  const pump = (): void => {
    for (;;) {
      const nl = buf.indexOf('\n');
      if (nl < 0 || waiters.length === 0) break;
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      waiters.shift()!.resolve(line);
    }
    if (ended) for (const w of waiters.splice(0)) w.reject(new Error(`connection closed (buffered ${JSON.stringify(buf)})`));
  };
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => {
    buf += d;
    all += d;
    pump();
  });
  const closed = new Promise<string>((resolve) => {
    socket.on('close', () => {
      ended = true;
      pump();
      resolve(all);
    });
  });
  socket.on('error', () => {});
  return {
    socket,
    line: () => new Promise<string>((resolve, reject) => {
      waiters.push({ resolve, reject });
      pump();
    }),
    closed: () => closed,
  };
}

export async function dial(port: number, opts: { host?: string; localAddress?: string; send?: string | Buffer } = {}): Promise<LineClient> {
  const s = connect({ host: opts.host ?? '127.0.0.1', port, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
  const c = lineReader(s);
  await once(s, 'connect');
  if (opts.send !== undefined) s.write(opts.send);
  return c;
}

/** Captures the first flight of a Node TLS client (its ClientHello) for replay over plain sockets. */
export async function captureClientHello(opts: { servername?: string; ALPNProtocols?: string[] }): Promise<Buffer> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as AddressInfo).port;
  const got = new Promise<Buffer>((resolve) => {
    srv.once('connection', (s) => {
      s.once('data', (d: Buffer) => {
        resolve(d);
        s.destroy();
      });
    });
  });
  const c = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts });
  c.on('error', () => {});
  const buf = await got;
  c.destroy();
  await new Promise((r) => srv.close(r));
  return buf;
}

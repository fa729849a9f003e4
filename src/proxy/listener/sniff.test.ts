import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer, request } from 'node:http';
import { connect as h2connect, createServer as createH2Server } from 'node:http2';
import type { Socket } from 'node:net';
import { after, test } from 'node:test';
import type { ConnectionInfo, NetworkHandler, NetworkHandlerFactory } from '../runtime/contracts.js';
import type { FilterChain, Listener } from '../runtime/types.js';
import { Stats } from '../telemetry/stats.js';
import { H2_PREFACE } from './inspect.js';
import { ListenerManager } from './manager.js';
import { FakeFactory, chain, httpFilter, listener, snapshot } from './testing.js';
import { captureClientHello, dial } from './testing-client.js';

const managers: ListenerManager[] = [];
after(async () => {
  for (const m of managers) await m.close();
});

const HTTP_ALPNS = ['http/1.0', 'http/1.1', 'h2c'];
/** Istio's sniffing listener for a port of unknown protocol: HTTP chain by ALPN, else TCP; TLS chains by SNI. */
function sniffing(extra: Partial<Listener> = {}): Listener {
  return listener({
    name: 'sniff',
    listenerFilters: { tlsInspector: true, httpInspector: true, originalDst: false },
    listenerFiltersTimeoutMs: 100,
    continueOnListenerFiltersTimeout: true,
    filterChains: [
      chain('tls-api', { transportProtocol: 'tls', serverNames: ['api.example.com'] }),
      chain('tls-h2', { transportProtocol: 'tls', applicationProtocols: ['h2'] }),
      chain('tls-other', { transportProtocol: 'tls' }),
      chain('http', { applicationProtocols: HTTP_ALPNS }),
      chain('tcp'),
    ],
    ...extra,
  });
}

async function start(l: Listener, factory: NetworkHandlerFactory = new FakeFactory()): Promise<{ m: ListenerManager; port: number; stats: Stats }> {
  const stats = new Stats();
  const m = new ListenerManager({ factory, stats, drainMs: 1_000 });
  managers.push(m);
  await m.apply(snapshot([l]));
  return { m, port: m.boundAddress(l.name)!.port, stats };
}

test('sniffing: HTTP/1.1, HTTP/1.0, h2c prior knowledge, client-first opaque TCP', async () => {
  const { port } = await start(sniffing());
  const h11 = await dial(port, { send: 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' });
  assert.equal(await h11.line(), 'tcp1:http http http1 http/1.1');
  assert.equal(await h11.line(), 'GET / HTTP/1.1\r', 'sniffed bytes are replayed to the handler');
  const h10 = await dial(port, { send: 'HEAD /a HTTP/1.0\r\n\r\n' });
  assert.equal(await h10.line(), 'tcp1:http http http1 http/1.0');
  const h2 = await dial(port, { send: H2_PREFACE });
  assert.equal(await h2.line(), 'tcp1:http http h2c h2c');
  const t0 = Date.now();
  const opaque = await dial(port, { send: 'hello\n' });
  assert.equal(await opaque.line(), 'tcp1:tcp tcp tcp -');
  assert.equal(await opaque.line(), 'hello');
  assert.ok(Date.now() - t0 < 90, 'non-HTTP, non-TLS bytes decide at once');
  for (const c of [h11, h10, h2, opaque]) c.socket.destroy();
});

test('sniffing: a request line split over several writes waits for the whole line', async () => {
  const { port } = await start(sniffing({ listenerFiltersTimeoutMs: 5_000 }));
  const c = await dial(port, { send: 'PO' });
  await new Promise((r) => setTimeout(r, 20));
  c.socket.write('ST /x HT');
  await new Promise((r) => setTimeout(r, 20));
  c.socket.write('TP/1.1\r\n\r\n');
  assert.equal(await c.line(), 'tcp1:http http http1 http/1.1');
  c.socket.destroy();
});

test('sniffing: TLS ClientHello → transport tls, SNI and ALPN pick the chain; bytes replayed', async () => {
  const { port } = await start(sniffing());
  const api = await captureClientHello({ servername: 'api.example.com', ALPNProtocols: ['h2'] });
  const h2 = await captureClientHello({ servername: 'other.example.com', ALPNProtocols: ['h2', 'http/1.1'] });
  const plain = await captureClientHello({ servername: 'other.example.com' });
  const a = await dial(port, { send: api });
  assert.equal(await a.line(), 'tcp1:tls-api tls-api tls h2');
  const b = await dial(port, { send: h2 });
  assert.equal(await b.line(), 'tcp1:tls-h2 tls-h2 tls h2,http/1.1');
  const c = await dial(port, { send: plain });
  assert.equal(await c.line(), 'tcp1:tls-other tls-other tls -');
  for (const x of [a, b, c]) x.socket.destroy();
});

test('server-first protocols: the sniff timeout continues with the TCP chain, or closes when told to', async () => {
  const { port, stats } = await start(sniffing());
  const t0 = Date.now();
  const c = await dial(port); // sends nothing, like a MySQL client waiting for the server greeting
  assert.equal(await c.line(), 'tcp1:tcp tcp tcp -');
  const waited = Date.now() - t0;
  assert.ok(waited >= 90 && waited < 1_000, `waited ${waited} ms`);
  assert.equal(stats.get('listener.127.0.0.1_0.downstream_pre_cx_timeout'), 1);
  c.socket.destroy();

  const strict = await start(sniffing({ name: 'strict', continueOnListenerFiltersTimeout: false }));
  const d = await dial(strict.port);
  assert.equal(await d.closed(), '');
});

test('listener filters timeout 0 waits for the client indefinitely', async () => {
  const { port } = await start(sniffing({ listenerFiltersTimeoutMs: 0 }));
  const c = await dial(port);
  await new Promise((r) => setTimeout(r, 150));
  c.socket.write('GET / HTTP/1.1\r\n\r\n');
  assert.equal(await c.line(), 'tcp1:http http http1 http/1.1');
  c.socket.destroy();
});

test('no filter chain matches → the connection is closed and counted', async () => {
  const { port, stats } = await start(listener({ name: 'nomatch', filterChains: [chain('only-9999', { destinationPort: 9999 })] }));
  const c = await dial(port, { send: 'x' });
  assert.equal(await c.closed(), '');
  assert.equal(stats.get('listener.127.0.0.1_0.no_filter_chain_match'), 1);
});

/** Feeds sockets to real node:http / node:http2 servers, as the HTTP connection manager will. */
class NodeHttpFactory implements NetworkHandlerFactory {
  readonly h1 = createHttpServer((req, res) => res.end(`h1 ${req.url}`));
  readonly h2 = createH2Server((req, res) => res.end(`h2 ${req.url}`));
  http(): NetworkHandler {
    return {
      activeConnections: 0,
      onConnection: (socket: Socket, info: ConnectionInfo) => (info.sniffed === 'h2c' ? this.h2 : this.h1).emit('connection', socket),
      drain: async () => {},
    };
  }
  tcp(): NetworkHandler {
    throw new Error('no tcp');
  }
}

test('after sniffing, real node:http and node:http2 servers read the replayed bytes', async () => {
  const f = new NodeHttpFactory();
  const http: FilterChain = { ...chain('http', { applicationProtocols: HTTP_ALPNS }), filter: httpFilter('http') };
  const { port } = await start(sniffing({ filterChains: [http] }), f);
  const body = await new Promise<string>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/one', agent: false }, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (b += d));
      res.on('end', () => resolve(b));
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(body, 'h1 /one');
  const session = h2connect(`http://127.0.0.1:${port}`);
  const stream = session.request({ ':path': '/two' });
  stream.setEncoding('utf8');
  let b2 = '';
  stream.on('data', (d: string) => (b2 += d));
  await once(stream, 'end');
  assert.equal(b2, 'h2 /two');
  session.close();
  f.h1.close();
  f.h2.close();
});

// TCP proxy over real sockets: echo, half-close, backpressure on large transfers, weighted clusters, no cluster,
// connect retries, original destination, idle timeout, TLS passthrough, reset propagation, drain, access log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import type { ConnectionInfo, NetworkHandler } from '../runtime/contracts.js';
import type { TcpProxyConfig } from '../runtime/types.js';
import { Stats } from '../telemetry/stats.js';
import { makeTestPki } from '../listener/testing-certs.js';
import { UpstreamClusters } from '../upstream/cluster-manager.js';
import { seededRandom } from '../upstream/lb/types.js';
import { cluster, MemoryConfigSource, snapshot, type EndpointSpec } from '../upstream/testing.js';
import { createTcpHandler } from './index.js';

function tcpConfig(over: Partial<TcpProxyConfig> = {}): TcpProxyConfig {
  return { type: 'tcp', statPrefix: 'tp', cluster: 'up', idleTimeoutMs: 0, accessLog: [{ path: 'mem' }], maxConnectAttempts: 1, ...over };
}

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** A front listener (plain net server, no allowHalfOpen, as a listener might create it) handing sockets over. */
async function front(handler: NetworkHandler, info: Partial<ConnectionInfo> = {}): Promise<{ port: number; server: Server }> {
  const server = createServer((sock) =>
    handler.onConnection(sock, {
      listenerName: 'l',
      filterChainName: 'c',
      localAddress: sock.localAddress ?? '',
      localPort: sock.localPort ?? 0,
      remoteAddress: sock.remoteAddress ?? '',
      remotePort: sock.remotePort ?? 0,
      transport: 'raw_buffer',
      ...info,
    }),
  );
  return { port: await listen(server), server };
}

/** Upstream echo server (prefixes its port), half-close aware: answers 'bye' after the client's FIN. */
async function echo(): Promise<{ port: number; server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('data', (d) => s.write(d));
    s.on('end', () => s.end('bye'));
  });
  return { port: await listen(server), server, sockets };
}

async function roundTrip(port: number, msg: string, host = '127.0.0.1'): Promise<string> {
  const c = connect(port, host);
  c.end(msg);
  const parts: Buffer[] = [];
  c.on('data', (d: Buffer) => parts.push(d));
  await once(c, 'close');
  return Buffer.concat(parts).toString();
}

function setup(clusters: Parameters<typeof snapshot>[0], cfg: Partial<TcpProxyConfig> = {}) {
  const stats = new Stats();
  const cm = new UpstreamClusters({ config: new MemoryConfigSource(snapshot(clusters)), stats, random: seededRandom(7) });
  const lines: string[] = [];
  const handler = createTcpHandler(tcpConfig(cfg), { clusters: cm, stats, random: seededRandom(9), logSinks: { get: () => ({ write: (l: string) => lines.push(l) }) } });
  return { stats, cm, lines, handler };
}

test('bytes flow both ways, the client FIN is forwarded and the upstream answers after it; stats and access log', async (t) => {
  const up = await echo();
  const { stats, cm, lines, handler } = setup([cluster('up', [{ port: up.port }])]);
  const f = await front(handler);
  t.after(() => (cm.close(), f.server.close(), up.server.close()));
  assert.equal(await roundTrip(f.port, 'hello'), 'hellobye');
  await new Promise((r) => setImmediate(r));
  assert.equal(stats.get('tcp.tp.downstream_cx_total'), 1);
  assert.equal(stats.get('tcp.tp.downstream_cx_rx_bytes_total'), 5);
  assert.equal(stats.get('tcp.tp.downstream_cx_tx_bytes_total'), 8);
  assert.equal(stats.get('cluster.up.upstream_cx_total'), 1);
  assert.equal(stats.get('cluster.up.upstream_cx_active'), 0);
  assert.equal(handler.activeConnections, 0);
  assert.equal(lines.length, 1);
  assert.match(lines[0], new RegExp(`^\\[.+\\] "- - -" 0 - - - "-" 5 8 \\d+ - "-" "-" "-" "-" "127\\.0\\.0\\.1:${up.port}" up 127\\.0\\.0\\.1:\\d+ 127\\.0\\.0\\.1:${f.port} 127\\.0\\.0\\.1:\\d+ - -\\n$`));
});

test('large transfers keep their bytes under backpressure', async (t) => {
  // The upstream reads slowly (paused most of the time) and counts bytes.
  let received = 0;
  const slow = createServer({ allowHalfOpen: true }, (s) => {
    s.on('data', (d: Buffer) => {
      received += d.length;
      s.pause();
      setTimeout(() => s.resume(), 1);
    });
    s.on('end', () => s.end(String(received)));
  });
  const port = await listen(slow);
  const { stats, cm, handler } = setup([cluster('up', [{ port }])]);
  const f = await front(handler);
  t.after(() => (cm.close(), f.server.close(), slow.close()));
  const size = 8 * 1024 * 1024;
  const reply = await roundTrip(f.port, 'x'.repeat(size));
  assert.equal(reply, String(size));
  assert.ok(stats.get('tcp.tp.downstream_flow_control_paused_reading_total') > 0, 'the proxy paused the client');
  assert.equal(stats.get('tcp.tp.downstream_flow_control_paused_reading_total'), stats.get('tcp.tp.downstream_flow_control_resumed_reading_total'));
});

test('weighted clusters; no cluster is NC; a refused host is retried on another with max_connect_attempts', async (t) => {
  const a = await echo();
  const b = await echo();
  const dead = createServer();
  const deadPort = await listen(dead);
  dead.close();
  const eps: EndpointSpec[] = [{ port: deadPort }, { port: a.port }];
  const { stats, cm, lines, handler } = setup([cluster('a', [{ port: a.port }]), cluster('b', [{ port: b.port }]), cluster('retry', eps)], {
    cluster: undefined,
    weightedClusters: [
      { name: 'a', weight: 1 },
      { name: 'b', weight: 3 },
    ],
  });
  const f = await front(handler);
  t.after(() => (cm.close(), f.server.close(), a.server.close(), b.server.close()));
  for (let i = 0; i < 40; i++) await roundTrip(f.port, 'x');
  const toA = stats.get('cluster.a.upstream_cx_total');
  assert.equal(toA + stats.get('cluster.b.upstream_cx_total'), 40);
  assert.ok(toA >= 4 && toA <= 16, `a got ${toA} of 40 (weight 1 of 4)`);

  const noCluster = createTcpHandler(tcpConfig({ cluster: 'missing' }), { clusters: cm, stats, logSinks: { get: () => ({ write: (l: string) => lines.push(l) }) } });
  const f2 = await front(noCluster);
  t.after(() => f2.server.close());
  assert.equal(await roundTrip(f2.port, 'x'), '');
  await new Promise((r) => setImmediate(r));
  assert.equal(stats.get('tcp.tp.downstream_cx_no_route'), 1);
  assert.match(lines.at(-1) ?? '', /" 0 NC /);

  const retrying = createTcpHandler(tcpConfig({ cluster: 'retry', maxConnectAttempts: 2 }), { clusters: cm, stats });
  const f3 = await front(retrying);
  t.after(() => f3.server.close());
  for (let i = 0; i < 4; i++) assert.equal(await roundTrip(f3.port, 'r'), 'rbye');
  assert.ok(stats.get('cluster.retry.upstream_cx_connect_fail') >= 1);
  const once1 = createTcpHandler(tcpConfig({ cluster: 'retry', maxConnectAttempts: 1 }), { clusters: cm, stats });
  const f4 = await front(once1);
  t.after(() => f4.server.close());
  const replies = [];
  for (let i = 0; i < 4; i++) replies.push(await roundTrip(f4.port, 'r'));
  assert.ok(replies.includes(''), 'without retries a connection to the dead host is closed');
});

test('original destination (PassthroughCluster), idle timeout, upstream reset, drain deadline', async (t) => {
  const up = await echo();
  const { stats, cm, handler } = setup([cluster('PassthroughCluster', [], { type: 'ORIGINAL_DST', lbPolicy: 'CLUSTER_PROVIDED', loadAssignment: undefined })], {
    cluster: 'PassthroughCluster',
    idleTimeoutMs: 100,
  });
  const f = await front(handler, { originalDst: { address: '127.0.0.1', port: up.port } });
  t.after(() => (cm.close(), f.server.close(), up.server.close()));
  assert.equal(await roundTrip(f.port, 'pass'), 'passbye');

  // Idle: nothing flows, the proxy closes both sides.
  const idle = connect(f.port, '127.0.0.1');
  idle.write('x');
  await once(idle, 'data');
  const started = Date.now();
  await once(idle, 'close');
  assert.ok(Date.now() - started >= 80);
  assert.equal(stats.get('tcp.tp.idle_timeout'), 1);

  // The upstream resets: the client sees a reset, not a clean close.
  const c = connect(f.port, '127.0.0.1');
  c.write('y');
  await once(c, 'data');
  const s = [...up.sockets].at(-1)!; // the newest upstream connection
  s.resetAndDestroy();
  const [err] = (await once(c, 'error')) as [NodeJS.ErrnoException];
  assert.equal(err.code, 'ECONNRESET');

  // Drain: an open connection keeps working until the deadline, then is closed.
  const d = connect(f.port, '127.0.0.1');
  d.write('z');
  await once(d, 'data');
  const dClosed = once(d, 'close');
  const drained = handler.drain(50);
  d.write('still');
  const [more] = (await once(d, 'data')) as [Buffer];
  assert.equal(more.toString(), 'still');
  await drained;
  await dClosed;
  assert.equal(handler.activeConnections, 0);
});

test('TLS passthrough: the handshake is end to end, the proxy only copies bytes', async (t) => {
  const pki = makeTestPki({ serverNames: ['secure.example.com'] });
  t.after(() => pki.cleanup());
  const tlsUp = createTlsServer({ cert: pki.serverCert, key: pki.serverKey }, (s) => s.end(`hello ${s.servername ?? ''}`));
  const port = await listen(tlsUp);
  const { cm, handler } = setup([cluster('up', [{ port }])]);
  const f = await front(handler, { transport: 'tls', sni: 'secure.example.com' });
  t.after(() => (cm.close(), f.server.close(), tlsUp.close()));
  const c = tlsConnect({ port: f.port, host: '127.0.0.1', servername: 'secure.example.com', ca: pki.caCert });
  const parts: Buffer[] = [];
  c.on('data', (d: Buffer) => parts.push(d));
  await once(c, 'secureConnect');
  assert.equal(c.authorized, true);
  await once(c, 'end');
  c.destroy();
  assert.equal(Buffer.concat(parts).toString(), 'hello secure.example.com');
});

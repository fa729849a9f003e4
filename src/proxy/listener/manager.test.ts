import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { Stats } from '../telemetry/stats.js';
import { ListenerManager } from './manager.js';
import { FakeFactory, chain, listener, snapshot } from './testing.js';
import { dial } from './testing-client.js';

const managers: ListenerManager[] = [];
after(async () => {
  for (const m of managers) await m.close();
});

function setup(opts: { drainMs?: number; retryMs?: number; originalDst?: ConstructorParameters<typeof ListenerManager>[0]['originalDst'] } = {}): {
  m: ListenerManager;
  f: FakeFactory;
  stats: Stats;
} {
  const f = new FakeFactory();
  const stats = new Stats();
  const m = new ListenerManager({ factory: f, stats, drainMs: opts.drainMs ?? 5_000, ...(opts.retryMs !== undefined ? { retryMs: opts.retryMs } : {}), ...(opts.originalDst ? { originalDst: opts.originalDst } : {}) });
  managers.push(m);
  return { m, f, stats };
}

const port = (m: ListenerManager, name: string): number => {
  const a = m.boundAddress(name);
  assert.ok(a, `listener ${name} is not bound`);
  return a.port;
};

test('binds listeners, hands connections to the chain handler with ConnectionInfo, counts them', async () => {
  const { m, stats } = setup();
  await m.apply(snapshot([listener({ name: 'l1' }), listener({ name: 'notbound', bindToPort: false }), listener({ name: 'api', apiListener: true })]));
  const p = port(m, 'l1');
  const c = await dial(p);
  assert.equal(await c.line(), 'tcp1:l1 l1 - -');
  c.socket.write('ping\n');
  assert.equal(await c.line(), 'ping');
  assert.equal(m.boundAddress('notbound'), undefined);
  assert.deepEqual(m.status().map((s) => [s.name, s.state]), [['l1', 'active'], ['notbound', 'active']]);
  assert.equal(stats.get('listener.127.0.0.1_0.downstream_cx_total'), 1);
  assert.equal(stats.get('listener.127.0.0.1_0.downstream_cx_active'), 1);
  assert.equal(stats.get('listener_manager.total_listeners_active'), 2);
  assert.equal(m.ownsAddress('127.0.0.1', p), true);
  assert.equal(m.ownsAddress('127.0.0.2', p), false);
  c.socket.end();
  await c.closed();
});

test('connection info: addresses and original destination of a bound listener', async () => {
  const { m, f } = setup();
  await m.apply(snapshot([listener({ name: 'info' })]));
  const p = port(m, 'info');
  const c = await dial(p);
  await c.line();
  const info = f.handlers[0].infos[0];
  assert.equal(info.listenerName, 'info');
  assert.equal(info.localAddress, '127.0.0.1');
  assert.equal(info.localPort, p);
  assert.equal(info.remoteAddress, '127.0.0.1');
  assert.equal(info.remotePort, c.socket.localPort);
  assert.deepEqual(info.originalDst, { address: '127.0.0.1', port: p });
  assert.equal(info.transport, 'raw_buffer');
  c.socket.destroy();
});

test('an unchanged listener (same hash) keeps its handlers and connections', async () => {
  const { m, f } = setup();
  const l = listener({ name: 'same' });
  await m.apply(snapshot([l]));
  const c = await dial(port(m, 'same'));
  await c.line();
  const before = f.handlers.length;
  await m.apply(snapshot([{ ...l }]));
  assert.equal(f.handlers.length, before);
  assert.equal(f.handlers[0].drained, false);
  c.socket.write('still\n');
  assert.equal(await c.line(), 'still');
  c.socket.destroy();
});

test('a changed listener swaps chains on the same socket: no refused connection, old connections drain', async () => {
  const { m, f, stats } = setup();
  await m.apply(snapshot([listener({ name: 'sw', filterChains: [chain('v1')] })]));
  const p = port(m, 'sw');
  const old = await dial(p);
  assert.equal(await old.line(), 'tcp1:v1 v1 - -');

  // Connect continuously while the update is applied.
  let stop = false;
  const results: string[] = [];
  const hammer = (async () => {
    while (!stop) {
      const c = await dial(p);
      results.push(await c.line());
      c.socket.destroy();
    }
  })();
  await new Promise((r) => setImmediate(r));
  f.gen = 2;
  await m.apply(snapshot([listener({ name: 'sw', filterChains: [chain('v2')] })]));
  assert.equal(port(m, 'sw'), p, 'same port, same server socket');
  const fresh = await dial(p);
  assert.equal(await fresh.line(), 'tcp2:v2 v2 - -');
  stop = true;
  await hammer; // a refused connection would have thrown here
  assert.ok(results.every((r) => r === 'tcp1:v1 v1 - -' || r === 'tcp2:v2 v2 - -'), results.join('|'));
  // The connection accepted under v1 is drained by its own handler.
  assert.equal(await old.line(), 'bye');
  await old.closed();
  assert.equal(f.handlers[0].drained, true);
  assert.equal(stats.get('listener_manager.listener_modified'), 1);
  fresh.socket.write('v2 works\n');
  assert.equal(await fresh.line(), 'v2 works');
  fresh.socket.destroy();
});

test('a removed listener stops accepting and drains; connections left at the deadline are closed', async () => {
  const { m, f, stats } = setup({ drainMs: 200 });
  await m.apply(snapshot([listener({ name: 'gone' })]));
  const p = port(m, 'gone');
  const c = await dial(p);
  await c.line();
  // This handler never finishes draining: the manager closes the connection at the deadline.
  f.handlers[0].drain = () => new Promise(() => {});
  const t0 = Date.now();
  await m.apply(snapshot([]));
  const refused = connect({ host: '127.0.0.1', port: p });
  const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
  assert.equal(err.code, 'ECONNREFUSED');
  await c.closed();
  assert.ok(Date.now() - t0 >= 150, 'closed at the drain deadline');
  assert.equal(stats.get('listener_manager.listener_removed'), 1);
  assert.deepEqual(m.status(), []);
});

test('EADDRINUSE is reported in status and stats, never thrown; a later snapshot retries', async () => {
  const blocker = createServer();
  blocker.listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  const busy = (blocker.address() as AddressInfo).port;
  const { m, stats } = setup();
  await m.apply(snapshot([listener({ name: 'busy', address: { address: '127.0.0.1', port: busy } }), listener({ name: 'ok' })]));
  const st = m.status().find((s) => s.name === 'busy')!;
  assert.equal(st.state, 'failed');
  assert.match(st.error ?? '', /cannot bind 127\.0\.0\.1:\d+: .*EADDRINUSE/);
  assert.equal(stats.get('listener_manager.listener_create_failure'), 1);
  assert.ok(m.boundAddress('ok'), 'other listeners still bind');
  await new Promise((r) => blocker.close(r));
  // A changed config is retried at once.
  await m.apply(snapshot([listener({ name: 'busy', address: { address: '127.0.0.1', port: busy }, filterChains: [chain('again')] }), listener({ name: 'ok' })]));
  assert.equal(m.status().find((s) => s.name === 'busy')!.state, 'active');
  const c = await dial(busy);
  assert.equal(await c.line(), 'tcp1:again again - -');
  c.socket.destroy();
});

test('a failed bind is retried on a timer: the listener binds once the port is free, without a new snapshot', async () => {
  const blocker = createServer();
  blocker.listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  const busy = (blocker.address() as AddressInfo).port;
  const { m, stats } = setup({ retryMs: 50 });
  await m.apply(snapshot([listener({ name: 'later', address: { address: '127.0.0.1', port: busy } })]));
  assert.equal(m.status()[0].state, 'failed');
  await new Promise((r) => blocker.close(r));
  const deadline = Date.now() + 5_000;
  while (m.status()[0]?.state !== 'active' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(m.status()[0]?.state, 'active', JSON.stringify(m.status()));
  assert.ok((stats.get('listener_manager.listener_create_failure') ?? 0) >= 1);
  const c = await dial(busy);
  assert.equal(await c.line(), 'tcp1:later later - -');
  c.socket.destroy();
});

test('use_original_dst hands connections to the listener of the original destination (exact, then wildcard)', async () => {
  // Loopback source addresses stand in for "where the connection was going" (the SO_ORIGINAL_DST hook).
  const dsts: Record<string, { address: string; port: number }> = {
    '127.0.0.2': { address: '10.0.0.5', port: 9080 },
    '127.0.0.3': { address: '10.0.0.5', port: 3306 },
    '127.0.0.4': { address: '1.2.3.4', port: 7777 },
  };
  const { m, f } = setup({ originalDst: (s) => dsts[s.remoteAddress ?? ''] });
  await m.apply(snapshot([
    listener({ name: 'virtualOutbound', useOriginalDst: true, filterChains: [chain('virtualOutbound-catchall-tcp')] }),
    listener({ name: '0.0.0.0_9080', address: { address: '0.0.0.0', port: 9080 }, bindToPort: false, filterChains: [chain('http-9080')] }),
    listener({ name: '10.0.0.5_3306', address: { address: '10.0.0.5', port: 3306 }, bindToPort: false, filterChains: [chain('mysql')] }),
  ]));
  const p = port(m, 'virtualOutbound');
  const a = await dial(p, { localAddress: '127.0.0.2' });
  assert.equal(await a.line(), 'tcp1:http-9080 http-9080 - -');
  const b = await dial(p, { localAddress: '127.0.0.3' });
  assert.equal(await b.line(), 'tcp1:mysql mysql - -');
  const c = await dial(p, { localAddress: '127.0.0.4' });
  assert.equal(await c.line(), 'tcp1:virtualOutbound-catchall-tcp virtualOutbound-catchall-tcp - -');
  const d = await dial(p, { localAddress: '127.0.0.5' }); // hook does not know: local address, own chains
  assert.equal(await d.line(), 'tcp1:virtualOutbound-catchall-tcp virtualOutbound-catchall-tcp - -');
  const infos = f.handlers.flatMap((h) => h.infos);
  const handed = infos.find((i) => i.filterChainName === 'http-9080')!;
  assert.equal(handed.listenerName, '0.0.0.0_9080');
  assert.deepEqual(handed.originalDst, { address: '10.0.0.5', port: 9080 });
  for (const x of [a, b, c, d]) x.socket.destroy();
});

test('drainListeners stops accepting everywhere and drains every handler', async () => {
  const { m, f } = setup();
  await m.apply(snapshot([listener({ name: 'd1', trafficDirection: 'INBOUND' }), listener({ name: 'd2' })]));
  const p1 = port(m, 'd1');
  const p2 = port(m, 'd2');
  const c1 = await dial(p1);
  const c2 = await dial(p2);
  await c1.line();
  await c2.line();
  await m.drainListeners(1_000, (l) => l.trafficDirection === 'INBOUND');
  assert.equal(await c1.line(), 'bye');
  assert.equal(f.handlers.find((h) => h.tag.endsWith(':d2'))!.drained, false);
  const r = connect({ host: '127.0.0.1', port: p1 });
  assert.equal(((await once(r, 'error')) as [NodeJS.ErrnoException])[0].code, 'ECONNREFUSED');
  const again = await dial(p2);
  assert.equal(await again.line(), 'tcp1:d2 d2 - -');
  await m.drainListeners(1_000);
  assert.equal(await c2.line(), 'bye');
  await again.closed();
  assert.ok(m.status().every((s) => s.state === 'stopped'));
});

test('the original_dst listener filter (virtualInbound) restores the destination for chain matching, without hand-off', async () => {
  const { m, f } = setup({ originalDst: (s) => (s.remoteAddress === '127.0.0.2' ? { address: '127.0.0.9', port: 9080 } : undefined) });
  await m.apply(snapshot([
    listener({
      name: 'virtualInbound',
      trafficDirection: 'INBOUND',
      listenerFilters: { tlsInspector: false, httpInspector: false, originalDst: true },
      filterChains: [chain('inbound|9080||', { destinationPort: 9080 }), chain('virtualInbound-catchall-tcp', { prefixRanges: [{ address: '0.0.0.0', prefixLen: 0 }] })],
    }),
    listener({ name: '0.0.0.0_9080', address: { address: '0.0.0.0', port: 9080 }, bindToPort: false, filterChains: [chain('not-me')] }),
  ]));
  const p = port(m, 'virtualInbound');
  const a = await dial(p, { localAddress: '127.0.0.2' });
  assert.equal(await a.line(), 'tcp1:inbound|9080|| inbound|9080|| - -');
  const b = await dial(p, { localAddress: '127.0.0.3' });
  assert.equal(await b.line(), 'tcp1:virtualInbound-catchall-tcp virtualInbound-catchall-tcp - -');
  assert.deepEqual(f.handlers.flatMap((h) => h.infos).find((i) => i.filterChainName === 'inbound|9080||')?.originalDst, { address: '127.0.0.9', port: 9080 });
  a.socket.destroy();
  b.socket.destroy();
});

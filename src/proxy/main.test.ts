import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { ProxyOptions } from './agent/options.js';
import { resolveOptions } from './agent/options.js';
import type { ProxyComponents, RunningProxy, XdsConnection } from './main.js';
import { runProxy } from './main.js';
import { FakeConfigSource, FakeFactory, chain, listener } from './listener/testing.js';
import { dial } from './listener/testing-client.js';
import type { ClusterManager, HostStatus, UpstreamCluster } from './runtime/contracts.js';
import type { Cluster } from './runtime/types.js';

const running: RunningProxy[] = [];
after(async () => {
  for (const p of running) await p.shutdown({ drain: false });
});

function options(extra: Record<string, string> = {}): ProxyOptions {
  return resolveOptions('sidecar', { 'admin-addr': '127.0.0.1:0', 'status-addr': '127.0.0.1:0', 'readiness-addr': '127.0.0.1:0', 'pod-name': 'reviews-1', namespace: 'bookinfo', labels: 'app=reviews', 'drain-duration': '2s', ...extra }, {});
}

function fakeCluster(name: string, hosts: HostStatus[]): UpstreamCluster {
  const config = { name, type: 'EDS', lbPolicy: 'ROUND_ROBIN', circuitBreakers: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 } } as unknown as Cluster;
  return {
    name,
    config,
    dispatch: () => ({ abort: () => {} }),
    connect: () => {},
    tryAcquireRetry: () => true,
    releaseRetry: () => {},
    hosts: () => hosts,
  };
}

interface Harness {
  p: RunningProxy;
  source: FakeConfigSource;
  factory: FakeFactory;
  lines: Record<string, unknown>[];
  markReady(): void;
  nextLine(event: string): Promise<Record<string, unknown>>;
  exits: number[];
}

async function start(o: ProxyOptions = options()): Promise<Harness> {
  const source = new FakeConfigSource();
  const factory = new FakeFactory();
  let markReady: () => void = () => {};
  const ready = new Promise<void>((r) => (markReady = r));
  const lines: Record<string, unknown>[] = [];
  const waiters: { event: string; resolve: (l: Record<string, unknown>) => void }[] = [];
  const host: HostStatus = { key: '10.0.0.1:9080', address: '10.0.0.1', port: 9080, weight: 1, locality: 'us/zone-a/', priority: 0, healthy: true, ejected: true, activeRequests: 2, activeConnections: 1, totalRequests: 10, totalErrors: 3 };
  const cm: ClusterManager = { get: () => undefined, all: () => [fakeCluster('outbound|9080||reviews.bookinfo.svc.cluster.local', [host])] };
  const components: ProxyComponents = {
    connectXds: (): XdsConnection => ({ source, ready, status: () => ({ connected: true, address: '127.0.0.1:15010' }), close: () => {} }),
    clusterManager: () => cm,
    handlers: () => factory,
  };
  const exits: number[] = [];
  const p = await runProxy({
    options: o,
    components,
    handleSignals: false,
    onExit: (c) => exits.push(c),
    stdout: {
      write: (s: string) => {
        for (const l of s.split('\n').filter((x) => x !== '')) {
          const obj = JSON.parse(l) as Record<string, unknown>;
          lines.push(obj);
          for (const w of waiters.filter((x) => x.event === obj.event)) w.resolve(obj);
        }
        return true;
      },
    },
  });
  running.push(p);
  return {
    p, source, factory, lines, exits,
    markReady,
    nextLine: (event) => {
      const have = lines.find((l) => l.event === event);
      return have ? Promise.resolve(have) : new Promise((resolve) => waiters.push({ event, resolve }));
    },
  };
}

async function get(addr: string | undefined, path: string, method = 'GET'): Promise<{ status: number; body: string; type: string }> {
  const r = await fetch(`http://${addr}${path}`, { method });
  return { status: r.status, body: await r.text(), type: r.headers.get('content-type') ?? '' };
}

test('started line, then readiness only once the first config is applied', async () => {
  const h = await start();
  const started = await h.nextLine('started');
  assert.equal(started.admin, h.p.adminAddress);
  assert.match(String(started.admin), /^127\.0\.0\.1:\d+$/);
  assert.equal((await get(h.p.adminAddress, '/ready')).status, 503);
  const r15021 = await get(h.p.readinessAddress, '/healthz/ready');
  assert.equal(r15021.status, 503);
  assert.match(r15021.body, /config not received/);
  assert.equal(JSON.parse((await get(h.p.adminAddress, '/server_info')).body).state, 'INITIALIZING');

  h.source.set([listener({ name: 'virtualInbound', trafficDirection: 'INBOUND', filterChains: [chain('inbound')] })]);
  h.markReady();
  const ready = await h.nextLine('ready');
  const addr = (ready.listeners as Record<string, string>).virtualInbound;
  assert.match(addr ?? '', /^127\.0\.0\.1:\d+$/);
  assert.deepEqual(await get(h.p.adminAddress, '/ready'), { status: 200, body: 'LIVE\n', type: 'text/plain; charset=UTF-8' });
  assert.equal((await get(h.p.readinessAddress, '/healthz/ready')).status, 200);
  assert.equal((await get(h.p.statusAddress, '/healthz/ready')).status, 200);
  const c = await dial(Number(addr.split(':')[1]));
  assert.equal(await c.line(), 'tcp1:inbound inbound - -');
  c.socket.destroy();
});

test('admin: server_info, listeners, clusters, stats, config_dump, logging, help', async () => {
  const h = await start();
  h.source.set([listener({ name: 'l1', filterChains: [chain('c1')] })]);
  h.markReady();
  await h.nextLine('ready');
  const a = h.p.adminAddress;
  const info = JSON.parse((await get(a, '/server_info')).body);
  assert.equal(info.state, 'LIVE');
  assert.equal(info.node.id, 'sidecar~127.0.0.1~reviews-1.bookinfo~bookinfo.svc.cluster.local');
  assert.equal(info.node.metadata.NAMESPACE, 'bookinfo');
  assert.deepEqual(info.node.metadata.LABELS, { app: 'reviews' });
  assert.equal(info.isthmus.xds.connected, true);
  assert.match(info.uptime_current_epoch, /^\d+s$/);

  assert.match((await get(a, '/listeners')).body, /^l1::127\.0\.0\.1:\d+\n$/);
  const lj = JSON.parse((await get(a, '/listeners?format=json')).body);
  assert.equal(lj.listener_statuses[0].name, 'l1');

  const cl = (await get(a, '/clusters')).body;
  const cn = 'outbound|9080||reviews.bookinfo.svc.cluster.local';
  for (const line of [`${cn}::10.0.0.1:9080::health_flags::/failed_outlier_check`, `${cn}::10.0.0.1:9080::cx_active::1`, `${cn}::10.0.0.1:9080::rq_active::2`, `${cn}::10.0.0.1:9080::rq_total::10`, `${cn}::10.0.0.1:9080::zone::zone-a`, `${cn}::default_priority::max_retries::3`]) {
    assert.ok(cl.split('\n').includes(line), `missing ${line} in\n${cl}`);
  }
  const cj = JSON.parse((await get(a, '/clusters?format=json')).body);
  assert.equal(cj.cluster_statuses[0].host_statuses[0].health_status.failed_outlier_check, true);

  const stats = (await get(a, '/stats')).body;
  assert.match(stats, /^listener_manager\.total_listeners_active: 1$/m);
  assert.match(stats, /^server\.state: 0$/m);
  assert.equal((await get(a, '/stats?filter=^listener_manager\\.listener_added$')).body, 'listener_manager.listener_added: 1\n');
  assert.ok(!(await get(a, '/stats?usedonly')).body.includes(': 0\n'));
  const sj = JSON.parse((await get(a, '/stats?format=json&filter=total_listeners_active')).body);
  assert.deepEqual(sj.stats, [{ name: 'listener_manager.total_listeners_active', value: 1 }]);
  const prom = await get(a, '/stats/prometheus');
  assert.match(prom.body, /^envoy_listener_manager_total_listeners_active 1$/m);
  assert.equal((await get(h.p.statusAddress, '/stats/prometheus')).status, 200);

  const dump = JSON.parse((await get(a, '/config_dump')).body);
  const types = dump.configs.map((c: Record<string, unknown>) => c['@type']);
  assert.deepEqual(types, [
    'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump',
    'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
    'type.googleapis.com/envoy.admin.v3.ListenersConfigDump',
    'type.googleapis.com/envoy.admin.v3.ScopedRoutesConfigDump',
    'type.googleapis.com/envoy.admin.v3.RoutesConfigDump',
    'type.googleapis.com/envoy.admin.v3.SecretsConfigDump',
  ]);
  assert.equal(dump.configs[0].bootstrap.node.id, info.node.id);
  assert.equal(dump.configs[2].dynamic_listeners[0].name, 'l1');
  assert.equal(dump.configs[2].dynamic_listeners[0].active_state.listener.name, 'l1');
  const only = JSON.parse((await get(a, '/config_dump?resource=dynamic_listeners')).body);
  assert.equal(only.configs[0]['@type'], 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump.DynamicListener');
  const eds = JSON.parse((await get(a, '/config_dump?include_eds')).body);
  assert.equal(eds.configs.at(-1)['@type'], 'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump');

  assert.equal((await get(a, '/logging')).body, 'active loggers:\n  all: info\n');
  assert.equal((await get(a, '/logging?level=warn', 'POST')).body, 'active loggers:\n  all: warn\n');
  assert.equal((await get(a, '/logging?level=loud', 'POST')).status, 400);
  await get(a, '/logging?level=info', 'POST');
  assert.match((await get(a, '/')).body, /\/config_dump/);
  assert.equal((await get(a, '/nope')).status, 404);
  assert.equal((await get(a, '/healthz')).status, 200);
  assert.equal((await get(a, '/quitquitquit')).status, 405);
  assert.equal((await get(a, '/drain_listeners')).status, 405);
});

test('admin /drain_listeners?inboundonly drains inbound listeners only; /quitquitquit exits', async () => {
  const h = await start();
  h.source.set([listener({ name: 'in', trafficDirection: 'INBOUND' }), listener({ name: 'out', trafficDirection: 'OUTBOUND' })]);
  h.markReady();
  const ready = await h.nextLine('ready');
  const ports = ready.listeners as Record<string, string>;
  const cin = await dial(Number(ports.in.split(':')[1]));
  const cout = await dial(Number(ports.out.split(':')[1]));
  await cin.line();
  await cout.line();
  assert.equal((await get(h.p.adminAddress, '/drain_listeners?inboundonly', 'POST')).status, 200);
  assert.equal(await cin.line(), 'bye');
  cout.socket.write('alive\n');
  assert.equal(await cout.line(), 'alive');
  assert.equal(h.p.state(), 'LIVE', 'not graceful: the server stays LIVE');

  assert.equal((await get(h.p.adminAddress, '/quitquitquit', 'POST')).status, 200);
  await h.p.done;
  assert.deepEqual(h.exits, [0]);
  await cout.closed();
  assert.equal(h.lines.at(-1)?.event, 'stopped');
});

test('shutdown (SIGTERM): DRAINING fails readiness while handlers drain, then everything closes', async () => {
  const h = await start();
  h.source.set([listener({ name: 'l' })]);
  h.markReady();
  const ready = await h.nextLine('ready');
  const c = await dial(Number((ready.listeners as Record<string, string>).l.split(':')[1]));
  await c.line();
  // Hold the drain until the test has looked at readiness.
  let release: () => void = () => {};
  const held = new Promise<void>((r) => (release = r));
  const handler = h.factory.handlers[0];
  const realDrain = handler.drain.bind(handler);
  handler.drain = async (ms) => {
    await held;
    await realDrain(ms);
  };
  const stopping = h.p.shutdown({ drain: true });
  assert.equal(h.p.state(), 'DRAINING');
  const r = await get(h.p.readinessAddress, '/healthz/ready');
  assert.equal(r.status, 503);
  assert.match(r.body, /draining/);
  assert.equal(JSON.parse((await get(h.p.adminAddress, '/server_info')).body).state, 'DRAINING');
  release();
  assert.equal(await c.line(), 'bye');
  await stopping;
  await assert.rejects(fetch(`http://${h.p.adminAddress}/ready`));
});

test('agent 15020: POST /drain drains inbound gracefully, POST /quitquitquit exits', async () => {
  const h = await start();
  h.source.set([listener({ name: 'in', trafficDirection: 'INBOUND' })]);
  h.markReady();
  await h.nextLine('ready');
  assert.equal((await get(h.p.statusAddress, '/drain')).status, 405);
  assert.equal((await get(h.p.statusAddress, '/drain', 'POST')).status, 200);
  assert.equal(h.p.state(), 'DRAINING');
  assert.equal((await get(h.p.readinessAddress, '/healthz/ready')).status, 503);
  assert.equal((await get(h.p.statusAddress, '/quitquitquit', 'POST')).status, 200);
  await h.p.done;
  assert.deepEqual(h.exits, [0]);
});

test('a busy admin port fails startup with a clear error', async () => {
  const h = await start();
  await assert.rejects(start(options({ 'admin-addr': h.p.adminAddress! })), /cannot bind the admin endpoint on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
});

// Health, admin and logs of a real `isthmus proxy`: readiness 503 until the first full config (control plane started
// after the proxy), 200 after; /config_dump, /clusters, /listeners, /stats content; access logs in Istio's TEXT format
// with response flags, and the JSON format; SIGTERM drains (in-flight request completes, readiness fails, exit 0).
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import type { App } from '../support/apps.js';
import { startApp } from '../support/apps.js';
import { send } from '../support/http-client.js';
import { NAMESPACE, accessLogFilter, dest, envoyFilter, serviceEntry, sidecar, virtualService, workloadEntry } from '../support/istio.js';
import { eventually, freePort } from '../support/net.js';
import { parseAccessLog } from '../support/sidecar.js';
import type { Sidecar } from '../support/sidecar.js';
import { parsePrometheus } from '../../../src/proxy/telemetry/testing.js';
import { Mesh, xdsState } from './harness.js';

const fqdn = (n: string): string => `${n}.${NAMESPACE}.svc.cluster.local`;
let mesh: Mesh;
let client: Sidecar;
let app: App;
let refusedPort: number;

const get = (host: string, path: string, headers: Record<string, string> = {}) => send(`${client.ip}:9080`, { host, path, headers, timeoutMs: 10_000 });

before(async () => {
  const grpcPort = await freePort();
  mesh = await Mesh.start({}, { grpcAddr: `127.0.0.1:${grpcPort}` });
  const [cIp, appIp, deadIp] = [1, 2, 3].map((n) => mesh.ip(n));
  app = await startApp({ name: 'app', ip: appIp });
  refusedPort = await freePort([deadIp]);
  mesh.write('mesh.yaml', [
    serviceEntry({ name: 'svc', host: fqdn('svc'), port: 9080, app: 'svc' }),
    workloadEntry({ name: 'svc-1', address: appIp, port: app.port, labels: { app: 'svc' } }),
    serviceEntry({ name: 'empty', host: fqdn('empty'), port: 9080, app: 'nobody' }),
    serviceEntry({ name: 'dead', host: fqdn('dead'), port: 9080, app: 'dead' }),
    workloadEntry({ name: 'dead-1', address: deadIp, port: refusedPort, labels: { app: 'dead' } }),
    sidecar({ name: 'client', labels: { app: 'client' }, egress: [{ port: 9080, bind: cIp, hosts: ['*/*'] }] }),
    virtualService({ name: 'svc', hosts: ['svc'], http: [{ name: 'ok-route', match: [{ uri: { prefix: '/ok' } }], route: [dest('svc')] }] }),
  ]);
});

after(async () => {
  await mesh?.close();
  await app?.close();
});

describe('readiness and admin', () => {
  it('reports not ready before the first config, ready once the control plane delivered it', async () => {
    client = await mesh.proxy({ name: 'client', ip: mesh.ip(1), labels: { app: 'client' }, waitReady: false });
    const notReady = await fetch(`http://${client.proxy.started.readiness}/healthz/ready`);
    assert.equal(notReady.status, 503);
    assert.match(await notReady.text(), /config not received from XDS server/);
    assert.equal((await fetch(`http://${client.proxy.started.status}/healthz/ready`)).status, 503);
    assert.equal((await fetch(`http://${client.admin}/ready`)).status, 503);
    const info = JSON.parse(await client.adminGet('/server_info')) as { isthmus: { config_ready: boolean } };
    assert.equal(info.isthmus.config_ready, false);
    assert.equal((await xdsState(client)).connected, false);

    await mesh.startDiscovery();
    await client.proxy.event('ready');
    assert.equal((await fetch(`http://${client.proxy.started.readiness}/healthz/ready`)).status, 200);
    assert.equal((await fetch(`http://${client.proxy.started.status}/healthz/ready`)).status, 200);
    assert.equal(await client.adminGet('/ready'), 'LIVE\n');
    assert.equal((await get('svc:9080', '/ok/1')).app, 'app');
  });

  it('shows the applied config and traffic on /config_dump, /clusters, /listeners and /stats', async () => {
    const dump = JSON.parse(await client.configDump()) as { configs: Record<string, unknown>[] };
    const types = dump.configs.map((c) => String(c['@type']).split('.').pop());
    assert.deepEqual(types.slice(0, 2), ['BootstrapConfigDump', 'ClustersConfigDump']);
    const text = JSON.stringify(dump);
    for (const needle of [`${mesh.ip(1)}_9080`, `outbound|9080||${fqdn('svc')}`, 'ok-route', 'PassthroughCluster']) assert.ok(text.includes(needle), `config_dump has ${needle}`);

    const clusters = await client.adminGet('/clusters');
    assert.ok(clusters.includes(`outbound|9080||${fqdn('svc')}::${app.address}::health_flags::healthy`), clusters);
    assert.match(clusters, new RegExp(`outbound\\|9080\\|\\|${fqdn('svc').replace(/\./g, '\\.')}::${app.address.replace(/\./g, '\\.')}::rq_total::[1-9]`));
    const listeners = await client.adminGet('/listeners');
    assert.ok(listeners.includes(`${mesh.ip(1)}_9080::${mesh.ip(1)}:9080`), listeners);

    await get('svc:9080', '/ok/stats');
    const stats = await client.stats();
    assert.ok((stats.get(`cluster.outbound|9080||${fqdn('svc')}.upstream_rq_total`) ?? 0) >= 2);
    assert.ok((stats.get(`cluster.outbound|9080||${fqdn('svc')}.upstream_rq_2xx`) ?? 0) >= 2);
    assert.ok((stats.get(`listener.${mesh.ip(1)}_9080.downstream_cx_total`) ?? 0) >= 2);
    assert.equal(stats.get('server.live'), 1);
  });

  it("exports Prometheus metrics with istio-proxy's labels (Istio's bootstrap stats_tags)", async () => {
    const prom = await client.adminGet('/stats/prometheus');
    const { families, errors } = parsePrometheus(prom);
    assert.deepEqual(errors, [], 'a well-formed exposition: one TYPE line and one group per family');
    const cluster = `outbound|9080||${fqdn('svc')}`;
    // The HCM's `outbound_<ip>_9080` is no address, so Istio's http_conn_manager_prefix leaves it in the name.
    const hcm = `envoy_http_outbound_${mesh.ip(1).replace(/\./g, '_')}_9080`;
    const series = [
      `envoy_cluster_upstream_rq_total{cluster_name="${cluster}"}`,
      `envoy_cluster_upstream_rq{response_code="200",cluster_name="${cluster}"}`,
      `envoy_cluster_upstream_rq{response_code_class="2xx",cluster_name="${cluster}"}`,
      `envoy_cluster_upstream_rq_time_count{cluster_name="${cluster}"}`,
      `envoy_cluster_upstream_rq_time_bucket{cluster_name="${cluster}",le="+Inf"}`,
      `envoy_listener_downstream_cx_total{listener_address="${mesh.ip(1)}_9080"}`,
      `${hcm}_downstream_rq_total`,
      `${hcm}_downstream_rq{response_code_class="2xx"}`,
      'envoy_server_live',
    ];
    const lines = prom.split('\n');
    for (const s of series) {
      const value = Number(lines.find((l) => l.startsWith(s + ' '))?.slice(s.length + 1));
      const near = lines.filter((l) => !l.startsWith('#') && l.startsWith(s.split('{')[0])).slice(0, 5);
      assert.ok(value > 0, `${s} > 0; got ${value}; near: ${near.join(' | ')}`);
    }
    assert.equal(families.get('envoy_cluster_upstream_rq_time')?.type, 'histogram');
    const labels = new Set([...families.values()].flatMap((f) => f.samples.flatMap((x) => Object.keys(x.labels))));
    assert.deepEqual([...labels].filter((l) => l.startsWith('envoy_')), [], "none of Envoy's default tags");
    // Istio's port 15020 serves the same exposition.
    const merged = await (await fetch(`http://${client.proxy.started.status}/stats/prometheus`)).text();
    assert.deepEqual(parsePrometheus(merged).errors, []);
    assert.match(merged, new RegExp(`^${series[1].replace(/[.|{}+]/g, '\\$&')} [1-9]`, 'm'));
  });
});

describe('access logs', () => {
  it('writes Istio\'s default TEXT format with response flags', async () => {
    mesh.write('access-log.yaml', [accessLogFilter()]);
    await client.waitForConfig('/dev/stdout');
    const from = client.accessLines.length;
    await get('svc:9080', '/ok/logged', { 'user-agent': 'lifecycle-test' });
    const ok = parseAccessLog(await client.waitForLog(/"GET \/ok\/logged /, from));
    assert.ok(ok, 'parses as Istio\'s default format');
    assert.deepEqual({ status: ok.status, flags: ok.flags, authority: ok.authority, cluster: ok.upstreamCluster, route: ok.routeName, upstream: ok.upstreamHost }, { status: 200, flags: '-', authority: 'svc:9080', cluster: `outbound|9080||${fqdn('svc')}`, route: 'ok-route', upstream: app.address });
    assert.match(await client.waitForLog(/"GET \/ok\/logged /, from), /"lifecycle-test" "[0-9a-f-]{36}"/);

    const cases: [string, string, number, RegExp][] = [
      ['svc:9080', '/not-routed', 404, /^NR$/],
      ['empty:9080', '/', 503, /^UH$/],
      ['dead:9080', '/', 503, /UF/],
    ];
    for (const [host, path, status, flags] of cases) {
      assert.equal((await get(host, path)).status, status, `${host}${path}`);
      const line = parseAccessLog(await client.waitForLog(new RegExp(`"GET ${path.replace(/\//g, '\\/')} .*"${host}"`), from));
      assert.ok(line, 'parses');
      assert.equal(line.status, status);
      assert.match(line.flags, flags, `${host}${path}: ${line.flags}`);
    }
  });

  it('writes JSON lines with typed values when the format is a JSON map', async () => {
    mesh.write('access-log.yaml', [
      envoyFilter({
        name: 'access-log',
        configPatches: [
          {
            applyTo: 'NETWORK_FILTER',
            match: { context: 'ANY', listener: { filterChain: { filter: { name: 'envoy.filters.network.http_connection_manager' } } } },
            patch: {
              operation: 'MERGE',
              value: {
                typed_config: {
                  '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                  access_log: [
                    {
                      name: 'envoy.access_loggers.file',
                      typed_config: {
                        '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
                        path: '/dev/stdout',
                        log_format: { json_format: { method: '%REQ(:METHOD)%', path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%', code: '%RESPONSE_CODE%', flags: '%RESPONSE_FLAGS%', cluster: '%UPSTREAM_CLUSTER%', duration: '%DURATION%' } },
                      },
                    },
                  ],
                },
              },
            },
          },
        ],
      }),
    ]);
    await client.waitForConfig('%RESPONSE_FLAGS%');
    const lines = mesh.stdoutLines(client);
    const from = lines.length;
    await get('svc:9080', '/ok/json');
    await get('empty:9080', '/json-uh');
    const parsed = await eventually(() => {
      const js = lines.slice(from).filter((l) => l.startsWith('{') && l.includes('"code"')).map((l) => JSON.parse(l) as Record<string, unknown>);
      return js.length >= 2 ? js : undefined;
    }, { timeoutMs: 5_000, message: () => lines.slice(from).join('\n') });
    const ok = parsed.find((j) => j.path === '/ok/json');
    assert.ok(ok);
    assert.equal(ok.code, 200);
    assert.equal(ok.method, 'GET');
    assert.equal(ok.cluster, `outbound|9080||${fqdn('svc')}`);
    assert.equal(typeof ok.duration, 'number');
    const uh = parsed.find((j) => j.path === '/json-uh');
    assert.deepEqual([uh?.code, uh?.flags], [503, 'UH']);
  });

  it('renders "no response flags" as "-" in JSON too, as Envoy does', async () => {
    const lines = mesh.stdoutLines(client);
    const from = lines.length;
    await get('svc:9080', '/ok/json-flags');
    const line = await eventually(() => lines.slice(from).find((l) => l.includes('/ok/json-flags')), { timeoutMs: 5_000 });
    assert.equal((JSON.parse(line) as Record<string, unknown>).flags, '-');
  });
});

describe('SIGTERM', () => {
  it('drains: readiness fails, the listener stops accepting, the in-flight request completes, exit 0 within the drain duration', async () => {
    const inflight = get('svc:9080', '/ok/slow', { 'x-echo-delay-ms': '700' });
    await app.waitForRequest((r) => r.url === '/ok/slow');
    const t0 = Date.now();
    client.proxy.child.kill('SIGTERM');
    // The signal is handled asynchronously: poll until readiness reports the drain.
    const why = await eventually(async () => {
      const r = await fetch(`http://${client.proxy.started.readiness}/healthz/ready`);
      return r.status === 503 ? await r.text() : undefined;
    }, { timeoutMs: 5_000, intervalMs: 10 });
    assert.match(why, /draining/);
    const refused = connect({ host: client.ip, port: 9080 });
    const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    assert.equal(err.code, 'ECONNREFUSED');
    const reply = await inflight;
    assert.equal(reply.status, 200);
    assert.equal(reply.app, 'app');
    assert.equal(await client.proxy.exited(), 0);
    const took = Date.now() - t0;
    assert.ok(took <= 2_000 + 2_500, `exited ${took} ms after SIGTERM (drain duration 2 s)`);
    await client.proxy.event('stopped');
  });
});

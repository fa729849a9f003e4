// The proxy and its control plane over time: config changes under steady load without a failed request, the
// control plane killed while traffic continues (last good config keeps serving, admin shows the disconnect) and
// restarted on the same address (reconnect, pick up a change made while it was down), and a NACKed resource that
// leaves the previous config serving with the NACK visible on both sides.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { App } from '../support/apps.js';
import { startApp } from '../support/apps.js';
import type { Reply } from '../support/http-client.js';
import { keepAliveAgent, send } from '../support/http-client.js';
import { NAMESPACE, dest, destinationRule, envoyFilter, serviceEntry, sidecar, virtualService, workloadEntry } from '../support/istio.js';
import type { Doc } from '../support/istio.js';
import { eventually } from '../support/net.js';
import type { Sidecar } from '../support/sidecar.js';
import { Mesh, xdsState } from './harness.js';

const HOST = `svc.${NAMESPACE}.svc.cluster.local`;
/** A service deleted while the control plane is down. */
const EXTRA = `extra.${NAMESPACE}.svc.cluster.local`;
let mesh: Mesh;
let client: Sidecar;
/** A second client on Delta xDS (--xds-delta). */
let deltaClient: Sidecar;
const apps: App[] = [];

const vsTo = (subset: string): Doc[] => [virtualService({ name: 'svc', hosts: ['svc'], http: [{ route: [dest('svc', { subset })] }] })];
const drDocs = (lb: string): Doc[] => [
  destinationRule({ name: 'svc', host: HOST, trafficPolicy: { loadBalancer: { simple: lb } }, subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] }),
];

/** An EnvoyFilter changing the client's outbound HCM (server_name): a listener update without a routing change. */
function serverNameFilter(name: string): Doc[] {
  return [
    envoyFilter({
      name: 'server-name',
      workloadLabels: { app: 'client' },
      configPatches: [
        {
          applyTo: 'NETWORK_FILTER',
          match: { context: 'SIDECAR_OUTBOUND', listener: { filterChain: { filter: { name: 'envoy.filters.network.http_connection_manager' } } } },
          patch: { operation: 'MERGE', value: { typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', server_name: name } } },
        },
      ],
    }),
  ];
}

function get(path = '/', agent?: ReturnType<typeof keepAliveAgent>, via: Sidecar = client): Promise<Reply> {
  return send(`${via.ip}:9080`, { host: 'svc:9080', path, timeoutMs: 5_000, ...(agent ? { agent } : {}) });
}

/** Until `n` consecutive requests are served by `app` (config applied); bounded by the deadline. */
async function waitServedBy(app: string, n = 3, timeoutMs = 15_000, via: Sidecar = client): Promise<void> {
  let streak = 0;
  await eventually(async () => {
    const r = await get('/probe', undefined, via);
    streak = r.app === app ? streak + 1 : 0;
    return streak >= n;
  }, { timeoutMs, intervalMs: 20, message: () => via.logs() });
}

before(async () => {
  mesh = await Mesh.start({});
  const [cIp, v1Ip, v2Ip] = [1, 2, 3].map((n) => mesh.ip(n));
  apps.push(await startApp({ name: 'v1', ip: v1Ip }), await startApp({ name: 'v2', ip: v2Ip }));
  mesh.write('svc.yaml', [
    serviceEntry({ name: 'svc', host: HOST, port: 9080, app: 'svc' }),
    workloadEntry({ name: 'svc-v1', address: v1Ip, port: apps[0].port, labels: { app: 'svc', version: 'v1' } }),
    workloadEntry({ name: 'svc-v2', address: v2Ip, port: apps[1].port, labels: { app: 'svc', version: 'v2' } }),
    sidecar({ name: 'client', labels: { app: 'client' }, egress: [{ port: 9080, bind: cIp, hosts: ['*/*'] }] }),
    sidecar({ name: 'client-delta', labels: { app: 'client-delta' }, egress: [{ port: 9080, bind: mesh.ip(4), hosts: ['*/*'] }] }),
  ]);
  mesh.write('extra.yaml', [serviceEntry({ name: 'extra', host: EXTRA, port: 9080, app: 'extra' })]);
  mesh.write('dr.yaml', drDocs('ROUND_ROBIN'));
  mesh.write('vs.yaml', vsTo('v1'));
  [client, deltaClient] = await Promise.all([
    mesh.proxy({ name: 'client', ip: cIp, labels: { app: 'client' } }),
    mesh.proxy({ name: 'client-delta', ip: mesh.ip(4), labels: { app: 'client-delta' }, args: ['--xds-delta'] }),
  ]);
  await waitServedBy('v1');
});

after(async () => {
  await mesh?.close();
  for (const a of apps) await a.close();
});

describe('control plane lifecycle', () => {
  it('applies route and cluster changes under steady load with zero failed requests', async (t) => {
    const CONCURRENCY = 8;
    const MAX_REQUESTS = 20_000;
    const deadline = Date.now() + 25_000;
    const agent = keepAliveAgent(CONCURRENCY);
    const served = new Map<string, number>();
    const failures: string[] = [];
    let total = 0;
    let stop = false;
    const worker = async (fresh: boolean): Promise<void> => {
      while (!stop && total < MAX_REQUESTS && Date.now() < deadline) {
        total++;
        try {
          const r = await get('/load', fresh ? undefined : agent);
          if (r.status < 200 || r.status > 299) failures.push(`${r.status} ${r.body.slice(0, 200)}`);
          else served.set(r.app ?? '-', (served.get(r.app ?? '-') ?? 0) + 1);
        } catch (e) {
          failures.push(e instanceof Error ? e.message : String(e));
        }
      }
    };
    // Keep-alive connections (the swap must reach connections already open) and one fresh connection per request.
    const load = Promise.all([...Array.from({ length: CONCURRENCY - 1 }, () => worker(false)), worker(true)]);
    try {
      const changes: [string, Doc[], string][] = [
        ['vs.yaml', vsTo('v2'), 'v2'],
        ['vs.yaml', vsTo('v1'), 'v1'],
        ['dr.yaml', drDocs('LEAST_REQUEST'), 'v1'], // clusters change (CDS), routes stay
        ['vs.yaml', vsTo('v2'), 'v2'],
        ['vs.yaml', vsTo('v1'), 'v1'],
      ];
      for (const [file, docs, expect] of changes) {
        const before = served.get(expect) ?? 0;
        mesh.write(file, docs);
        if (file === 'dr.yaml') await client.waitForConfig('LEAST_REQUEST');
        // The load itself shows the change: the expected subset serves again (or keeps serving) for a while.
        await eventually(() => (served.get(expect) ?? 0) > before + 50 || total >= MAX_REQUESTS, { timeoutMs: 15_000, message: () => client.logs() });
        if (file === 'vs.yaml') await waitServedBy(expect);
      }
    } finally {
      stop = true;
      await load;
      agent.destroy();
    }
    t.diagnostic(`${total} requests, served ${JSON.stringify(Object.fromEntries(served))}, ${failures.length} failed`);
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${total} requests failed`);
    assert.ok((served.get('v1') ?? 0) > 0 && (served.get('v2') ?? 0) > 0, `both subsets served: ${JSON.stringify([...served])}`);
    assert.ok(total < MAX_REQUESTS, 'the flips completed before the request bound');
  });

  it('keeps idle keep-alive connections of a changed listener open while draining: the next response says connection: close', async () => {
    const s = connect({ host: client.ip, port: 9080 });
    try {
      await once(s, 'connect');
      let got = '';
      let ended = false;
      s.setEncoding('latin1');
      s.on('data', (d: string) => (got += d));
      s.on('end', () => (ended = true));
      const req = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: svc:9080\r\n\r\n`;
      s.write(req('/first'));
      await eventually(() => /\r\n\r\n\{.*\}$/s.test(got), { timeoutMs: 5_000 });
      got = '';
      mesh.write('ef-load.yaml', serverNameFilter('changed-listener'));
      await client.waitForConfig('changed-listener');
      assert.equal(ended, false, 'the proxy closed an idle keep-alive connection as soon as the listener changed');
      s.write(req('/second'));
      await eventually(() => /\r\n\r\n\{.*\}$/s.test(got) || ended, { timeoutMs: 5_000 });
      assert.match(got, /^HTTP\/1\.1 200 /);
      assert.match(got, /\r\nconnection: close\r\n/i);
    } finally {
      s.destroy();
      mesh.rm('ef-load.yaml');
      await eventually(async () => !(await client.configDump()).includes('changed-listener'), { timeoutMs: 15_000 });
    }
  });

  it('keeps serving when the control plane dies, shows it disconnected, and reconnects to pick up changes', async () => {
    await waitServedBy('v1');
    await waitServedBy('v1', 3, 15_000, deltaClient);
    assert.equal((await xdsState(client)).connected, true);
    assert.equal((await xdsState(deltaClient)).connected, true);
    // A keep-alive connection held across the outage: nothing about the listener changes, so nothing may drain it.
    const held = connect({ host: client.ip, port: 9080 });
    let heldClosed = false;
    held.on('close', () => (heldClosed = true));
    await once(held, 'connect');
    const modifiedBefore = await client.stat('listener_manager.listener_modified');
    await mesh.discovery.stop();
    await eventually(async () => (await xdsState(client)).connected === false && (await xdsState(deltaClient)).connected === false, { timeoutMs: 10_000 });
    const st = await xdsState(client);
    assert.ok(st.lastError, `admin shows the last xDS error: ${JSON.stringify(st)}`);
    // Traffic continues with the last good config.
    for (let i = 0; i < 20; i++) {
      const r = await get('/while-down', undefined, i % 2 ? client : deltaClient);
      assert.equal(r.status, 200);
      assert.equal(r.app, 'v1');
    }
    // Changes made while the control plane is down (a route change, a service deleted)...
    mesh.write('vs.yaml', vsTo('v2'));
    mesh.rm('extra.yaml');
    assert.ok((await deltaClient.adminGet('/clusters')).includes(`outbound|9080||${EXTRA}`));
    const reconnectsBefore = st.reconnects ?? 0;
    await mesh.restartDiscovery();
    // ...reaches the proxy once it reconnects (jittered backoff, same address).
    await eventually(async () => (await xdsState(client)).connected, { timeoutMs: 20_000, message: () => client.logs() });
    assert.ok(((await xdsState(client)).reconnects ?? 0) > reconnectsBefore);
    await waitServedBy('v2', 3, 15_000);
    await waitServedBy('v2', 3, 15_000, deltaClient);
    assert.equal((await xdsState(deltaClient)).connected, true);
    for (const c of [client, deltaClient]) {
      await eventually(async () => !(await c.adminGet('/clusters')).includes(`outbound|9080||${EXTRA}`), { timeoutMs: 10_000, message: () => `${c.name} still has the deleted service's cluster` });
    }
    // The restarted control plane sent the same listeners again: no listener update, the held connection still works.
    assert.equal(await client.stat('listener_manager.listener_modified'), modifiedBefore);
    assert.equal(heldClosed, false, 'a connection was closed by the reconnect');
    let got = '';
    held.setEncoding('latin1');
    held.on('data', (d: string) => (got += d));
    held.write('GET /held HTTP/1.1\r\nHost: svc:9080\r\nConnection: close\r\n\r\n');
    await once(held, 'end');
    assert.match(got, /^HTTP\/1\.1 200 /);
    assert.match(got, /"app":"v2"/);
    held.destroy();
  });

  it('NACKs a listener it cannot honour, keeps serving the previous one, and shows the NACK on both sides', async () => {
    await waitServedBy('v2');
    // A fault filter aborting every request with 418, next to an HTTP filter the proxy does not support (non-optional):
    // the whole LDS update is refused, so the fault filter never takes effect.
    const fault = {
      applyTo: 'HTTP_FILTER',
      match: { context: 'SIDECAR_OUTBOUND', listener: { filterChain: { filter: { name: 'envoy.filters.network.http_connection_manager', subFilter: { name: 'envoy.filters.http.router' } } } } },
      patch: {
        operation: 'INSERT_BEFORE',
        value: {
          name: 'teapot',
          typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault', abort: { http_status: 418, percentage: { numerator: 100, denominator: 'HUNDRED' } } },
        },
      },
    };
    const unsupported = {
      applyTo: 'HTTP_FILTER',
      match: fault.match,
      patch: { operation: 'INSERT_BEFORE', value: { name: 'envoy.filters.http.rbac', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC' } } },
    };
    mesh.write('ef.yaml', [envoyFilter({ name: 'bad', workloadLabels: { app: 'client' }, configPatches: [fault, unsupported] })]);
    const nack = await eventually(async () => (await mesh.syncz('client'))?.types.lds?.nack, { timeoutMs: 15_000, message: () => JSON.stringify(mesh.discovery.logs()) });
    assert.match(nack.message, /unsupported HTTP filter type envoy\.extensions\.filters\.http\.rbac\.v3\.RBAC/);
    assert.match(nack.message, /^listener 127\.\d+\.\d+\.1_9080: filter_chains\[0\]\.filters\[0\]\.typed_config\.http_filters\[\d\]/m, 'names the resource and the field path');
    const st = await xdsState(client);
    assert.match(st.types?.lds?.lastNack?.detail ?? '', /rbac/, `proxy admin shows the NACK: ${JSON.stringify(st.types)}`);
    assert.equal((await mesh.syncz('client'))?.types.lds?.status, 'STALE', 'discovery: sent but not acked');
    for (let i = 0; i < 10; i++) {
      const r = await get('/after-nack');
      assert.equal(r.status, 200, 'the previous listener keeps serving (no 418)');
    }
    // Control: the fault filter alone is accepted and takes effect, so the NACK is what kept it out.
    mesh.write('ef.yaml', [envoyFilter({ name: 'bad', workloadLabels: { app: 'client' }, configPatches: [fault] })]);
    await eventually(async () => (await get('/teapot')).status === 418, { timeoutMs: 15_000, message: () => client.logs() });
    await eventually(async () => (await mesh.syncz('client'))?.types.lds?.status === 'SYNCED', { timeoutMs: 10_000 });
    mesh.rm('ef.yaml');
    await eventually(async () => (await get('/teapot-gone')).status === 200, { timeoutMs: 15_000 });
  });
});

// ServiceRegistry: services and endpoints from ServiceEntry/WorkloadEntry, change events, auto-registration lifecycle.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDocuments } from '../../api/load.js';
import { configureLogging } from '../../shared/log.js';
import { ConfigStore } from '../configstore/store.js';
import { FakeClock } from '../model/clock.js';
import { testProxy } from '../model/testing.js';
import { ServiceRegistry } from './registry.js';
import type { RegistryEvent } from './registry.js';

configureLogging({ level: 'none' });

function apply(store: ConfigStore, file: string, text: string): void {
  const r = parseDocuments(text, file);
  assert.deepEqual(r.errors, []);
  store.applySource(file, { configs: r.configs });
}

const SE = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: reviews, namespace: default, labels: {team: a}}
spec:
  hosts: [reviews, reviews.example.com]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - {number: 9080, name: http, protocol: HTTP}
  - {number: 9443, name: tls-x, protocol: TLS, targetPort: 8443}
  endpoints:
  - {address: 127.0.0.2, labels: {version: v1}, locality: us/east, weight: 3, network: n1}
  - {address: 127.0.0.3, labels: {version: v2}, ports: {http: 9081}, serviceAccount: sa2}
`;

const SELECTOR_SE = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ratings, namespace: default}
spec:
  hosts: [ratings.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 9080, name: grpc-api}]
  workloadSelector: {labels: {app: ratings}}
`;

const we = (name: string, address: string, labels: string, ns = 'default'): string => `
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: ${name}, namespace: ${ns}}
spec:
  address: ${address}
  labels: ${labels}
  ports: {grpc-api: 7070}
  serviceAccount: ratings
`;

function setup(graceMs = 1000): { store: ConfigStore; reg: ServiceRegistry; events: RegistryEvent[]; clock: FakeClock } {
  const store = new ConfigStore();
  const clock = new FakeClock();
  const reg = new ServiceRegistry({ store, domainSuffix: 'cluster.local', autoRegistrationGraceMs: graceMs, timers: clock, now: () => new Date(clock.now()) });
  const events: RegistryEvent[] = [];
  reg.subscribe((e) => events.push(e));
  return { store, reg, events, clock };
}

void describe('ServiceRegistry', () => {
  void it('builds services from ServiceEntry hosts, expanded, with ports and protocols', () => {
    const { store, reg } = setup();
    apply(store, 'se.yaml', SE);
    const s = reg.snapshot().services;
    assert.deepEqual(
      s.map((x) => x.hostname),
      ['reviews.default.svc.cluster.local', 'reviews.example.com'],
    );
    const svc = s[0];
    assert.equal(svc.namespace, 'default');
    assert.equal(svc.resolution, 'STATIC');
    assert.equal(svc.location, 'MESH_INTERNAL');
    assert.deepEqual(svc.ports, [
      { name: 'http', port: 9080, protocol: 'HTTP' },
      { name: 'tls-x', port: 9443, protocol: 'TLS', targetPort: 8443 },
    ]);
    assert.deepEqual([...svc.exportTo], ['*']);
    assert.deepEqual(svc.labels, { team: 'a' });
    assert.equal(svc.source, 'ServiceEntry/default/reviews');
  });

  void it('turns inline endpoints into one endpoint per service port, with named ports and targetPort', () => {
    const { store, reg } = setup();
    apply(store, 'se.yaml', SE);
    const snap = reg.snapshot();
    const eps = snap.endpoints(snap.services[0]);
    assert.deepEqual(
      eps.map((e) => `${e.address}:${e.port}/${e.servicePortName}`),
      ['127.0.0.2:9080/http', '127.0.0.2:8443/tls-x', '127.0.0.3:9081/http', '127.0.0.3:8443/tls-x'],
    );
    const e0 = eps[0];
    assert.deepEqual(
      { labels: e0.labels, sa: e0.serviceAccount, loc: e0.locality, w: e0.weight, net: e0.network, ns: e0.namespace },
      { labels: { version: 'v1' }, sa: 'default', loc: 'us/east', w: 3, net: 'n1', ns: 'default' },
    );
    assert.equal(eps[2]?.serviceAccount, 'sa2');
    assert.equal(eps[2]?.weight, 1);
  });

  void it('keeps DNS endpoints that are hostnames, and resolves DNS hosts themselves when there are no endpoints', () => {
    const { store, reg } = setup();
    apply(
      store,
      'dns.yaml',
      `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext}
spec:
  hosts: [api.example.com]
  resolution: DNS
  ports: [{number: 443, name: https, protocol: HTTPS}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext2}
spec:
  hosts: [db.example.com]
  resolution: DNS
  ports: [{number: 5432, name: tcp}]
  endpoints: [{address: db1.internal}, {address: db2.internal}]
`,
    );
    const snap = reg.snapshot();
    const [api, db] = snap.services;
    assert.deepEqual(
      snap.endpoints(api).map((e) => `${e.address}:${e.port}`),
      ['api.example.com:443'],
    );
    assert.equal(api.location, 'MESH_EXTERNAL');
    assert.deepEqual(
      snap.endpoints(db).map((e) => `${e.address}:${e.port}`),
      ['db1.internal:5432', 'db2.internal:5432'],
    );
  });

  void it('selects WorkloadEntries in the same namespace by workloadSelector', () => {
    const { store, reg } = setup();
    apply(store, 'se.yaml', SELECTOR_SE);
    apply(store, 'we.yaml', we('r1', '10.0.0.1', '{app: ratings, version: v1}') + '---' + we('r2', '10.0.0.2', '{app: other}') + '---' + we('r3', '10.0.0.3', '{app: ratings}', 'other-ns'));
    const snap = reg.snapshot();
    const eps = snap.endpoints(snap.services[0]);
    assert.deepEqual(
      eps.map((e) => `${e.workloadName}@${e.address}:${e.port}`),
      ['r1@10.0.0.1:7070'],
    );
    assert.equal(eps[0]?.serviceAccount, 'ratings');
    assert.equal(snap.services[0]?.ports[0]?.protocol, 'GRPC');
  });

  void it('moves a workload between services when its labels change', () => {
    const { store, reg, events } = setup();
    apply(store, 'se.yaml', SELECTOR_SE + '---' + SELECTOR_SE.replace(/ratings/g, 'other'));
    apply(store, 'we.yaml', we('w', '10.0.0.1', '{app: ratings, v: "1"}'));
    const eps = (host: string): string[] => {
      const snap = reg.snapshot();
      const svc = snap.services.find((x) => x.hostname === host);
      return svc ? snap.endpoints(svc).map((e) => e.workloadName) : [];
    };
    assert.deepEqual(eps('ratings.default.svc.cluster.local'), ['w']);
    assert.deepEqual(eps('other.default.svc.cluster.local'), []);
    events.length = 0;
    apply(store, 'we.yaml', we('w', '10.0.0.1', '{app: other}'));
    assert.deepEqual([...events[0].servicesUpdated].sort(), ['other.default.svc.cluster.local', 'ratings.default.svc.cluster.local']);
    assert.deepEqual(eps('ratings.default.svc.cluster.local'), []);
    assert.deepEqual(eps('other.default.svc.cluster.local'), ['w']);
    store.removeSource('we.yaml');
    assert.deepEqual(eps('other.default.svc.cluster.local'), []);
  });

  void it('reports endpoint-only changes as EDS and service changes as full', () => {
    const { store, reg, events } = setup();
    apply(store, 'se.yaml', SELECTOR_SE);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.full, true);
    events.length = 0;
    apply(store, 'we.yaml', we('r1', '10.0.0.1', '{app: ratings}'));
    assert.equal(events.length, 1);
    assert.equal(events[0]?.full, false);
    assert.deepEqual([...events[0].servicesUpdated], ['ratings.default.svc.cluster.local']);
    assert.deepEqual([...events[0].configsUpdated], ['WorkloadEntry/default/r1']);
    assert.equal(reg.snapshot().endpoints(reg.snapshot().services[0]).length, 1);
    events.length = 0;
    // Inline endpoint changes are EDS-only too.
    apply(store, 'se2.yaml', SE);
    events.length = 0;
    apply(store, 'se2.yaml', SE.replace('127.0.0.3', '127.0.0.4'));
    assert.equal(events.length, 1);
    assert.equal(events[0]?.full, false);
    assert.deepEqual([...events[0].servicesUpdated].sort(), ['reviews.default.svc.cluster.local', 'reviews.example.com']);
    events.length = 0;
    apply(store, 'se2.yaml', SE.replace('9080', '9090'));
    assert.equal(events[0]?.full, true);
    store.removeSource('se2.yaml');
    assert.equal(events.at(-1)?.full, true);
    assert.deepEqual(
      reg.snapshot().services.map((s) => s.hostname),
      ['ratings.default.svc.cluster.local'],
    );
  });

  void it('auto-registers a proxy from its WorkloadGroup, keeps the entry for the grace period, then removes it', () => {
    const { store, reg, events, clock } = setup(1000);
    apply(
      store,
      'wg.yaml',
      SELECTOR_SE +
        `---
apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: {name: ratings, namespace: default}
spec:
  metadata: {labels: {app: ratings}, annotations: {owner: me}}
  template: {ports: {grpc-api: 7070}, serviceAccount: ratings-sa, labels: {tier: backend}}
`,
    );
    events.length = 0;
    const proxy = testProxy({ ip: '127.0.0.9', labels: { version: 'v3' }, metadata: { WORKLOAD_GROUP: 'ratings' } });
    const entry = reg.autoRegister(proxy);
    assert.ok(entry);
    assert.equal(entry.meta.name, 'ratings-127.0.0.9');
    assert.equal(entry.meta.namespace, 'default');
    assert.deepEqual(entry.meta.labels, { app: 'ratings', version: 'v3' });
    assert.equal(entry.meta.annotations['istio.io/autoRegistrationGroup'], 'ratings');
    assert.equal(entry.meta.annotations.owner, 'me');
    assert.deepEqual(entry.spec, { address: '127.0.0.9', ports: { 'grpc-api': 7070 }, serviceAccount: 'ratings-sa', labels: { tier: 'backend', version: 'v3' } });
    assert.equal(events.length, 1);
    assert.equal(events[0]?.full, false);
    assert.equal(events[0]?.reason, 'autoregistration');
    let snap = reg.snapshot();
    const eps = snap.endpoints(snap.services[0]);
    assert.deepEqual(
      eps.map((e) => `${e.address}:${e.port} ${e.serviceAccount} ${e.labels.version}`),
      ['127.0.0.9:7070 ratings-sa v3'],
    );
    assert.equal(snap.autoRegisteredKey(proxy.id), 'WorkloadEntry/default/ratings-127.0.0.9');
    assert.equal(snap.autoRegistered.length, 1);

    // Disconnect: still there during the grace period; a reconnect cancels the removal.
    reg.disconnect(proxy);
    clock.advance(999);
    assert.equal(reg.snapshot().autoRegistered.length, 1);
    reg.autoRegister(proxy);
    clock.advance(5000);
    assert.equal(reg.snapshot().autoRegistered.length, 1);

    // Two connections of the same workload: the entry lives until both are gone (plus grace).
    const second = { ...proxy, id: `${proxy.id}-2` };
    reg.autoRegister(second);
    reg.disconnect(proxy);
    clock.advance(5000);
    assert.equal(reg.snapshot().autoRegistered.length, 1);
    events.length = 0;
    reg.disconnect(second);
    clock.advance(1000);
    snap = reg.snapshot();
    assert.equal(snap.autoRegistered.length, 0);
    assert.equal(snap.endpoints(snap.services[0]).length, 0);
    assert.equal(events.length, 1);
    assert.deepEqual([...events[0].servicesUpdated], ['ratings.default.svc.cluster.local']);
    reg.close();
  });

  void it('does not auto-register without a group, for an unknown group, or over a file-defined entry', () => {
    const { store, reg } = setup();
    assert.equal(reg.autoRegister(testProxy({ ip: '10.0.0.1' })), undefined);
    assert.equal(reg.autoRegister(testProxy({ ip: '10.0.0.1', metadata: { WORKLOAD_GROUP: 'nope' } })), undefined);
    apply(
      store,
      'wg.yaml',
      `
apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: {name: g}
spec:
  template: {}
---
${we('g-10.0.0.1', '10.0.0.1', '{a: b}')}`,
    );
    assert.equal(reg.autoRegister(testProxy({ ip: '10.0.0.1', metadata: { WORKLOAD_GROUP: 'g' } })), undefined);
    assert.equal(reg.autoRegister(testProxy({ ip: '10.0.0.2', metadata: { WORKLOAD_GROUP: 'g', NETWORK: 'n1' } }))?.meta.name, 'g-10.0.0.2-n1');
  });

  void it('deletes an auto-registered entry at once with a zero grace period', () => {
    const { store, reg } = setup(0);
    apply(store, 'wg.yaml', `apiVersion: networking.istio.io/v1\nkind: WorkloadGroup\nmetadata: {name: g}\nspec:\n  template: {}\n`);
    const p = testProxy({ ip: '10.0.0.7', metadata: { WORKLOAD_GROUP: 'g' } });
    reg.autoRegister(p);
    assert.equal(reg.snapshot().autoRegistered.length, 1);
    reg.disconnect(p);
    assert.equal(reg.snapshot().autoRegistered.length, 0);
  });
});

// ConfigStore: per-source replace semantics, rejection of invalid resources, duplicates across sources, events.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDocuments } from '../../api/load.js';
import { configureLogging } from '../../shared/log.js';
import { ConfigStore } from './store.js';
import type { ConfigEvent, Rejection } from './store.js';

configureLogging({ level: 'none' });

const vs = (name: string, host: string, ns = 'default'): string => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: ${ns}}
spec:
  hosts: [${host}]
  http:
  - route:
    - destination: {host: ${host}}
`;

const badVs = (name: string): string => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: default}
spec:
  hosts: [x]
  bogus: 1
`;

function apply(store: ConfigStore, file: string, text: string): ConfigEvent[] {
  const r = parseDocuments(text, file);
  return store.applySource(file, { configs: r.configs, rejected: r.rejected, errors: r.errors });
}

function setup(): { store: ConfigStore; events: ConfigEvent[]; rejected: Rejection[] } {
  const rejected: Rejection[] = [];
  const store = new ConfigStore({ onRejected: (r) => rejected.push(r) });
  const events: ConfigEvent[] = [];
  store.subscribe((e) => events.push(e));
  return { store, events, rejected };
}

void describe('ConfigStore', () => {
  void it('adds, updates and deletes by replacing a source set', () => {
    const { store, events } = setup();
    apply(store, 'a.yaml', vs('r1', 'reviews') + '---' + vs('r2', 'ratings'));
    assert.deepEqual(
      events.map((e) => [e.type, e.key]),
      [
        ['add', 'VirtualService/default/r1'],
        ['add', 'VirtualService/default/r2'],
      ],
    );
    events.length = 0;
    apply(store, 'a.yaml', vs('r1', 'reviews2'));
    assert.deepEqual(
      events.map((e) => [e.type, e.key]),
      [
        ['update', 'VirtualService/default/r1'],
        ['delete', 'VirtualService/default/r2'],
      ],
    );
    assert.equal(store.list('VirtualService').length, 1);
    assert.deepEqual((store.get('VirtualService/default/r1')?.spec as { hosts: string[] }).hosts, ['reviews2']);
    events.length = 0;
    apply(store, 'a.yaml', vs('r1', 'reviews2'));
    assert.equal(events.length, 0, 'same content: no event');
    store.removeSource('a.yaml');
    assert.deepEqual(
      events.map((e) => [e.type, e.key]),
      [['delete', 'VirtualService/default/r1']],
    );
    assert.equal(store.all().length, 0);
  });

  void it('lists sorted by namespace then name', () => {
    const { store } = setup();
    apply(store, 'a.yaml', vs('b', 'x', 'ns2') + '---' + vs('z', 'x', 'ns1') + '---' + vs('a', 'x', 'ns2'));
    assert.deepEqual(
      store.list('VirtualService').map((c) => `${c.meta.namespace}/${c.meta.name}`),
      ['ns1/z', 'ns2/a', 'ns2/b'],
    );
    assert.deepEqual(store.list('DestinationRule'), []);
  });

  void it('rejects an invalid resource alone and keeps its last valid version', () => {
    const { store, events, rejected } = setup();
    apply(store, 'a.yaml', vs('r1', 'reviews') + '---' + vs('r2', 'ratings'));
    events.length = 0;
    apply(store, 'a.yaml', badVs('r1') + '---' + vs('r2', 'ratings-new'));
    assert.deepEqual(
      events.map((e) => [e.type, e.key]),
      [['update', 'VirtualService/default/r2']],
    );
    assert.deepEqual((store.get('VirtualService/default/r1')?.spec as { hosts: string[] }).hosts, ['reviews']);
    assert.equal(rejected.length, 1);
    assert.equal(rejected[0]?.key, 'VirtualService/default/r1');
    assert.equal(rejected[0]?.keptPrevious, true);
    assert.match(rejected[0]?.errors.join('\n') ?? '', /spec\.bogus: unknown field/);
    // A new invalid resource is simply absent.
    apply(store, 'b.yaml', badVs('r3'));
    assert.equal(store.get('VirtualService/default/r3'), undefined);
    assert.equal(rejected.at(-1)?.keptPrevious, false);
  });

  void it('keeps everything a file held when part of it cannot be parsed', () => {
    const { store, events, rejected } = setup();
    apply(store, 'a.yaml', vs('r1', 'reviews') + '---' + vs('r2', 'ratings'));
    events.length = 0;
    apply(store, 'a.yaml', vs('r1', 'reviews') + '---\nkind: [unclosed\n');
    assert.equal(events.length, 0);
    assert.ok(store.get('VirtualService/default/r2'));
    assert.equal(rejected.at(-1)?.reason, 'unparseable');
  });

  void it('resolves a key defined in two files to the first file, the other taking over when it goes', () => {
    const { store, events, rejected } = setup();
    apply(store, 'b.yaml', vs('r1', 'from-b'));
    apply(store, 'a.yaml', vs('r1', 'from-a'));
    assert.deepEqual((store.get('VirtualService/default/r1')?.spec as { hosts: string[] }).hosts, ['from-a']);
    assert.equal(store.sourceOf('VirtualService/default/r1'), 'a.yaml');
    assert.equal(rejected.at(-1)?.reason, 'duplicate');
    // Re-applying the loser does not change the winner.
    events.length = 0;
    apply(store, 'b.yaml', vs('r1', 'from-b2'));
    assert.equal(events.length, 0);
    store.removeSource('a.yaml');
    assert.deepEqual((store.get('VirtualService/default/r1')?.spec as { hosts: string[] }).hosts, ['from-b2']);
    assert.equal(events.at(-1)?.type, 'update');
  });

  void it('rejects the second definition of a key inside one file', () => {
    const { store, rejected } = setup();
    apply(store, 'a.yaml', vs('r1', 'first') + '---' + vs('r1', 'second'));
    assert.deepEqual((store.get('VirtualService/default/r1')?.spec as { hosts: string[] }).hosts, ['first']);
    assert.equal(rejected[0]?.reason, 'duplicate');
  });

  void it('unsubscribes', () => {
    const { store, events } = setup();
    const seen: ConfigEvent[] = [];
    const off = store.subscribe((e) => seen.push(e));
    off();
    apply(store, 'a.yaml', vs('r1', 'x'));
    assert.equal(seen.length, 0);
    assert.equal(events.length, 1);
  });
});

// FileConfigSource over a real temporary directory: initial load, create/modify/delete/rename, subdirectories.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { configureLogging } from '../../shared/log.js';
import { FileConfigSource } from './file.js';
import { ConfigStore } from './store.js';
import type { ConfigEvent, Rejection } from './store.js';

configureLogging({ level: 'none' });

const dr = (name: string, host: string, extra = ''): string => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${name}, namespace: default}
spec:
  host: ${host}
${extra}`;

/** Resolves with the first store event matching `pred` (no sleeping: the watcher tells us). */
function nextEvent(store: ConfigStore, pred: (e: ConfigEvent) => boolean): Promise<ConfigEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error('timed out waiting for a config event'));
    }, 5000);
    const off = store.subscribe((e) => {
      if (!pred(e)) return;
      clearTimeout(timer);
      off();
      resolve(e);
    });
  });
}

function nextRejection(rejections: { fn?: (r: Rejection) => void }): Promise<Rejection> {
  return new Promise((resolve) => {
    rejections.fn = (r) => {
      delete rejections.fn;
      resolve(r);
    };
  });
}

void describe('FileConfigSource', () => {
  let dir: string;
  let store: ConfigStore;
  let source: FileConfigSource;
  const hook: { fn?: (r: Rejection) => void } = {};
  const host = (key: string): string | undefined => (store.get(key)?.spec as { host?: string } | undefined)?.host;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'isthmus-file-'));
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'a.yaml'), dr('a', 'a.example.com'));
    await writeFile(join(dir, 'sub', 'b.yml'), dr('b', 'b.example.com'));
    await writeFile(join(dir, 'notes.txt'), 'not config');
    store = new ConfigStore({ onRejected: (r) => hook.fn?.(r) });
    source = new FileConfigSource([dir], store, { settleMs: 10 });
    await source.start();
  });

  after(async () => {
    source.close();
    await rm(dir, { recursive: true, force: true });
  });

  void it('loads every config file recursively at start', () => {
    assert.deepEqual(
      store.all().map((c) => c.meta.name),
      ['a', 'b'],
    );
    assert.deepEqual(source.files(), [join(dir, 'a.yaml'), join(dir, 'sub', 'b.yml')]);
  });

  void it('picks up a created file', async () => {
    const ev = nextEvent(store, (e) => e.key === 'DestinationRule/default/c');
    await writeFile(join(dir, 'c.yaml'), dr('c', 'c.example.com'));
    assert.equal((await ev).type, 'add');
  });

  void it('picks up a modified file', async () => {
    const ev = nextEvent(store, (e) => e.key === 'DestinationRule/default/a');
    await writeFile(join(dir, 'a.yaml'), dr('a', 'a2.example.com'));
    assert.equal((await ev).type, 'update');
    assert.equal(host('DestinationRule/default/a'), 'a2.example.com');
  });

  void it('picks up a deleted file', async () => {
    const ev = nextEvent(store, (e) => e.key === 'DestinationRule/default/c');
    await rm(join(dir, 'c.yaml'));
    assert.equal((await ev).type, 'delete');
  });

  void it('handles an atomic save (write a temp file, rename over the original)', async () => {
    const ev = nextEvent(store, (e) => e.key === 'DestinationRule/default/a');
    await writeFile(join(dir, '.a.yaml.tmp'), dr('a', 'a3.example.com'));
    await rename(join(dir, '.a.yaml.tmp'), join(dir, 'a.yaml'));
    assert.equal((await ev).type, 'update');
    assert.equal(host('DestinationRule/default/a'), 'a3.example.com');
  });

  void it('follows new subdirectories, including files written right after mkdir', async () => {
    const ev = nextEvent(store, (e) => e.key === 'DestinationRule/default/d');
    await mkdir(join(dir, 'new', 'deep'), { recursive: true });
    await writeFile(join(dir, 'new', 'deep', 'd.json'), JSON.stringify({ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'd' }, spec: { host: 'd.example.com' } }));
    assert.equal((await ev).type, 'add');
    const ev2 = nextEvent(store, (e) => e.key === 'DestinationRule/default/e');
    await writeFile(join(dir, 'new', 'deep', 'e.yaml'), dr('e', 'e.example.com'));
    assert.equal((await ev2).type, 'add');
  });

  void it('follows a renamed directory and files later written in it', async () => {
    const gone = nextEvent(store, (e) => e.key === 'DestinationRule/default/d' && e.type === 'delete');
    const back = nextEvent(store, (e) => e.key === 'DestinationRule/default/d' && e.type === 'add');
    await rename(join(dir, 'new'), join(dir, 'moved'));
    await Promise.all([gone, back]);
    assert.equal(store.sourceOf('DestinationRule/default/d'), join(dir, 'moved', 'deep', 'd.json'));
    const ev = nextEvent(store, (e) => e.key === 'DestinationRule/default/f');
    await writeFile(join(dir, 'moved', 'deep', 'f.yaml'), dr('f', 'f.example.com'));
    assert.equal((await ev).type, 'add');
  });

  void it('drops everything under a deleted directory', async () => {
    const keys = ['d', 'e', 'f'].map((n) => `DestinationRule/default/${n}`);
    const evs = keys.map((k) => nextEvent(store, (e) => e.key === k && e.type === 'delete'));
    await rm(join(dir, 'moved'), { recursive: true });
    await Promise.all(evs);
    for (const k of keys) assert.equal(store.get(k), undefined);
  });

  void it('keeps the last valid version when a file becomes invalid, then takes the fixed one', async () => {
    const rejected = nextRejection(hook);
    await writeFile(join(dir, 'sub', 'b.yml'), dr('b', 'b-bad.example.com', '  bogusField: true\n'));
    const r = await rejected;
    assert.equal(r.key, 'DestinationRule/default/b');
    assert.equal(r.keptPrevious, true);
    assert.equal(r.source, join(dir, 'sub', 'b.yml'));
    assert.equal(host('DestinationRule/default/b'), 'b.example.com');
    const ev = nextEvent(store, (e) => e.key === 'DestinationRule/default/b');
    await writeFile(join(dir, 'sub', 'b.yml'), dr('b', 'b-fixed.example.com'));
    assert.equal((await ev).type, 'update');
    assert.equal(host('DestinationRule/default/b'), 'b-fixed.example.com');
  });

  void it('coalesces a burst of writes to one file into one update', async () => {
    const seen: ConfigEvent[] = [];
    const off = store.subscribe((e) => seen.push(e));
    const final = nextEvent(store, (e) => e.key === 'DestinationRule/default/a' && host('DestinationRule/default/a') === 'burst-4.example.com');
    for (let i = 0; i <= 4; i++) await writeFile(join(dir, 'a.yaml'), dr('a', `burst-${i}.example.com`));
    await final;
    await source.idle();
    off();
    assert.ok(seen.length < 5, `expected the burst of 5 writes coalesced, got ${seen.length} events`);
  });

  void it('refuses to start on a missing directory', async () => {
    const s = new FileConfigSource([join(dir, 'nope')], new ConfigStore());
    await assert.rejects(s.start(), /does not exist/);
    s.close();
  });
});

// The shared proto types: the compact root codes exactly like protobufjs's own root parsed from the .proto files
// (packed scalars, Any, coders generated on first use), drops what the mesh cannot reach, and is cached on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { PROTO_FILES, loadProtoRoot, protoIncludeDirs } from './proto.js';

const LISTENER = 'envoy.config.listener.v3.Listener';

/** protobufjs's own root, parsed from the .proto files with every coder set up eagerly. */
function parsedRoot(): protobuf.Root {
  const includes = protoIncludeDirs();
  const root = new protobuf.Root();
  root.resolvePath = (_o, target) => includes.map((d) => join(d, target)).find((p) => existsSync(p)) ?? target;
  root.loadSync(PROTO_FILES, { keepCase: true });
  root.resolveAll();
  return root;
}

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'isthmus-proto-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const listener = {
  name: 'l',
  address: { socket_address: { address: '0.0.0.0', port_value: 15006 } },
  filter_chains: [
    {
      filters: [
        {
          name: 'envoy.filters.network.http_connection_manager',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
            stat_prefix: 'in',
            route_config: { name: 'r', virtual_hosts: [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'c', retry_policy: { retriable_status_codes: [503, 504] } } }] }] },
            http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
          },
        },
      ],
    },
  ],
};

const JSON_VIEW = { json: true, enums: String, longs: String, defaults: false } as const;

test('compact root: same bytes and JSON view as the parsed root (packed scalars, nested Any), verify works', (t) => {
  const compact = loadProtoRoot(tempDir(t)).lookupType(LISTENER);
  const parsed = parsedRoot().lookupType(LISTENER);
  const bytes = compact.encode(compact.fromObject(listener)).finish();
  assert.deepEqual(Buffer.from(bytes), Buffer.from(parsed.encode(parsed.fromObject(listener)).finish()));
  assert.ok(Buffer.from(bytes).includes(Buffer.from([0x04, 0xf7, 0x03, 0xf8, 0x03])), 'retriable_status_codes packed: length 4, 503, 504');
  const view = compact.toObject(compact.decode(bytes), JSON_VIEW);
  assert.deepEqual(view, parsed.toObject(parsed.decode(bytes), JSON_VIEW));
  assert.equal((view as { filter_chains: { filters: { typed_config: { stat_prefix: string } }[] }[] }).filter_chains[0]?.filters[0]?.typed_config.stat_prefix, 'in');
  assert.equal(compact.verify({ name: 7 }), 'name: string expected');
  assert.equal(compact.verify({ name: 'x' }), null);
});

test('compact root: the mesh types and what they reach, without validation rules, annotations or comments', (t) => {
  const root = loadProtoRoot(tempDir(t));
  for (const name of [LISTENER, 'envoy.config.route.v3.RouteAction.HashPolicy', 'envoy.config.core.v3.Node', 'google.protobuf.Struct', 'udpa.type.v1.TypedStruct', 'envoy.type.v3.StatusCode']) {
    assert.ok(root.lookup(name), name);
  }
  for (const gone of ['validate.FieldRules', 'udpa.annotations.MigrateAnnotation', 'google.protobuf.FileDescriptorProto', 'envoy.admin.v3.ConfigDump']) {
    assert.equal(root.lookup(gone), null, gone);
  }
  const route = root.lookupType('envoy.config.route.v3.Route');
  assert.equal(route.comment, null);
  assert.equal(route.fields.match?.options, undefined, 'no (validate.rules) option');
});

test('cache: written once per version, read by the next process, rewritten when damaged', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'xds-protos-0000000000000000.json'), '{}');
  loadProtoRoot(dir);
  const files = readdirSync(dir);
  assert.equal(files.length, 1, `older caches removed: ${files.join(', ')}`);
  const file = join(dir, files[0] ?? '');
  const text = readFileSync(file, 'utf8');

  // What is in the cache is what loads: drop a type from it and the next load does not have it.
  const json = JSON.parse(text) as { nested: { udpa: { nested: { type: { nested: { v1: { nested: Record<string, unknown> } } } } } } };
  delete json.nested.udpa.nested.type.nested.v1.nested.TypedStruct;
  writeFileSync(file, JSON.stringify(json));
  assert.equal(loadProtoRoot(dir).lookup('udpa.type.v1.TypedStruct'), null);

  writeFileSync(file, text.slice(0, 1000));
  assert.ok(loadProtoRoot(dir).lookup('udpa.type.v1.TypedStruct'));
  assert.equal(readFileSync(file, 'utf8'), text);
});

test('cache: an unusable cache dir only costs the parse', (t) => {
  const notADir = join(tempDir(t), 'file');
  writeFileSync(notADir, '');
  assert.ok(loadProtoRoot(join(notADir, 'cache')).lookup(LISTENER));
});

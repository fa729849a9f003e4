import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatError, type ValidationError } from './errors.js';
import { listConfigFiles, loadFile, loadPaths, parseDocuments } from './load.js';
import type { VirtualService } from './types/networking.js';
import { validateConfig } from './validate/index.js';

const fixture = (name: string): string => fileURLToPath(new URL(`testdata/${name}`, import.meta.url));
const fmt = (e: ValidationError): string => `L${e.line} ${e.name ?? '-'} ${e.path}: ${e.message}`;

const VS = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  labels: {app: reviews}
  annotations: {owner: team-a}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
`;

test('a resource becomes a typed Config: envelope, default namespace, labels, source, content-hash version', () => {
  const r = parseDocuments(VS, 'vs.yaml');
  assert.deepEqual(r.errors, []);
  assert.equal(r.configs.length, 1);
  const c = r.configs[0];
  assert.deepEqual({ ...c.meta, resourceVersion: typeof c.meta.resourceVersion }, {
    kind: 'VirtualService', group: 'networking.istio.io', version: 'v1', name: 'reviews', namespace: 'default',
    labels: { app: 'reviews' }, annotations: { owner: 'team-a' }, resourceVersion: 'string', source: { file: 'vs.yaml', index: 0 },
  });
  assert.match(c.meta.resourceVersion, /^[0-9a-f]{16}$/);
  const spec = c.spec as VirtualService;
  assert.equal(spec.http?.[0]?.route?.[0]?.destination.subset, 'v1');
  // Same content → same version (even re-ordered keys); different content → different version.
  const again = parseDocuments(`kind: VirtualService\napiVersion: networking.istio.io/v1\n${VS.split('\n').slice(2).join('\n')}`, 'other.yaml').configs[0];
  assert.equal(again.meta.resourceVersion, c.meta.resourceVersion);
  const changed = parseDocuments(VS.replace('subset: v1', 'subset: v2'), 'vs.yaml').configs[0];
  assert.notEqual(changed.meta.resourceVersion, c.meta.resourceVersion);
  assert.deepEqual(validateConfig(c), []);
});

test('every good fixture (one per kind, Bookinfo shapes, JSON List) loads without errors', async () => {
  const r = await loadPaths([fixture('good')]);
  assert.deepEqual(r.errors.map(formatError), []);
  const kinds = new Set(r.configs.map((c) => c.meta.kind));
  assert.deepEqual([...kinds].sort(), [
    'AuthorizationPolicy', 'DestinationRule', 'EnvoyFilter', 'Gateway', 'PeerAuthentication', 'RequestAuthentication', 'ServiceEntry',
    'Sidecar', 'Telemetry', 'VirtualService', 'WorkloadEntry', 'WorkloadGroup',
  ]);
  assert.equal(r.files.length, 11);
  assert.deepEqual(r.skipped.map((s) => `${s.kind}/${s.name}`).sort(), ['Deployment/ratings-v1', 'Service/details']);
  assert.deepEqual(r.rejected, []);
  // A config read back through validateConfig stays valid.
  for (const c of r.configs) assert.deepEqual(validateConfig(c), [], `${c.meta.kind}/${c.meta.name}`);
});

test('all errors of a file are reported, and one invalid resource does not reject the others', () => {
  const text = `${VS}---\n${VS.replace('name: reviews', 'name: bad').replace('subset: v1', 'subset: "v 1"').replace('hosts: [reviews]', 'hosts: [reviews]\n  tcp: []\n  foo: 1')}---\n${VS.replace('name: reviews', 'name: ok2')}`;
  const r = parseDocuments(text, 'multi.yaml');
  assert.deepEqual(r.configs.map((c) => c.meta.name), ['reviews', 'ok2']);
  assert.deepEqual(r.rejected.map((c) => c.meta.name), ['bad']);
  assert.deepEqual(r.errors.map(fmt), [
    'L22 bad spec.foo: unknown field',
    'L25 bad spec.http[0].route[0].destination.subset: subset name is invalid: v 1',
  ]);
  assert.equal(r.errors[0].index, 1);
  assert.equal(formatError(r.errors[1]), 'multi.yaml:25: VirtualService default/bad: spec.http[0].route[0].destination.subset: subset name is invalid: v 1');
});

test('YAML syntax errors name the file and line; the file\'s other documents still load', async () => {
  const r = await loadFile(fixture('bad/syntax.yaml'));
  assert.deepEqual(r.configs.map((c) => c.meta.name), ['ok']);
  assert.equal(r.errors.length, 1);
  assert.equal(formatError(r.errors[0]), `${fixture('bad/syntax.yaml')}:17: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]`);
  const dup = parseDocuments('apiVersion: networking.istio.io/v1\nkind: Gateway\nkind: Gateway\n', 'dup.yaml');
  assert.deepEqual(dup.errors.map((e) => `${e.line}: ${e.message}`), ['3: YAML syntax error: Map keys must be unique']);
});

test('envelope errors: unknown kind or version, missing apiVersion/name, bad metadata, stray top-level fields', async () => {
  const r = await loadFile(fixture('bad/envelope.yaml'));
  assert.deepEqual(r.errors.map(fmt), [
    'L2 x kind: unknown kind "Frobnicator" in networking.istio.io',
    'L6 old apiVersion: AuthorizationPolicy is not served at security.istio.io/v1alpha1 (versions: security.istio.io/v1, security.istio.io/v1beta1)',
    'L11 noapi apiVersion: apiVersion is required',
    'L17  metadata.name: name is required',
    'L18  metadata.namespace: invalid namespace "Bad_NS": must be a lowercase RFC 1123 label (a-z, 0-9, \'-\')',
    'L20  metadata.labels.version: expected string, got number',
    'L24  extra: unknown field',
    'L26 - : expected a resource object, got string',
    'L27 - : expected a resource object, got string',
  ]);
});

test('Kubernetes Lists and JSON; non-Istio documents are skipped with a note', () => {
  const json = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [JSON.parse(JSON.stringify({ apiVersion: 'networking.istio.io/v1beta1', kind: 'DestinationRule', metadata: { name: 'r', namespace: 'shop' }, spec: { host: 'r', subsets: [{ name: 'v1', labels: { version: 'v1' } }] } })), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } }] }, null, 2);
  const r = parseDocuments(json, 'list.json');
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.configs.map((c) => `${c.meta.kind}/${c.meta.namespace}/${c.meta.name}@${c.meta.version}`), ['DestinationRule/shop/r@v1beta1']);
  assert.deepEqual(r.skipped, [{ file: 'list.json', index: 0, apiVersion: 'v1', kind: 'ConfigMap', name: 'cm', reason: 'not an Istio resource' }]);
  const bad = parseDocuments(json.replace('"host": "r"', '"host": 7'), 'list.json');
  assert.deepEqual(bad.errors.map((e) => `${e.line} ${e.path}: ${e.message}`), ['13 spec.host: expected string, got number']);
  const pc = parseDocuments('apiVersion: networking.istio.io/v1beta1\nkind: ProxyConfig\nmetadata: {name: p}\nspec: {concurrency: 2}\n', 'pc.yaml');
  assert.deepEqual([pc.errors, pc.skipped.map((s) => s.reason)], [[], ['Istio kind not supported by Isthmus']]);
  assert.deepEqual(parseDocuments('', 'empty.yaml'), { configs: [], rejected: [], errors: [], warnings: [], skipped: [], files: [] });
  assert.deepEqual(parseDocuments('---\n---\n# only comments\n', 'empty.yaml').errors, []);
});

test('loadPaths recurses into directories (yaml, yml, json; hidden entries and other files ignored); missing paths are errors', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'isthmus-load-'));
  try {
    await mkdir(join(dir, 'nested', 'deeper'), { recursive: true });
    await mkdir(join(dir, '.git'));
    await writeFile(join(dir, 'a.yaml'), VS);
    await writeFile(join(dir, 'nested', 'b.yml'), VS.replace('name: reviews', 'name: b'));
    await writeFile(join(dir, 'nested', 'deeper', 'c.json'), JSON.stringify({ apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'c' }, spec: { servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] } }));
    await writeFile(join(dir, 'nested', 'README.md'), '# not config');
    await writeFile(join(dir, '.git', 'x.yaml'), 'not: [valid');
    assert.deepEqual((await listConfigFiles(dir)).map((f) => f.slice(dir.length + 1)), ['a.yaml', join('nested', 'b.yml'), join('nested', 'deeper', 'c.json')]);
    const r = await loadPaths([dir, join(dir, 'missing.yaml')]);
    assert.deepEqual(r.configs.map((c) => c.meta.name), ['reviews', 'b', 'c']);
    assert.equal(r.files.length, 3);
    assert.deepEqual(r.errors.map((e) => `${e.file?.slice(dir.length + 1)}: ${e.message}`), ['missing.yaml: cannot read: ENOENT']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('empty YAML values (nulls) count as unset and are dropped from the typed spec', () => {
  const r = parseDocuments(VS.replace('  hosts: [reviews]', '  hosts: [reviews]\n  gateways:\n  exportTo: ~').replace('subset: v1}', 'subset: v1}\n      weight:'), 'nulls.yaml');
  assert.deepEqual(r.errors, []);
  const spec = r.configs[0].spec as VirtualService;
  assert.equal('gateways' in spec || 'exportTo' in spec, false);
  assert.deepEqual(spec.http?.[0]?.route?.[0], { destination: { host: 'reviews', subset: 'v1' } });
});

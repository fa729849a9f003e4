import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { runValidate } from './validate.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../api/testdata/${name}`, import.meta.url));

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runValidate(argv, { write: (s: string) => (out += s) }, { write: (s: string) => (err += s) });
  return { code, out, err };
}

test('clean input: exit 0 and a summary on stdout', async () => {
  const r = await run(['-f', fixture('good')]);
  assert.equal(r.code, 0);
  assert.equal(r.out, 'validation succeed: 35 resources in 11 files (2 non-Istio documents skipped)\n');
  // Warnings are printed but do not fail validation.
  assert.match(r.err, /^Warning: .*envoyfilter-full\.yaml:\d+: EnvoyFilter shop\/lua: spec: EnvoyFilter exposes internal implementation details/m);
  const one = await run(['--filename', fixture('good/bookinfo-gateway.yaml')]);
  assert.deepEqual(one, { code: 0, out: 'validation succeed: 2 resources in 1 file\n', err: '' });
});

test('invalid input: every error on stderr (file:line: kind ns/name: path: message), exit 1', async () => {
  const r = await run(['-f', fixture('bad/destinationrule.yaml'), '-f', fixture('good/bookinfo-gateway.yaml')]);
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  const lines = r.err.trimEnd().split('\n');
  assert.equal(lines.length, 19);
  assert.equal(lines[0], `${fixture('bad/destinationrule.yaml')}:5: DestinationRule default/reviews: spec.host: required field is missing`);
  assert.ok(lines.includes(`${fixture('bad/destinationrule.yaml')}:43: DestinationRule default/reviews: spec.subsets[1].name: duplicate subset names: v1`));
  assert.equal(lines[18], 'validation failed: 18 errors, 1 invalid resource, 2 valid, in 2 files');
});

test('usage: -f is required, unknown flags and positionals are rejected (exit 2), --help prints usage', async () => {
  const none = await run([]);
  assert.equal(none.code, 2);
  assert.match(none.err, /at least one -f <file\|dir> is required/);
  const bad = await run(['--frobnicate']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /Unknown option '--frobnicate'/);
  assert.equal((await run(['samples'])).code, 2);
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /^Usage: isthmus validate -f <file\|dir>/);
});

test('a missing path is an error, not a crash', async () => {
  const r = await run(['-f', fixture('does-not-exist.yaml')]);
  assert.equal(r.code, 1);
  assert.match(r.err, /does-not-exist\.yaml: cannot read: ENOENT/);
});

// `isthmus discovery --mesh-config`: a missing or invalid MeshConfig file is a usage error naming the file and field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDiscoveryCommand } from './discovery.js';

function capture(): { write(s: string): boolean; text(): string } {
  let buf = '';
  return { write: (s: string) => ((buf += s), true), text: () => buf };
}

test('--mesh-config: unreadable or invalid files exit 2 before anything starts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'isthmus-meshcfg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const missing = capture();
  assert.equal(await runDiscoveryCommand(['--mesh-config', join(dir, 'nope.yaml')], capture(), missing), 2);
  assert.match(missing.text(), /cannot read --mesh-config ".*nope\.yaml"/);

  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'outboundTrafficPolicy: {mode: REGISTRY_ONLY}\nextensionProviders:\n- name: x\n  envoyFileAccessLog: {logFormat: {text: a, labels: {b: c}}}\n');
  const err = capture();
  assert.equal(await runDiscoveryCommand(['--mesh-config', bad], capture(), err), 2);
  assert.equal(
    err.text(),
    `${bad}: warning: outboundTrafficPolicy: not supported by isthmus, ignored\n${bad}: extensionProviders[0].envoyFileAccessLog.logFormat: only one of text or labels may be set\n`,
  );
});

// Which program a workload command runs: compiled dist/ output when it is up to date, TypeScript through tsx
// otherwise, anything else as written; and isthmus itself the way this process runs.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { compiledFor, isthmusProgram, workloadProgram } from './command.js';

const root = mkdtempSync(join(tmpdir(), 'isthmus-command-'));
after(() => rmSync(root, { recursive: true, force: true }));

function touch(path: string, secondsAgo: number, text = ''): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  const t = Date.now() / 1000 - secondsAgo;
  utimesSync(path, t, t);
}

test('node app.ts runs dist/app.js when it is newer than every source of its directory, else tsx', () => {
  touch(join(root, 'package.json'), 100, '{}');
  touch(join(root, 'apps/web/main.ts'), 50);
  touch(join(root, 'apps/web/lib/util.ts'), 40);
  const exec = '/usr/bin/node';
  const viaTsx = workloadProgram(['node', '--max-semi-space-size=2', 'main.ts', '--port', '80'], join(root, 'apps/web'), exec);
  assert.equal(viaTsx.file, exec);
  assert.deepEqual(viaTsx.args.slice(0, 2), ['--max-semi-space-size=2', '--import']);
  assert.match(viaTsx.args[2] ?? '', /^file:.*tsx/);
  assert.deepEqual(viaTsx.args.slice(3), [join(root, 'apps/web/main.ts'), '--port', '80']);

  touch(join(root, 'dist/apps/web/main.js'), 45); // older than lib/util.ts: stale
  assert.equal(compiledFor(join(root, 'apps/web/main.ts')), undefined);
  touch(join(root, 'dist/apps/web/main.js'), 10);
  assert.deepEqual(workloadProgram(['node', 'main.ts', 'x'], join(root, 'apps/web'), exec), { file: exec, args: [join(root, 'dist/apps/web/main.js'), 'x'] });
});

test('other commands run as written; isthmus runs like this process', () => {
  assert.deepEqual(workloadProgram(['python3', '-m', 'http.server'], root), { file: 'python3', args: ['-m', 'http.server'] });
  assert.deepEqual(workloadProgram(['node', 'server.js'], root, '/n'), { file: '/n', args: ['server.js'] });
  const self = isthmusProgram('/n');
  assert.equal(self.file, '/n');
  assert.match(self.args.at(-1) ?? '', /src\/cli\/main\.ts$/);
  assert.equal(self.args[0], '--import');
});

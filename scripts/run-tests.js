// Runs every *.test.ts under src/, test/ and samples/ with Node's test runner (TypeScript through tsx).
// Files that start the whole demo on its fixed ports run afterwards, one at a time, so they never race each other.
// Usage: node scripts/run-tests.js [filter-substring ...]
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Test files that bind the demo's fixed ports (gateway 8080, 15010, ...): never run two of them at once. */
const EXCLUSIVE = ['test/local/demo.test.ts', 'test/e2e/istio-tasks.test.ts'];

function find(dir, out) {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) find(p, out);
    else if (e.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = [...find('src', []), ...find('test', []), ...find('samples', [])]
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const parallel = files.filter((f) => !EXCLUSIVE.includes(f));
const serial = files.filter((f) => EXCLUSIVE.includes(f));

const totals = { pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };

/** Runs one node --test invocation, passing its output through and adding up its summary counts. */
function run(list, concurrency) {
  return new Promise((resolve) => {
    const args = ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-force-exit', '--test-timeout=240000', ...list];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      buf += chunk.toString('utf8');
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const m = /^# (pass|fail|cancelled|skipped|todo) (\d+)$/.exec(buf.slice(0, i));
        if (m) totals[m[1]] += Number(m[2]);
        buf = buf.slice(i + 1);
      }
    });
    child.on('close', (code) => resolve(code ?? 1));
  });
}

let status = 0;
if (parallel.length > 0) status = (await run(parallel, 2)) || status;
if (serial.length > 0) status = (await run(serial, 1)) || status;
const extra = totals.skipped || totals.todo ? `, ${totals.skipped} skipped` : '';
console.log(`\ntests: ${totals.pass} passed, ${totals.fail + totals.cancelled} failed${extra}`);
process.exit(status);

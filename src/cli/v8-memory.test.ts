// The start-up V8 settings take effect when set from inside a running process (the proxy relies on it): held, the new
// space stays at its initial size however much survives; released, V8 grows it again. Flags the user gave win.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { userSet } from './v8-memory.js';

const CHILD = `
const { holdV8ForStartup, releaseV8AfterStartup } = await import(${JSON.stringify(new URL('./v8-memory.ts', import.meta.url).href)});
const v8 = await import('node:v8');
const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
const keep = [];
const churn = () => { for (let i = 0; i < 300_000; i++) keep.push({ i, s: 'x' + i }); };
const initial = newSpace();
holdV8ForStartup([]);
churn();
const held = newSpace();
releaseV8AfterStartup();
churn();
churn();
console.log(JSON.stringify({ initial, held, released: newSpace(), kept: keep.length }));
`;

test('held: the new space does not grow while long-lived objects pile up; released: it grows again', () => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], { encoding: 'utf8' });
  const r = JSON.parse(out) as { initial: number; held: number; released: number; kept: number };
  assert.equal(r.kept, 900_000);
  assert.equal(r.held, r.initial, `held: ${r.held} bytes, initial ${r.initial}`);
  assert.ok(r.released >= 4 * r.initial, `released: ${r.released} bytes, initial ${r.initial}`);
});

test('a flag the user set on the command line or in NODE_OPTIONS is left alone, in any spelling', () => {
  assert.equal(userSet('turbofan', ['--no-turbofan']), true);
  assert.equal(userSet('turbofan', ['--turbofan']), true);
  assert.equal(userSet('semi-space-growth-factor', ['--semi_space_growth_factor=4']), true);
  assert.equal(userSet('sparkplug', ['--max-semi-space-size=2', '--no-opt', '']), false);
  assert.equal(userSet('turbofan', ['--turbofan-filter=x']), false);
});

test('compactHeap runs one compacting GC without exposing gc to the process, and returns emptied pages', () => {
  const CHILD2 = `
const { compactHeap } = await import(${JSON.stringify(new URL('./v8-memory.ts', import.meta.url).href)});
const v8 = await import('node:v8');
const old = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space');
// Long-lived objects of which most die: old-space pages left sparse, as start-up leaves them.
let keep = [];
for (let i = 0; i < 400_000; i++) keep.push({ i, s: 'x' + i });
keep = keep.filter((_, i) => i % 50 === 0);
const before = old().space_size;
const ran = compactHeap([]);
console.log(JSON.stringify({ ran, before, after: old().space_size, gcVisible: typeof globalThis.gc, kept: keep.length }));
`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD2], { encoding: 'utf8' });
  const r = JSON.parse(out) as { ran: boolean; before: number; after: number; gcVisible: string; kept: number };
  assert.equal(r.ran, true);
  assert.equal(r.gcVisible, 'undefined');
  assert.equal(r.kept, 8000);
  assert.ok(r.after < r.before / 2, `old space ${r.before} → ${r.after} bytes`);
});

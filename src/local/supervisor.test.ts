// The supervisor: crashes are restarted with backoff, stop() ends whole process groups (grandchildren too), a process
// that ignores SIGTERM is killed after the deadline, a command that cannot start is reported.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { ExitInfo, ProcSpec } from './supervisor.js';
import { Supervisor } from './supervisor.js';
import { isAlive } from './state.js';

const root = mkdtempSync(join(tmpdir(), 'isthmus-supervisor-'));
after(() => rmSync(root, { recursive: true, force: true }));

function spec(name: string, script: string, restart = false): ProcSpec {
  return { name, role: 'app', owner: name, file: 'sh', args: ['-c', script], cwd: root, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, log: join(root, `${name}.log`), restart };
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a crashing process is restarted with growing delays and its exits are reported', async () => {
  const exits: ExitInfo[] = [];
  const sup = new Supervisor({ pgidFile: join(root, 'pgids-1'), backoffMs: 30, onExit: (e) => exits.push(e) });
  const p = sup.add(spec('crasher', 'echo boom; exit 3', true));
  await until(() => exits.length >= 3);
  await sup.stop([['app']], 1000);
  assert.equal(exits[0]?.code, 3);
  assert.deepEqual(exits.slice(0, 3).map((e) => e.restartInMs), [30, 60, 120]);
  assert.ok(p.restarts >= 2);
  assert.equal(p.lastExit, 'exit code 3');
  assert.match(readFileSync(p.spec.log, 'utf8'), /boom\n[\s\S]*boom\n/);
});

test('stop ends the whole process group, grandchildren included, and empties the pgid file', async () => {
  const sup = new Supervisor({ pgidFile: join(root, 'pgids-2') });
  const pidFile = join(root, 'grandchild.pid');
  const p = sup.add(spec('parent', `sleep 30 & echo $! > ${pidFile}; wait`));
  await until(() => {
    try {
      return readFileSync(pidFile, 'utf8').trim() !== '';
    } catch {
      return false;
    }
  });
  const grandchild = Number(readFileSync(pidFile, 'utf8'));
  const leader = p.pid!;
  assert.equal(readFileSync(join(root, 'pgids-2'), 'utf8'), `${leader}\n`);
  await sup.stop([['app']], 2000);
  assert.equal(isAlive(leader), false);
  await until(() => !isAlive(grandchild));
  assert.equal(readFileSync(join(root, 'pgids-2'), 'utf8'), '');
  assert.equal(p.status, 'stopped');
});

test('a process ignoring SIGTERM is killed after the deadline', async () => {
  const sup = new Supervisor({ pgidFile: join(root, 'pgids-3') });
  const p = sup.add(spec('stubborn', `trap '' TERM; echo "re""ady"; while :; do sleep 1; done`));
  await until(() => readFileSync(p.spec.log, 'utf8').includes('\nready'));
  const pid = p.pid!;
  const t0 = Date.now();
  await sup.stop([['app']], 300);
  assert.ok(Date.now() - t0 >= 290);
  assert.equal(isAlive(pid), false);
  assert.match(readFileSync(p.spec.log, 'utf8'), /did not stop within 300 ms: SIGKILL/);
});

test('a command that cannot start is reported as such', async () => {
  const exits: ExitInfo[] = [];
  const sup = new Supervisor({ pgidFile: join(root, 'pgids-4'), onExit: (e) => exits.push(e) });
  const p = sup.add({ ...spec('missing', ''), file: join(root, 'no-such-program'), args: [] });
  await until(() => exits.length === 1);
  assert.match(p.lastExit ?? '', /^failed to start: .*ENOENT/);
  assert.equal(p.status, 'exited');
  await sup.stop([['app']], 100);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { main } from './main.js';

function capture(): { write(s: string): boolean; text: string } {
  return {
    text: '',
    write(s: string) {
      this.text += s;
      return true;
    },
  };
}

test('isthmus proxy: help, usage errors', async () => {
  const out = capture();
  const err = capture();
  assert.equal(await main(['proxy', '--help'], out, err), 0);
  assert.match(out.text, /^Usage: isthmus proxy sidecar\|router/);
  assert.match(out.text, /--discovery-address/);
  assert.equal(await main(['proxy'], out, err), 2);
  assert.match(err.text, /missing proxy type/);
  assert.equal(await main(['proxy', 'gateway'], out, err), 2);
  assert.match(err.text, /unknown proxy type "gateway"/);
  assert.equal(await main(['proxy', 'sidecar', '--concurrency', 'lots'], out, err), 2);
  assert.match(err.text, /invalid --concurrency/);
  assert.equal(await main(['proxy', 'sidecar', '--nope'], out, err), 2);
  const e2 = capture();
  assert.equal(await main(['proxy', 'sidecar', '--discoveryAddress', '127.0.0.1:1', '--concurrency=0'], out, e2), 2);
  assert.match(e2.text, /invalid --concurrency "0"/, 'the camelCase alias parsed; only the bad value is reported');
  assert.match(await (async () => {
    const o = capture();
    await main(['--help'], o, err);
    return o.text;
  })(), /proxy +run the data-plane proxy/);
});

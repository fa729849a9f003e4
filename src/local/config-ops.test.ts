// apply/delete on a config directory: one file per resource, created / configured / unchanged like kubectl, invalid
// input changes nothing and reports every error, generated resources are protected, delete is precise.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { formatError } from '../api/errors.js';
import { commitApply, commitDelete, planApply, planDelete } from './config-ops.js';

const root = mkdtempSync(join(tmpdir(), 'isthmus-config-ops-'));
after(() => rmSync(root, { recursive: true, force: true }));

const DR = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
`;
const VS = (subset: string): string => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: ${subset}}
`;

function file(name: string, text: string): string {
  const p = join(root, name);
  writeFileSync(p, text);
  return p;
}

test('apply writes one file per resource and reports created, unchanged, configured', async () => {
  const dir = join(root, 'applied1');
  const src = file('routing.yaml', `${DR}---\n${VS('v1')}`);
  let plan = await planApply([src], dir, new Set());
  assert.deepEqual(plan.errors, []);
  assert.deepEqual(plan.items.map((i) => `${i.display} ${i.action}`), ['destinationrule.networking.istio.io/reviews created', 'virtualservice.networking.istio.io/reviews created']);
  commitApply(plan);
  assert.deepEqual(readdirSync(dir).sort(), ['destinationrule.default.reviews.yaml', 'virtualservice.default.reviews.yaml']);
  assert.match(readFileSync(join(dir, 'destinationrule.default.reviews.yaml'), 'utf8'), /namespace: default/);

  plan = await planApply([src], dir, new Set());
  assert.deepEqual(plan.items.map((i) => i.action), ['unchanged', 'unchanged']);
  plan = await planApply([file('vs-v2.yaml', VS('v2'))], dir, new Set());
  assert.deepEqual(plan.items.map((i) => `${i.key} ${i.action}`), ['VirtualService/default/reviews configured']);
  commitApply(plan);
  assert.match(readFileSync(join(dir, 'virtualservice.default.reviews.yaml'), 'utf8'), /subset: v2/);
});

test('invalid input: every error, no item, nothing written', async () => {
  const dir = join(root, 'applied2');
  const bad = file('bad.yaml', `${VS('v1')}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: broken}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews}
      weight: 60
    - destination: {host: ratings}
      weight: 30
    timeout: banana
---
apiVersion: networking.istio.io/v1
kind: Gatewy
metadata: {name: typo}
`);
  const plan = await planApply([bad], dir, new Set());
  assert.equal(plan.items.length, 0);
  const msgs = plan.errors.map(formatError);
  assert.ok(msgs.some((m) => m.includes('VirtualService default/broken: spec.http[0].timeout: invalid duration "banana"')), msgs.join('\n'));
  assert.ok(msgs.some((m) => m.includes('unknown kind "Gatewy"')), msgs.join('\n'));
  commitApply(plan);
  assert.throws(() => readdirSync(dir));
});

test('resources generated from the mesh file cannot be applied over or deleted', async () => {
  const se = file('se.yaml', `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: reviews}
spec: {hosts: [reviews.default.svc.cluster.local], ports: [{number: 9080, name: http, protocol: HTTP}], resolution: STATIC, location: MESH_INTERNAL}
`);
  const managed = new Set(['ServiceEntry/default/reviews']);
  const a = await planApply([se], join(root, 'applied3'), managed);
  assert.match(formatError(a.errors[0]), /ServiceEntry default\/reviews: this resource is generated from the mesh file/);
  const d = await planDelete([se], join(root, 'applied3'), managed);
  assert.equal(d.items.length, 0);
  assert.equal(d.errors.length, 1);
});

test('delete removes exactly the named resources and reports the missing ones', async () => {
  const dir = join(root, 'applied4');
  commitApply(await planApply([file('both.yaml', `${DR}---\n${VS('v1')}`)], dir, new Set()));
  // A spec that would not validate any more still names the resource to delete.
  const plan = await planDelete([file('del.yaml', `${VS('v1')}    timeout: banana
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: never-applied}
spec: {selector: {istio: ingressgateway}, servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ['*']}]}
`)], dir, new Set());
  assert.deepEqual(plan.errors.map(formatError), []);
  assert.deepEqual(plan.items.map((i) => `${i.display} ${i.action}`), ['virtualservice.networking.istio.io/reviews deleted', 'gateway.networking.istio.io/never-applied not found']);
  commitDelete(plan);
  assert.deepEqual(readdirSync(dir), ['destinationrule.default.reviews.yaml']);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { ValidationError } from '../errors.js';
import { loadFile, parseDocuments } from '../load.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../testdata/${name}`, import.meta.url));
const fmt = (e: ValidationError): string => `L${e.line} ${e.name ?? '-'} ${e.path}: ${e.message}`;
/** `path: message` of every error of an inline document. */
const errorsOf = (yaml: string): string[] => parseDocuments(yaml, 'inline.yaml').errors.map((e) => `${e.path}: ${e.message}`);
const warningsOf = (yaml: string): string[] => parseDocuments(yaml, 'inline.yaml').warnings.map((e) => `${e.path}: ${e.message}`);

test('bad/sidecar.yaml: every error, with exact path, line and message', async () => {
  const r = await loadFile(fixture('bad/sidecar.yaml'));
  assert.deepEqual(r.errors.map(fmt), [
    'L11 default spec.ingress[0].defaultEndpoint: sidecar: defaultEndpoint must be of form 127.0.0.1:<port>,0.0.0.0:<port>,[::1]:port,[::]:port,unix://filepath or unset',
    'L12 default spec.ingress[0].captureMode: invalid value "SOMETIMES", must be one of DEFAULT, IPTABLES, NONE',
    'L14 default spec.ingress[1].port.number: sidecar: ports on IP bound listeners must be unique',
    'L18 default spec.egress[0]: sidecar: the egress listener with empty port should be the last listener in the list',
    'L25 default spec.egress[1].hosts[0]: host must be of form namespace/dnsName',
    'L26 default spec.egress[1].hosts[1]: invalid namespace value "bad_ns" in sidecar',
    'L27 default spec.egress[1].hosts[2]: short names (non FQDN) are not allowed',
    'L30 default spec.outboundTrafficPolicy.egressProxy: sidecar: egress_proxy must be set only with ALLOW_ANY outbound_traffic_policy mode',
    'L37 empty spec: sidecar: empty configuration provided',
  ]);
  assert.deepEqual(r.warnings.map(fmt), [

  ]);
  assert.equal(r.configs.length, 0);
});

const sc = (spec: string): string => `apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: s, namespace: shop}\nspec:\n${spec}`;

test('egress: at most one listener without port, and it comes last', () => {
  assert.deepEqual(errorsOf(sc('  egress:\n  - hosts: ["./*"]\n  - hosts: ["istio-system/*"]')), [
    'spec.egress[0]: sidecar: the egress listener with empty port should be the last listener in the list',
  ]);
  assert.deepEqual(errorsOf(sc('  egress:\n  - port: {number: 9080, protocol: HTTP, name: http}\n    bind: 127.0.0.2\n    captureMode: NONE\n    hosts: ["*/*"]\n  - hosts: ["./*"]')), []);
});

test('egress hosts: namespace/host form, duplicates warned, */* alone', () => {
  const y = sc('  egress:\n  - hosts: ["./a.example.com", "shop/a.example.com", "*/*", "~/b.example.com"]');
  assert.deepEqual(errorsOf(y), []);
  assert.deepEqual(warningsOf(y), ['spec.egress[0].hosts[1]: duplicated egress host: shop/a.example.com', 'spec.egress[0].hosts: `*/*` host select all resources, no other hosts can be added']);
});

test('unix domain socket listeners and defaultEndpoint forms', () => {
  assert.deepEqual(errorsOf(sc('  egress:\n  - port: {number: 0, protocol: HTTP, name: uds}\n    bind: 127.0.0.1\n    captureMode: IPTABLES\n    hosts: ["./*"]')), [
    'spec.egress[0].bind: sidecar: ports with 0 value must have a unix domain socket bind address',
    'spec.egress[0].captureMode: sidecar: captureMode must be DEFAULT/NONE for unix domain socket listeners',
  ]);
  for (const ep of ['127.0.0.1:8080', '[::1]:8080', ':8080', '0.0.0.0:8080', 'unix:///run/app.sock']) {
    assert.deepEqual(errorsOf(sc(`  ingress:\n  - port: {number: 9080, protocol: HTTP, name: http}\n    defaultEndpoint: "${ep}"`)), [], ep);
  }
  assert.deepEqual(errorsOf(sc('  ingress:\n  - port: {number: 9080, protocol: HTTP, name: http}\n    defaultEndpoint: "127.0.0.1:http"\n    tls: {mode: ISTIO_MUTUAL}')), [
    'spec.ingress[0].defaultEndpoint: sidecar: defaultEndpoint port (http) is not a number',
    'spec.ingress[0].tls.mode: configuration is invalid: cannot set mode to ISTIO_MUTUAL in sidecar ingress tls',
  ]);
});

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

test('bad/serviceentry.yaml: every error, with exact path, line and message', async () => {
  const r = await loadFile(fixture('bad/serviceentry.yaml'));
  assert.deepEqual(r.errors.map(fmt), [
    'L5 external spec: only one of WorkloadSelector or Endpoints is allowed in Service Entry',
    'L7 external spec.hosts[0]: invalid host *',
    'L9 external spec.addresses: CIDR addresses are allowed only for NONE/STATIC resolution types',
    'L11 external spec.addresses[1]: "not-an-ip" is not a valid IP address or CIDR',
    'L12 external spec.ports: multiple hosts provided with non-HTTP, non-TLS ports',
    'L16 external spec.ports[1].number: service entry port 80 already defined',
    'L17 external spec.ports[1].name: service entry port name "http" already defined',
    'L18 external spec.ports[1].protocol: unsupported protocol: WEIRD',
    'L19 external spec.ports[2].number: port number 70000 must be in the range 1..65535',
    'L20 external spec.ports[2].name: invalid port name: Bad_Name',
    'L28 external spec.endpoints[0].ports.grpc: endpoint port grpc is not defined by the service entry',
    'L42 static spec.endpoints[0].address: endpoint address "static.example.com" is not a valid IP address',
    'L43 static spec.endpoints[1].address: address is required',
    'L49 we spec.address: address is required',
    'L51 we spec.ports.http: port number 0 must be in the range 1..65535',
    'L53 we spec.labels["bad key!"]: invalid tag key: "bad key!"',
    'L54 we spec.weight: must be >= 0, got -1',
    'L60 wg spec.template: required field is missing',
    'L62 wg spec.probe.periodSeconds: periodSeconds must be non-negative',
    'L64 wg spec.probe.exec.command: exec.command is required',
    'L72 wg-address spec.template.address: address must not be set in a WorkloadGroup template: it comes from each registering workload',
  ]);
  assert.deepEqual(r.warnings.map(fmt), [
    'L22 external spec.workloadSelector: workloadSelector should not be set when resolution mode is DNS',
  ]);
  assert.equal(r.configs.length, 0);
});

const se = (spec: string): string => `apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: s}\nspec:\n${spec}`;
const ports = '  ports:\n  - {number: 80, name: http, protocol: HTTP}\n';

test('resolution: NONE takes no endpoints, STATIC needs IP endpoints (warned when none), DNS accepts hostnames', () => {
  assert.deepEqual(errorsOf(se(`  hosts: [a.example.com]\n${ports}  resolution: NONE\n  endpoints:\n  - address: 1.1.1.1`)), [
    'spec.endpoints: no endpoints should be provided for resolution type none',
  ]);
  assert.deepEqual(errorsOf(se(`  hosts: [a.example.com]\n${ports}  resolution: STATIC`)), []);
  assert.deepEqual(warningsOf(se(`  hosts: [a.example.com]\n${ports}  resolution: STATIC`)), ['spec: resolution STATIC without endpoints or workloadSelector: the service has no endpoints']);
  assert.deepEqual(errorsOf(se(`  hosts: [a.example.com]\n${ports}  resolution: DNS\n  endpoints:\n  - address: backend.example.com\n    ports: {http: 8080}`)), []);
  assert.deepEqual(errorsOf(se(`  hosts: ["*.example.com"]\n${ports}  resolution: DNS`)), ['spec.hosts[0]: hosts must be FQDN if no endpoints are provided for resolution mode DNS']);
  assert.deepEqual(errorsOf(se(`  hosts: [a.example.com]\n${ports}  resolution: DNS_ROUND_ROBIN\n  endpoints:\n  - address: a.example.com\n  - address: b.example.com`)), [
    'spec.endpoints: there must only be 0 or 1 endpoint for resolution mode DNS_ROUND_ROBIN',
  ]);
  assert.deepEqual(errorsOf(se(`  hosts: [a.example.com]\n${ports}  resolution: STATIC\n  endpoints:\n  - address: unix:///var/run/a.sock\n    ports: {http: 80}`)), [
    'spec.endpoints[0].ports: unix endpoint unix:///var/run/a.sock must not include ports',
  ]);
});

test('workload entries: address or network, IP or FQDN, locality shape', () => {
  const we = (spec: string): string => `apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: w}\nspec:\n${spec}`;
  assert.deepEqual(errorsOf(we('  network: remote')), []);
  assert.deepEqual(warningsOf(we('  network: remote')), ['spec.address: address is unset with network "remote"']);
  assert.deepEqual(errorsOf(we('  address: "bad address"\n  locality: "us//a"')), [
    'spec.address: endpoint address "bad address" is not a valid FQDN or an IP address',
    'spec.locality: locality "us//a" must be region[/zone[/subzone]]',
  ]);
});

test('workload groups: probes need exactly one method', () => {
  const wg = (probe: string): string => `apiVersion: networking.istio.io/v1\nkind: WorkloadGroup\nmetadata: {name: g}\nspec:\n  template: {serviceAccount: sa}\n  probe: ${probe}`;
  assert.deepEqual(errorsOf(wg('{tcpSocket: {port: 9080}}')), []);
  assert.deepEqual(errorsOf(wg('{periodSeconds: 3}')), ['spec.probe: probe must set one of httpGet, tcpSocket, exec, grpc']);
  assert.deepEqual(errorsOf(wg('{httpGet: {port: 80, scheme: FTP}, exec: {command: [a]}}')), [
    'spec.probe: only one of httpGet, tcpSocket, exec, grpc may be set, got httpGet and exec',
    'spec.probe.httpGet.scheme: httpGet.scheme must be one of "HTTPS", "HTTP"',
  ]);
});

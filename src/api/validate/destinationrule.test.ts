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

test('bad/destinationrule.yaml: every error, with exact path, line and message', async () => {
  const r = await loadFile(fixture('bad/destinationrule.yaml'));
  assert.deepEqual(r.errors.map(fmt), [
    'L5 reviews spec.host: required field is missing',
    'L7 reviews spec.trafficPolicy.loadBalancer: only one of simple, consistentHash may be set, got simple and consistentHash',
    'L9 reviews spec.trafficPolicy.loadBalancer.consistentHash: only one of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName may be set, got httpHeaderName and useSourceIp',
    'L9 reviews spec.trafficPolicy.loadBalancer.consistentHash: only one of ringHash, maglev may be set, got ringHash and maglev',
    'L15 reviews spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize: tableSize must be a prime number for maglev',
    'L18 reviews spec.trafficPolicy.connectionPool.tcp.maxConnections: max connections must be non-negative',
    'L19 reviews spec.trafficPolicy.connectionPool.tcp.connectTimeout: duration must be at least 1ms, got "0s"',
    'L20 reviews spec.trafficPolicy.connectionPool.http: use client protocol must not be true when H2UpgradePolicy is UPGRADE',
    'L24 reviews spec.trafficPolicy.outlierDetection.maxEjectionPercent: percentage 150 is not in range 0..100',
    'L25 reviews spec.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures: outlier detection consecutive local origin failures is specified, but split external local origin errors is set to false',
    'L26 reviews spec.trafficPolicy.tls.clientCertificate: client certificate required for mutual tls',
    'L26 reviews spec.trafficPolicy.tls.privateKey: private key required for mutual tls',
    'L34 reviews spec.trafficPolicy.portLevelSettings[1].port.number: duplicate port 80 in portLevelSettings',
    'L36 reviews spec.trafficPolicy.portLevelSettings[1].loadBalancer.simple: invalid value "BOGUS", must be one of UNSPECIFIED, LEAST_CONN, RANDOM, PASSTHROUGH, ROUND_ROBIN, LEAST_REQUEST',
    'L37 reviews spec.trafficPolicy.portLevelSettings[2].port: portTrafficPolicy must have valid port',
    'L43 reviews spec.subsets[1].name: duplicate subset names: v1',
    'L46 reviews spec.subsets[2].name: required field is missing',
    'L48 reviews spec.subsets[3].name: subset name is invalid: V_4',
  ]);
  assert.deepEqual(r.warnings.map(fmt), [

  ]);
  assert.equal(r.configs.length, 0);
});

const dr = (spec: string): string => `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: d, namespace: shop}\nspec:\n${spec}`;

test('subsets: names required, unique, DNS labels; empty labels allowed', () => {
  assert.deepEqual(errorsOf(dr('  host: r\n  subsets:\n  - name: v1\n  - name: v2\n    labels: {}')), []);
  assert.deepEqual(errorsOf(dr('  host: r\n  subsets:\n  - name: ""\n    labels: {"bad key": x}')), [
    'spec.subsets[0].name: subset name cannot be empty',
    'spec.subsets[0].labels["bad key"]: invalid tag key: "bad key"',
  ]);
});

test('load balancer: maglev table size, deprecated minimumRingSize conflicts, locality weights', () => {
  assert.deepEqual(errorsOf(dr('  host: r\n  trafficPolicy:\n    loadBalancer:\n      consistentHash:\n        useSourceIp: true\n        minimumRingSize: 10\n        maglev: {tableSize: 65537}')), [
    'spec.trafficPolicy.loadBalancer.consistentHash: only one of MinimumRingSize or Maglev/Ringhash can be specified',
  ]);
  assert.deepEqual(errorsOf(dr('  host: r\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        distribute:\n        - from: "us/*"\n          to: {"us/a/*": 60, "us/b/*": 30}\n        failover:\n        - {from: us, to: eu}')), [
    "spec.trafficPolicy.loadBalancer.localityLbSetting: can not simultaneously specify 'distribute' and 'failover'",
  ]);
  assert.deepEqual(errorsOf(dr('  host: r\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        distribute:\n        - from: "us/*"\n          to: {"us/a/*": 60, "us/b/*": 30}')), [
    'spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to: total locality weight 90 != 100',
  ]);
  assert.deepEqual(errorsOf(dr('  host: r\n  trafficPolicy:\n    outlierDetection: {consecutive5xxErrors: 1}\n    loadBalancer:\n      localityLbSetting:\n        failover:\n        - {from: us, to: us}\n        - {from: us/a, to: "eu*"}')), [
    'spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0]: locality lb failover settings must specify different regions',
    'spec.trafficPolicy.loadBalancer.localityLbSetting.failover[1]: locality lb failover only specify region',
    "spec.trafficPolicy.loadBalancer.localityLbSetting.failover[1]: locality lb failover region should not contain '*' wildcard",
  ]);
});

test('traffic policy shape: at least one field, tunnel vs proxyProtocol, TLS with credentialName, exportTo with selector', () => {
  assert.deepEqual(errorsOf(dr('  host: r\n  trafficPolicy: {}')), ['spec.trafficPolicy: traffic policy must have at least one field']);
  assert.deepEqual(errorsOf(dr('  host: r\n  trafficPolicy:\n    tunnel: {targetHost: "bad host", targetPort: 0, protocol: GET}\n    proxyProtocol: {version: V2}')), [
    'spec.trafficPolicy: tunnel and proxyProtocol must not be set together',
    'spec.trafficPolicy.tunnel.protocol: tunnel protocol must be "CONNECT" or "POST"',
    'spec.trafficPolicy.tunnel.targetHost: tunnel target host must be valid FQDN or IP address: domain name "bad host" invalid (label "bad host" invalid)',
    'spec.trafficPolicy.tunnel.targetPort: port number 0 must be in the range 1..65535',
  ]);
  assert.deepEqual(errorsOf(dr('  host: r\n  trafficPolicy:\n    tls: {mode: MUTUAL, credentialName: c, privateKey: /k}')), [
    'spec.trafficPolicy.tls: cannot specify client certificates or CA certificate or CA CRL If credentialName is set',
  ]);
  assert.deepEqual(errorsOf(dr('  host: r\n  workloadSelector: {labels: {app: a}}\n  exportTo: ["*"]')), [
    'spec.exportTo: destination rule with workload selector cannot have exportTo beyond current namespace',
  ]);
  assert.deepEqual(errorsOf(dr('  host: r\n  exportTo: [shop, ".", "*", bad_ns]')), [
    'spec.exportTo[1]: duplicate entries in exportTo: . and current namespace shop',
    'spec.exportTo[3]: only . or * or valid DNS 1123 label is allowed as exportTo entry, got "bad_ns"',
    'spec.exportTo: cannot have both public (*) and non-public exportTo values for a resource',
  ]);
});

test('deprecated and questionable settings are warnings, not errors', () => {
  const y = dr('  host: r\n  trafficPolicy:\n    outlierDetection: {consecutiveErrors: 5}\n    loadBalancer:\n      consistentHash: {minimumRingSize: 1024}');
  assert.deepEqual(errorsOf(y), []);
  assert.deepEqual(warningsOf(y), [
    'spec.trafficPolicy.outlierDetection.consecutiveErrors: consecutiveErrors is deprecated',
    'spec.trafficPolicy.loadBalancer.consistentHash.minimumRingSize: minimumRingSize is deprecated',
    'spec.trafficPolicy.loadBalancer.consistentHash: consistentHash sets none of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName: requests hash randomly',
  ]);
});

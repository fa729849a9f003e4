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

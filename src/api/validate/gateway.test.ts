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

test('bad/gateway.yaml: every error, with exact path, line and message', async () => {
  const r = await loadFile(fixture('bad/gateway.yaml'));
  assert.deepEqual(r.errors.map(fmt), [
    'L4 my.gateway metadata.name: invalid gateway name: "my.gateway"',
    'L9 my.gateway spec.servers[0].tls: server must have TLS settings for HTTPS/TLS protocols',
    'L14 my.gateway spec.servers[0].hosts[0]: invalid namespace value "bad_ns" in gateway',
    'L15 my.gateway spec.servers[0].hosts[1]: short names (non FQDN) are not allowed',
    'L18 my.gateway spec.servers[1].port.name: port names in servers must be unique: duplicate name https (also in spec.servers[0])',
    'L21 my.gateway spec.servers[1].tls.privateKey: MUTUAL TLS requires a private key (or credentialName)',
    'L21 my.gateway spec.servers[1].tls.caCertificates: MUTUAL TLS requires a client CA bundle (or credentialName)',
    'L24 my.gateway spec.servers[2].port.name: port name must be set',
    'L25 my.gateway spec.servers[2].port.number: port number 0 must be in the range 1..65535',
    'L26 my.gateway spec.servers[2].port.protocol: invalid protocol "FOO", supported protocols are HTTP, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP',
    'L27 my.gateway spec.servers[2].hosts: server config must contain at least one host',
    'L33 my.gateway spec.servers[3].tls: server cannot have TLS settings for non HTTPS/TLS ports',
  ]);
  assert.deepEqual(r.warnings.map(fmt), [
    'L34 my.gateway spec.servers[3].tls.httpsRedirect: tls.httpsRedirect should only be used with http servers',
  ]);
  assert.equal(r.configs.length, 0);
});

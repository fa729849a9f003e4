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

const gw = (servers: string): string => `apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: g}\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n${servers}`;
const https = (tls: string): string => gw(`  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [a.example.com]\n    tls: ${tls}`);

test('server TLS modes: SIMPLE/MUTUAL need certificates or credentialName; ISTIO_MUTUAL takes none', () => {
  assert.deepEqual(errorsOf(https('{mode: SIMPLE, credentialName: cert}')), []);
  assert.deepEqual(errorsOf(https('{mode: SIMPLE, serverCertificate: /c, privateKey: /k}')), []);
  assert.deepEqual(errorsOf(https('{mode: SIMPLE}')), [
    'spec.servers[0].tls.serverCertificate: SIMPLE TLS requires a server certificate (or credentialName)',
    'spec.servers[0].tls.privateKey: SIMPLE TLS requires a private key (or credentialName)',
  ]);
  assert.deepEqual(errorsOf(https('{mode: OPTIONAL_MUTUAL, credentialName: c, caCrl: /crl}')), [
    'spec.servers[0].tls.caCrl: CRL is not supported with credentialName. CRL has to be specified in the credential',
  ]);
  assert.deepEqual(errorsOf(https('{mode: ISTIO_MUTUAL, credentialName: c}')), ['spec.servers[0].tls.credentialName: ISTIO_MUTUAL TLS cannot have associated credentialName']);
  assert.deepEqual(errorsOf(https('{mode: SIMPLE, credentialName: c, minProtocolVersion: TLSV1_4}')), [
    'spec.servers[0].tls.minProtocolVersion: invalid value "TLSV1_4", must be one of TLS_AUTO, TLSV1_0, TLSV1_1, TLSV1_2, TLSV1_3',
  ]);
});

test('servers: required, hosts with namespace prefix or IP, HTTP with TLS settings', () => {
  assert.deepEqual(errorsOf('apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: g}\nspec: {}'), ['spec.servers: required field is missing']);
  assert.deepEqual(errorsOf(gw('  - port: {number: 80, name: http, protocol: http}\n    hosts: ["*/a.example.com", "./*", 10.0.0.1, "ns/*.b.example.com", "ns/a*.example.com"]')), [
    'spec.servers[0].hosts[4]: domain name "a*.example.com" invalid (label "a*" invalid)',
    'spec.servers[0].hosts[4]: partial wildcard "a*.example.com" not allowed',
  ]);
  assert.deepEqual(errorsOf(gw('  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ["*"]\n    tls: {mode: SIMPLE, serverCertificate: /c}')), [
    'spec.servers[0].tls.privateKey: SIMPLE TLS requires a private key (or credentialName)',
    'spec.servers[0].tls: server cannot have TLS settings for plain text HTTP ports',
  ]);
});

test('cipher suites: unknown or duplicate ones are warnings (Envoy ignores them)', () => {
  const y = https('{mode: SIMPLE, credentialName: c, minProtocolVersion: TLSV1_1, cipherSuites: [AES128-SHA, AES128-SHA, FOO-BAR, "-ALL"]}');
  assert.deepEqual(errorsOf(y), []);
  assert.deepEqual(warningsOf(y), ['spec.servers[0].tls.cipherSuites[1]: ignoring duplicate cipher suite: AES128-SHA', 'spec.servers[0].tls.cipherSuites[2]: ignoring invalid cipher suite: FOO-BAR']);
});

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

test('bad/security.yaml: every error, with exact path, line and message', async () => {
  const r = await loadFile(fixture('bad/security.yaml'));
  assert.deepEqual(r.errors.map(fmt), [
    'L7 default spec.mtls.mode: invalid value "STRICTEST", must be one of UNSET, DISABLE, PERMISSIVE, STRICT',
    'L8 default spec.portLevelMtls: mesh/namespace peer authentication cannot have port level mTLS',
    'L11 default spec.portLevelMtls["0"]: port must be in range 1..65535',
    'L18 bad spec: only one of targetRefs or workloadSelector can be set',
    'L18 bad spec.provider.name: `provider.name` must not be empty',
    'L21 bad spec.selector.matchLabels.app: wildcard is not supported in selector: "app=*"',
    'L21 bad spec.selector.matchLabels.app: invalid tag value: "*"',
    'L23 bad spec.targetRefs[0]: targetRef must be to one of Service, networking.istio.io/ServiceEntry, gateway.networking.k8s.io/Gateway but was /Deployment',
    'L25 bad spec.targetRefs[0].namespace: targetRef namespace must not be set; cross namespace referencing is not supported',
    'L30 bad spec.rules[0].from[0].source.ipBlocks[0]: bad CIDR range (10.0.0.0/33)',
    'L30 bad spec.rules[0].from[0].source.ipBlocks[1]: bad IP address (not-ip)',
    'L31 bad spec.rules[0].from[0].source.namespaces: From.Namespaces is currently not supported with CUSTOM action',
    'L32 bad spec.rules[0].from[1].source: `from.source` must not be nil, found at rule 0',
    'L35 bad spec.rules[0].to[0].operation.ports[0]: bad port (http): must be a number in 0..65535',
    'L36 bad spec.rules[0].to[0].operation.paths[0]: invalid or unsupported path template, found in Paths',
    'L37 bad spec.rules[0].to[0].operation.methods[0]: empty value not allowed, found in Methods',
    'L38 bad spec.rules[0].to[1].operation: `to.operation` must not be empty, found at rule 0',
    'L41 bad spec.rules[0].when[0].values: invalid `value` for `key` request.headers: bad key (request.headers): should have format a[b]',
    'L42 bad spec.rules[0].when[1]: at least one of `values` or `notValues` must be set for key source.ip',
    'L44 bad spec.rules[0].when[2].values: invalid `value` for `key` destination.labels[app]: attribute destination.labels[app] is replaced by the workload selector',
    'L46 bad spec.rules[0].when[3].values: invalid `value` for `key` foo.bar: unknown attribute: foo.bar',
    'L52 deny-nothing spec.rules: DENY action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request',
    'L54 deny-nothing spec.provider: `provider` must not be with non CUSTOM action, found DENY',
    'L63 bad spec.jwtRules[0].issuer: issuer must be set',
    'L64 bad spec.jwtRules[0].audiences[0]: audience must be non-empty string',
    'L65 bad spec.jwtRules[0].jwksUri: URI scheme "ftp" is not supported',
    'L66 bad spec.jwtRules[0].jwks: jwks parse error: Expected property name or \'}\' in JSON at position 1',
    'L68 bad spec.jwtRules[0].fromHeaders[0].name: required field is missing',
    'L69 bad spec.jwtRules[0].fromParams[0]: location query must be non-empty string',
    'L71 bad spec.jwtRules[0].outputClaimToHeaders[0].header: header name bad header is not a valid header name',
    'L73 bad spec.jwtRules[0].timeout: duration must be at least 1ms, got "0s"',
    'L74 bad spec.jwtRules[1].issuer: required field is missing',
  ]);
  assert.deepEqual(r.warnings.map(fmt), [
    'L63 bad spec.jwtRules[0]: both jwks and jwksUri are set; jwks is used and jwksUri is ignored',
  ]);
  assert.equal(r.configs.length, 0);
});

const ap = (spec: string): string => `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: a}\nspec:\n${spec}`;

test('AuthorizationPolicy: empty spec denies nothing (allow-nothing is valid); CUSTOM requires a provider', () => {
  assert.deepEqual(errorsOf(ap('  {}')), []);
  assert.deepEqual(errorsOf(ap('  action: ALLOW\n  rules: [{}]')), []);
  assert.deepEqual(errorsOf(ap('  action: CUSTOM\n  rules: [{}]')), ['spec.provider.name: `provider.name` must not be empty']);
  assert.deepEqual(errorsOf(ap('  action: AUDIT\n  rules: [{}]\n  provider: {name: x}')), ['spec.provider: `provider` must not be with non CUSTOM action, found AUDIT']);
  assert.deepEqual(errorsOf(ap('  action: MAYBE')), ['spec.action: invalid value "MAYBE", must be one of ALLOW, DENY, AUDIT, CUSTOM']);
});

test('AuthorizationPolicy when-conditions: known keys and value formats', () => {
  const when = (key: string, values: string): string[] => errorsOf(ap(`  rules:\n  - when:\n    - key: ${key}\n      values: ${values}`));
  assert.deepEqual(when('request.auth.claims[groups]', '[admin]'), []);
  assert.deepEqual(when('remote.ip', '["10.0.0.0/16", 1.2.3.4]'), []);
  assert.deepEqual(when('connection.sni', '[a.example.com]'), []);
  assert.deepEqual(when('experimental.envoy.filters.a[b]', '[x]'), []);
  assert.deepEqual(when('destination.ip', '["10.0.0.0/99"]'), ['spec.rules[0].when[0].values: invalid `value` for `key` destination.ip: bad CIDR range (10.0.0.0/99)']);
  assert.deepEqual(when('destination.port', '["99999"]'), ['spec.rules[0].when[0].values: invalid `value` for `key` destination.port: bad port (99999)']);
  assert.deepEqual(when('destination.namespace', '[x]'), ['spec.rules[0].when[0].values: invalid `value` for `key` destination.namespace: attribute destination.namespace is replaced by the metadata.namespace']);
  assert.deepEqual(when('request.headers[x-a]', '[""]'), ['spec.rules[0].when[0].values: invalid `value` for `key` request.headers[x-a]: empty value not allowed, found in request.headers[x-a]']);
});

test('AuthorizationPolicy DENY on HTTP-only attributes warns about TCP ports', () => {
  const y = ap('  action: DENY\n  rules:\n  - to:\n    - operation: {methods: [POST]}');
  assert.deepEqual(errorsOf(y), []);
  assert.deepEqual(warningsOf(y), [
    'spec.rules[0]: configured AuthorizationPolicy will deny all traffic to TCP ports under its scope due to the use of only HTTP attributes in a DENY rule; it is recommended to explicitly specify the port',
  ]);
});

test('PeerAuthentication: port-level mTLS needs a workload selector; mode enum', () => {
  const pa = (spec: string): string => `apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata: {name: p}\nspec:\n${spec}`;
  assert.deepEqual(errorsOf(pa('  selector: {matchLabels: {app: a}}\n  portLevelMtls:\n    8080: {mode: DISABLE}')), []);
  assert.deepEqual(errorsOf(pa('  portLevelMtls:\n    8080: {mode: DISABLE}')), ['spec.portLevelMtls: mesh/namespace peer authentication cannot have port level mTLS']);
  assert.deepEqual(errorsOf(pa('  selector: {matchLabels: {app: a}}\n  portLevelMtls: {}')), ['spec.portLevelMtls: port level mTLS, if defined, must have at least one element']);
});

test('RequestAuthentication: jwks must be a JWK set; selector and targetRefs are exclusive', () => {
  const ra = (spec: string): string => `apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: r}\nspec:\n${spec}`;
  assert.deepEqual(errorsOf(ra("  jwtRules:\n  - issuer: i\n    jwks: '{\"keys\": [{\"use\": \"sig\"}]}'")), ['spec.jwtRules[0].jwks: jwks parse error: every key needs a "kty"']);
  assert.deepEqual(errorsOf(ra('  selector: {matchLabels: {app: a}}\n  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: gw}]\n  jwtRules:\n  - issuer: i\n    jwksUri: "https://i/jwks"')), [
    'spec: only one of targetRefs or workloadSelector can be set',
  ]);
  assert.deepEqual(warningsOf(ra('  selector: {matchLabels: {}}')), ['spec.selector.matchLabels: workload selector specified without labels; request authentication applies to all workloads in the namespace']);
});

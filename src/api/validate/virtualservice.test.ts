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

test('bad/virtualservice.yaml: every error, with exact path, line and message', async () => {
  const r = await loadFile(fixture('bad/virtualservice.yaml'));
  assert.deepEqual(r.errors.map(fmt), [
    'L8 reviews spec.hosts[1]: duplicate hosts in virtual service: reviews & *',
    'L10 reviews spec.gateways[0]: invalid value for namespace: "bad_ns"',
    'L13 reviews spec.http[0].match[0].uri: only one of exact, prefix, regex may be set, got exact and prefix',
    'L17 reviews spec.http[0].match[0].headers["bad header"]: header name bad header is not a valid header name',
    'L18 reviews spec.http[0].match[0].headers["bad header"].regex: invalid regex "a(?=b)": invalid perl operator: (?=; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)',
    'L23 reviews spec.http[0].route[0].destination.hots: unknown field',
    'L29 reviews spec.http[0].timeout: timeout must be at least 1ms, got "0.5ms"',
    'L31 reviews spec.http[0].retries.attempts: attempts cannot be negative',
    'L32 reviews spec.http[0].retries.perTryTimeout: invalid duration "1x"',
    'L33 reviews spec.http[0].retries.retryOn: "bogus" is not a valid retryOn policy',
    'L36 reviews spec.http[0].fault.abort.httpStatus: HTTP status 700 is not in range 200-599',
    'L38 reviews spec.http[0].fault.abort.percentage.value: percentage 101 is neither 0.0, nor in range [0.0001, 100.0]',
    'L39 reviews spec.http[0].fault.delay: delay must set fixedDelay',
    'L43 reviews spec.http[0].mirrorPercentage.value: mirror_percentage must be in range 0..100 (it has 150)',
    'L45 reviews spec.http[0].corsPolicy.allowMethods[0]: "FETCH" is not a supported HTTP method',
    'L46 reviews spec.http[0].corsPolicy.maxAge: max_age duration is accurate only to seconds precision',
    'L47 reviews spec.http[1]: HTTP route cannot contain both route and redirect',
    'L49 reviews spec.http[1].redirect.redirectCode: 200 is not a valid redirect code, must be 3xx',
    'L54 reviews spec.http[2].directResponse.status: HTTP status 99 is not in range 200-599',
    'L55 reviews spec.http[3].rewrite: rewrite may only contain one of URI or UriRegexRewrite',
    'L58 reviews spec.http[3].rewrite.uriRegexRewrite.match: invalid regex "([": missing ]: [; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)',
    'L62 reviews spec.http[3].route[0].destination.host: invalid destination host *',
    'L64 reviews spec.http[3].route[0].destination.port.number: port number 70000 must be in the range 1..65535',
    'L65 reviews spec.http[4]: HTTP route, redirect, direct response or delegate is required',
    'L68 reviews spec.tls[0].match[0].sniHosts: required field is missing',
    'L73 reviews spec.tcp[0].route: TCP route is required',
    'L74 reviews spec.tcp[0].match[0].destinationSubnets[0]: "10.0.0.0/40" is not a valid CIDR (prefix length must be 0..32)',
  ]);
  assert.deepEqual(r.warnings.map(fmt), [
    'L19 reviews spec.http[0].route: weights sum to 90, not 100: traffic is split in proportion to them',
    'L53 reviews spec.http[2]: virtualService rule #2 not used (only the last rule can have no matches)',
    'L55 reviews spec.http[3]: virtualService rule #3 not used (only the last rule can have no matches)',
    'L65 reviews spec.http[4]: virtualService rule #4 not used (only the last rule can have no matches)',
  ]);
  assert.equal(r.configs.length, 0);
});

const vs = (spec: string, meta = 'name: r'): string => `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {${meta}}\nspec:\n${spec}`;

test('weights: one destination needs none; several are proportions with a non-zero total; each 0..100', () => {
  assert.deepEqual(errorsOf(vs('  hosts: [r]\n  http:\n  - route:\n    - destination: {host: r}')), []);
  assert.deepEqual(errorsOf(vs('  hosts: [r]\n  http:\n  - route:\n    - destination: {host: r, subset: a}\n      weight: 20\n    - destination: {host: r, subset: b}\n      weight: 80')), []);
  assert.deepEqual(errorsOf(vs('  hosts: [r]\n  http:\n  - route:\n    - destination: {host: r, subset: a}\n    - destination: {host: r, subset: b}')), [
    'spec.http[0].route: total destination weight = 0: set a weight on each destination',
  ]);
  assert.deepEqual(errorsOf(vs('  hosts: [r]\n  tcp:\n  - route:\n    - destination: {host: r}\n      weight: 120\n    - destination: {host: s}\n      weight: -20')), [
    'spec.tcp[0].route[0].weight: weight 120 must be in range 0..100',
    'spec.tcp[0].route[1].weight: weight -20 must be in range 0..100',
  ]);
});

test('delegate virtual services: no hosts, no gateways/tls/tcp, no nested delegate, no regex matches in the chain', () => {
  assert.deepEqual(errorsOf(vs('  gateways: [mesh]\n  http:\n  - delegate: {name: x}\n  tcp:\n  - route:\n    - destination: {host: r}')), [
    'spec.gateways: delegate virtual service must have no gateways specified',
    'spec.http[0].delegate: delegate HTTP route cannot contain delegate',
    'spec.http[0]: HTTP route, redirect, direct response or delegate is required',
    'spec.tcp: delegate virtual service must have no tcp route specified',
  ]);
  assert.deepEqual(errorsOf(vs('  hosts: [r]\n  http:\n  - match:\n    - uri: {regex: "/a.*"}\n    delegate: {name: child, namespace: ns}\n    route:\n    - destination: {host: r}')), [
    'spec.http[0].match[0].uri.regex: url match does not support regex match for delegating',
    'spec.http[0].route: root HTTP route must not specify route',
  ]);
});

test('hosts: wildcard * only on gateways, duplicates (including wildcard overlap), IPs allowed', () => {
  assert.deepEqual(errorsOf(vs('  hosts: ["*"]\n  http:\n  - route:\n    - destination: {host: r}')), [
    'spec.hosts[0]: wildcard host * is not allowed for virtual services bound to the mesh gateway',
  ]);
  assert.deepEqual(errorsOf(vs('  hosts: ["*"]\n  gateways: [istio-system/gw]\n  http:\n  - route:\n    - destination: {host: r}')), []);
  assert.deepEqual(errorsOf(vs('  hosts: ["*.example.com", a.example.com, 10.0.0.1, bad_host]\n  http:\n  - route:\n    - destination: {host: r}')), [
    'spec.hosts[3]: domain name "bad_host" invalid (label "bad_host" invalid)',
  ]);
  assert.deepEqual(errorsOf(vs('  hosts: ["*.example.com", a.example.com]\n  http:\n  - route:\n    - destination: {host: r}')), [
    'spec.hosts[1]: duplicate hosts in virtual service: *.example.com & a.example.com',
  ]);
});

test('matches: RE2 syntax (not JavaScript), header names, JWT claim routing only on gateways', () => {
  assert.deepEqual(errorsOf(vs('  hosts: [r]\n  http:\n  - match:\n    - uri: {regex: "(?i)^/API/[a-z]+$"}\n      queryParams: {q: {regex: "\\\\d+"}}\n    route:\n    - destination: {host: r}')), []);
  assert.deepEqual(errorsOf(vs('  hosts: [r]\n  http:\n  - match:\n    - uri: {regex: "(?<=a)b"}\n      authority: {regex: ""}\n    route:\n    - destination: {host: r}')), [
    'spec.http[0].match[0].uri.regex: invalid regex "(?<=a)b": invalid perl operator: (?<; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)',
    'spec.http[0].match[0].authority.regex: regex string match should not be empty',
  ]);
  const claim = '  http:\n  - match:\n    - headers:\n        "@request.auth.claims.groups": {exact: admin}\n    route:\n    - destination: {host: r}';
  assert.deepEqual(errorsOf(vs(`  hosts: [r]\n${claim}`)), [
    'spec.http[0].match[0].headers["@request.auth.claims.groups"]: JWT claim based routing (key: @request.auth.claims.groups) is only supported for gateway, found no gateways',
  ]);
  assert.deepEqual(errorsOf(vs(`  hosts: [r.example.com]\n  gateways: [ns/gw]\n${claim}`)), []);
});

test('rewrite, redirect, mirrors, header operations', () => {
  const route = '    route:\n    - destination: {host: r}';
  assert.deepEqual(errorsOf(vs(`  hosts: [r]\n  http:\n  - rewrite:\n      uriRegexRewrite: {match: "^/a"}\n${route}`)), [
    'spec.http[0].rewrite.uriRegexRewrite: UriRegexRewrite requires both Rewrite and Match fields to be specified',
  ]);
  assert.deepEqual(errorsOf(vs('  hosts: [r]\n  http:\n  - redirect: {redirectCode: 301}')), ['spec.http[0].redirect: redirect must specify URI, authority, scheme, or port']);
  assert.deepEqual(errorsOf(vs('  hosts: [r]\n  http:\n  - redirect: {port: 8080, derivePort: FROM_REQUEST_PORT}')), [
    'spec.http[0].redirect: only one of port, derivePort may be set, got port and derivePort',
  ]);
  assert.deepEqual(errorsOf(vs(`  hosts: [r]\n  http:\n  - mirror: {host: m}\n    mirrors:\n    - destination: {host: n}\n      percentage: {value: 120}\n${route}`)), [
    'spec.http[0]: only one of mirror or mirrors can be specified',
    'spec.http[0].mirrors[0].percentage.value: mirror percentage must be in range 0..100 (it has 120)',
  ]);
  const headers = '    headers:\n      request:\n        set: {":path": /x, host: h, x-ok: "%DOWNSTREAM_REMOTE_ADDRESS%"}\n        add: {x-bad: "50%"}\n      response:\n        remove: [Host]';
  assert.deepEqual(errorsOf(vs(`  hosts: [r]\n  http:\n  - rewrite: {authority: a}\n${headers}\n${route}`)), [
    'spec.http[0].headers.request.set[":path"]: invalid header ":path": header cannot have ":" prefix',
    'spec.http[0].headers.request.set.host: authority header cannot be set multiple times: have "a", attempting to set "h"',
    'spec.http[0].headers.request.add["x-bad"]: header value configuration "50%" is invalid: unterminated variable expression (write %% for a literal %)',
    'spec.http[0].headers.response.remove[0]: invalid header "Host": cannot set Host header',
  ]);
});

test('TLS routes: SNI hosts must be covered by the virtual service hosts', () => {
  const tls = (sni: string): string => vs(`  hosts: ["*.example.com"]\n  tls:\n  - match:\n    - sniHosts: [${sni}]\n    route:\n    - destination: {host: db}`);
  assert.deepEqual(errorsOf(tls('a.example.com')), []);
  assert.deepEqual(errorsOf(tls('a.other.com')), ['spec.tls[0].match[0].sniHosts[0]: SNI host "a.other.com" is not a compatible subset of any of the virtual service hosts: [*.example.com]']);
  assert.deepEqual(errorsOf(tls('')), ['spec.tls[0].match[0].sniHosts: TLS match must have at least one SNI host']);
});

test('Istio warnings: unreachable rules, legacy gateway names, deprecated fields (accepted, not rejected)', () => {
  const y = vs('  hosts: [r]\n  gateways: [gw.istio-system]\n  http:\n  - match:\n    - uri: {prefix: /a}\n    route:\n    - destination: {host: r}\n  - match:\n    - uri: {prefix: /a}\n    mirrorPercent: 10\n    route:\n    - destination: {host: r}');
  assert.deepEqual(errorsOf(y), []);
  assert.deepEqual(warningsOf(y), [
    'spec.gateways[0]: using legacy gatewayName format "gw.istio-system"; prefer the <namespace>/<name> format: "istio-system/gw"',
    'spec.http[1]: virtualService rule #1 not used (all matches used by prior rules)',
    'spec.http[1].match[0]: virtualService rule #1 match #0 is not used (duplicate/overlapping match in rule #0)',
    'spec.http[1].mirrorPercent: mirrorPercent is deprecated',
  ]);
});

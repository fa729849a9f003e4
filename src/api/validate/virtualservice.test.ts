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
    'L19 reviews spec.http[0].route: weights must sum to 100, got 90',
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
    'L68 reviews spec.tls[0].match[0].sniHosts: TLS match must have at least one SNI host',
    'L73 reviews spec.tcp[0].route: TCP route is required',
    'L74 reviews spec.tcp[0].match[0].destinationSubnets[0]: "10.0.0.0/40" is not a valid CIDR (prefix length must be 0..32)',
  ]);
  assert.deepEqual(r.warnings.map(fmt), [
    'L53 reviews spec.http[2]: virtualService rule #2 not used (only the last rule can have no matches)',
    'L55 reviews spec.http[3]: virtualService rule #3 not used (only the last rule can have no matches)',
    'L65 reviews spec.http[4]: virtualService rule #4 not used (only the last rule can have no matches)',
  ]);
  assert.equal(r.configs.length, 0);
});

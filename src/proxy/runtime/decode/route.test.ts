// RouteConfiguration decoding: virtual host selection order, route matches, actions, header mutations, per-filter
// configs, and the exact field paths of refused content.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TypeUrl } from '../../../xds/types.js';
import { headerMatches, queryParamMatches } from '../match.js';
import type { RouteAction, RouteTable } from '../types.js';
import { decodeRouteConfiguration } from './route.js';
import { T, enc, errs, ok, opaqueAny, testCtx } from './testing.js';

const R = TypeUrl.RouteConfiguration;
const decode = (o: object): ReturnType<typeof decodeRouteConfiguration> => decodeRouteConfiguration(enc(R, o), testCtx);
const vh = (name: string, domains: string[], routes: object[] = [{ match: { prefix: '/' }, route: { cluster: name } }], extra: object = {}): object => ({ name, domains, routes, ...extra });
const table = (vhosts: object[], extra: object = {}): RouteTable => ok(decode({ name: 'r', virtual_hosts: vhosts, ...extra }));
const action = (rt: RouteTable, host = 'x', i = 0): RouteAction => {
  const a = rt.findVirtualHost(host)?.routes[i]?.action;
  assert.ok(a?.type === 'route', `route ${i} of ${host} is a route action`);
  return a;
};

test('virtual host selection: exact > longest suffix wildcard > longest prefix wildcard > *', () => {
  const rt = table([
    vh('default', ['*']),
    vh('exact', ['api.example.com', 'API.other.com:8080']),
    vh('suffix-short', ['*.com']),
    vh('suffix-long', ['*.example.com']),
    vh('suffix-dash', ['*-internal.example.com']),
    vh('prefix-short', ['api.*']),
    vh('prefix-long', ['api.example.*']),
  ]);
  const pick = (h: string): string | undefined => rt.findVirtualHost(h)?.name;
  assert.equal(pick('api.example.com'), 'exact');
  assert.equal(pick('API.Example.COM'), 'exact', 'case-insensitive');
  assert.equal(pick('api.other.com:8080'), 'exact', 'ports are part of the host unless ignored');
  assert.equal(pick('www.example.com'), 'suffix-long');
  assert.equal(pick('db-internal.example.com'), 'suffix-dash');
  assert.equal(pick('foo.com'), 'suffix-short');
  assert.equal(pick('api.example.org'), 'prefix-long');
  assert.equal(pick('api.net'), 'prefix-short');
  assert.equal(pick('example.com'), 'suffix-short');
  assert.equal(pick('.example.com'), 'suffix-short', 'a wildcard matches at least one character');
  assert.equal(pick('other'), 'default');
  assert.equal(pick('api.example.com:80'), 'prefix-long', 'with the port, only a prefix wildcard matches');
  const ignore = table([vh('exact', ['a.example.com']), vh('v6', ['[::1]'])], { ignore_port_in_host_matching: true });
  assert.equal(ignore.findVirtualHost('a.example.com:9080')?.name, 'exact');
  assert.equal(ignore.findVirtualHost('[::1]:80')?.name, 'v6');
  assert.equal(ignore.findVirtualHost('b.example.com'), undefined, 'no default virtual host: no match');
  assert.equal(ignore.ignorePortInHostMatching, true);
});

test('duplicate domains and missing names are refused with paths', () => {
  assert.deepEqual(errs(decode({ name: 'r', virtual_hosts: [vh('a', ['a.com', '*']), vh('b', ['A.com', '*.b.com']), vh('c', ['*.b.com', '*']), { domains: [] }] })), [
    'route r: virtual_hosts[3].name: virtual host name is required',
    'route r: virtual_hosts[3].domains: at least one domain is required',
    'route r: virtual_hosts[1].domains[0]: duplicate domain "A.com" (only unique domains are permitted)',
    'route r: virtual_hosts[2].domains[0]: duplicate domain "*.b.com" (only unique domains are permitted)',
    'route r: virtual_hosts[2].domains[1]: duplicate domain "*" (only unique domains are permitted)',
  ]);
});

test('path matches: prefix, exact, RE2 full match, separated prefix, case-insensitive, CONNECT', () => {
  const rt = table([
    vh('x', ['*'], [
      { match: { prefix: '/api' }, route: { cluster: 'a' } },
      { match: { path: '/Exact', case_sensitive: { value: false } }, route: { cluster: 'b' } },
      { match: { safe_regex: { regex: '/re/[0-9]+' } }, route: { cluster: 'c' } },
      { match: { path_separated_prefix: '/sep' }, route: { cluster: 'd' } },
      { match: { prefix: '/CI', case_sensitive: { value: false } }, route: { cluster: 'e' } },
      { match: { connect_matcher: {} }, route: { cluster: 'f' } },
    ]),
  ]);
  const m = (i: number): NonNullable<RouteTable['virtualHosts'][number]['routes'][number]['match']> => {
    const r = rt.virtualHosts[0]?.routes[i];
    assert.ok(r);
    return r.match;
  };
  assert.equal(m(0).path?.test('/api/v1'), true);
  assert.equal(m(0).path?.test('/ap'), false);
  assert.equal(m(1).path?.test('/exact'), true);
  assert.equal(m(1).path?.test('/exact/'), false);
  assert.equal(m(1).caseSensitive, false);
  assert.equal(m(2).path?.kind, 'regex');
  assert.equal(m(2).path?.test('/re/123'), true);
  assert.equal(m(2).path?.test('/re/123/x'), false, 'safe_regex is a full match');
  assert.equal(m(2).path?.test('x/re/1'), false);
  assert.equal(m(3).path?.test('/sep'), true);
  assert.equal(m(3).path?.test('/sep/a'), true);
  assert.equal(m(3).path?.test('/separate'), false);
  assert.equal(m(4).path?.test('/ci/x'), true);
  assert.equal(m(4).path?.test('/cI'), true);
  assert.equal(m(5).connect, true);
  assert.equal(m(5).path, undefined);
});

test('header and query matchers with Envoy semantics for absent headers, invert, present, range', () => {
  const rt = table([
    vh('x', ['*'], [
      {
        match: {
          prefix: '/',
          headers: [
            { name: 'End-User', string_match: { exact: 'jason' } },
            { name: 'x-ci', string_match: { exact: 'ABC', ignore_case: true } },
            { name: 'x-suffix', string_match: { suffix: '.com' } },
            { name: 'x-contains', string_match: { contains: 'mid', ignore_case: true } },
            { name: 'x-re', string_match: { safe_regex: { regex: 'v[0-9]' } } },
            { name: 'x-skip', string_match: { exact: 'yes' }, invert_match: true, treat_missing_header_as_empty: true },
            { name: 'x-present', present_match: true },
            { name: 'x-absent', present_match: false },
            { name: 'x-range', range_match: { start: '10', end: '20' } },
            { name: 'x-legacy', exact_match: 'old' },
            { name: 'x-inv-present', present_match: true, invert_match: true },
          ],
          query_parameters: [{ name: 'debug', string_match: { exact: '1' } }, { name: 'trace', present_match: true }],
          runtime_fraction: { default_value: { numerator: 25, denominator: 'HUNDRED' }, runtime_key: 'k' },
          grpc: {},
        },
        route: { cluster: 'a' },
      },
    ]),
  ]);
  const match = rt.virtualHosts[0]?.routes[0]?.match;
  assert.ok(match);
  const [user, ci, suffix, contains, re, skip, present, absent, range, legacy, invPresent] = match.headers;
  assert.ok(user && ci && suffix && contains && re && skip && present && absent && range && legacy && invPresent);
  assert.equal(user.name, 'end-user');
  assert.equal(headerMatches(user, 'jason'), true);
  assert.equal(headerMatches(user, 'Jason'), false);
  assert.equal(headerMatches(user, undefined), false);
  assert.equal(headerMatches(ci, 'abc'), true);
  assert.equal(headerMatches(suffix, 'a.com'), true);
  assert.equal(headerMatches(contains, 'xxMIDxx'), true);
  assert.equal(headerMatches(re, 'v1'), true);
  assert.equal(headerMatches(re, 'v12'), false);
  assert.equal(headerMatches(skip, undefined), true, 'missing treated as "" which is not "yes", inverted');
  assert.equal(headerMatches(skip, 'yes'), false);
  assert.equal(headerMatches(present, ''), true);
  assert.equal(headerMatches(present, undefined), false);
  assert.equal(headerMatches(absent, undefined), true);
  assert.equal(headerMatches(absent, 'x'), false);
  assert.equal(headerMatches(range, '15'), true);
  assert.equal(headerMatches(range, '20'), false);
  assert.equal(headerMatches(range, '1x'), false);
  assert.equal(headerMatches(legacy, 'old'), true);
  assert.equal(headerMatches(invPresent, undefined), true);
  assert.equal(headerMatches(invPresent, 'x'), false);
  const [debug, trace] = match.queryParams;
  assert.ok(debug && trace);
  assert.equal(queryParamMatches(debug, '1'), true);
  assert.equal(queryParamMatches(debug, '2'), false);
  assert.equal(queryParamMatches(trace, ''), true);
  assert.equal(queryParamMatches(trace, undefined), false);
  assert.equal(match.fraction, 0.25);
  assert.equal(match.grpc, true);
});

test('route actions: clusters, timeouts, retries, rewrites, mirrors, hash policies, upgrades, gRPC timeouts', () => {
  const rt = table([
    vh('x', ['*'], [
      {
        name: 'full',
        match: { prefix: '/service' },
        route: {
          cluster: 'outbound|9080||reviews',
          timeout: { seconds: 3 },
          idle_timeout: { seconds: 60 },
          retry_policy: {
            retry_on: '5xx, gateway-error,retriable-status-codes',
            num_retries: { value: 3 },
            per_try_timeout: { nanos: 500_000_000 },
            retriable_status_codes: [502, 503],
            retry_back_off: { base_interval: { nanos: 100_000_000 } },
            retry_host_predicate: [{ name: 'envoy.retry_host_predicates.previous_hosts', typed_config: { '@type': T.previousHosts } }],
            host_selection_retry_max_attempts: '5',
          },
          regex_rewrite: { pattern: { regex: '^/service/([^/]+)(/.*)$' }, substitution: '\\2/instance/\\1' },
          host_rewrite_literal: 'reviews-internal',
          request_mirror_policies: [{ cluster: 'mirror', runtime_fraction: { default_value: { numerator: 250_000, denominator: 'MILLION' } } }, { cluster: 'all' }],
          hash_policy: [{ header: { header_name: 'X-User' } }, { cookie: { name: 'session', ttl: { seconds: 60 }, path: '/' }, terminal: true }, { connection_properties: { source_ip: true } }, { query_parameter: { name: 'q' } }],
          upgrade_configs: [{ upgrade_type: 'WebSocket' }, { upgrade_type: 'h2c', enabled: { value: false } }],
          max_stream_duration: { grpc_timeout_header_max: { seconds: 10 } },
        },
      },
      { match: { prefix: '/w' }, route: { weighted_clusters: { clusters: [{ name: 'v1', weight: { value: 80 }, host_rewrite_literal: 'v1.example.com', request_headers_to_add: [{ header: { key: 'x-dest', value: 'v1' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }] }, { name: 'v2', weight: { value: 20 } }] }, prefix_rewrite: '/api', auto_host_rewrite: { value: true }, max_grpc_timeout: { seconds: 0 } } },
      { match: { prefix: '/h' }, route: { cluster_header: 'X-Cluster' } },
    ]),
  ]);
  const a = action(rt);
  assert.equal(a.cluster, 'outbound|9080||reviews');
  assert.equal(a.timeoutMs, 3000);
  assert.equal(a.idleTimeoutMs, 60_000);
  assert.ok(a.retry);
  assert.deepEqual([...a.retry.retryOn], ['5xx', 'gateway-error', 'retriable-status-codes']);
  assert.equal(a.retry.numRetries, 3);
  assert.equal(a.retry.perTryTimeoutMs, 500);
  assert.deepEqual([...a.retry.retriableStatusCodes], [502, 503]);
  assert.equal(a.retry.backoffBaseMs, 100);
  assert.equal(a.retry.backoffMaxMs, 1000);
  assert.equal(a.retry.previousHosts, true);
  assert.equal(a.retry.hostSelectionRetryMaxAttempts, 5);
  assert.equal(a.regexRewrite?.replace('/service/foo/v1/api'), '/v1/api/instance/foo');
  assert.equal(a.regexRewrite?.replace('/other'), '/other');
  assert.equal(a.hostRewriteLiteral, 'reviews-internal');
  assert.deepEqual(a.mirrors, [{ cluster: 'mirror', fraction: 0.25 }, { cluster: 'all', fraction: 1 }]);
  assert.deepEqual(a.hashPolicies, [
    { kind: 'header', name: 'x-user', terminal: false },
    { kind: 'cookie', name: 'session', terminal: true, cookieTtlMs: 60_000, cookiePath: '/' },
    { kind: 'source_ip', name: '', terminal: false },
    { kind: 'query_parameter', name: 'q', terminal: false },
  ]);
  assert.deepEqual(a.upgradeTypes, ['websocket']);
  assert.equal(a.grpcTimeoutHeaderMaxMs, 10_000);

  const w = action(rt, 'x', 1);
  assert.equal(w.cluster, undefined);
  assert.equal(w.weightedClusters?.totalWeight, 100);
  assert.deepEqual(w.weightedClusters.clusters.map((c) => [c.name, c.weight, c.hostRewriteLiteral]), [['v1', 80, 'v1.example.com'], ['v2', 20, undefined]]);
  assert.deepEqual(w.weightedClusters.clusters[0]?.headers.requestAdd, [{ name: 'x-dest', value: 'v1', action: 'overwrite_or_add', dynamic: false }]);
  assert.equal(w.prefixRewrite, '/api');
  assert.equal(w.autoHostRewrite, true);
  assert.equal(w.grpcTimeoutHeaderMaxMs, 0);
  assert.equal(w.timeoutMs, 15_000, "Envoy's default route timeout");
  assert.equal(w.retry, undefined);
  assert.equal(action(rt, 'x', 2).clusterHeader, 'x-cluster');
});

test('redirects, direct responses, header mutations at every level, per-filter configs, virtual host policies', () => {
  const rt = table(
    [
      vh(
        'x',
        ['*'],
        [
          { match: { path: '/old' }, redirect: { scheme_redirect: 'https', host_redirect: 'b.com', port_redirect: 8443, path_redirect: '/new', response_code: 'PERMANENT_REDIRECT', strip_query: true } },
          { match: { path: '/http' }, redirect: { https_redirect: true } },
          { match: { path: '/down' }, direct_response: { status: 503, body: { inline_string: 'maintenance' } } },
          {
            match: { prefix: '/' },
            route: { cluster: 'a' },
            request_headers_to_add: [{ header: { key: 'X-Peer', value: '%DOWNSTREAM_REMOTE_ADDRESS%' } }, { header: { key: 'x-once', value: '1' }, append_action: 'ADD_IF_ABSENT' }, { header: { key: 'x-legacy', value: '2' }, append: { value: false } }],
            response_headers_to_remove: ['Server'],
            typed_per_filter_config: {
              'envoy.filters.http.fault': { '@type': T.fault, delay: { fixed_delay: { seconds: 5 }, percentage: { numerator: 105_000, denominator: 'MILLION' } }, abort: { grpc_status: 14, percentage: { numerator: 20 } } },
              'envoy.filters.http.cors': { '@type': T.corsPolicy, allow_origin_string_match: [{ exact: 'https://a.com' }, { safe_regex: { regex: '.*\\.b\\.com' } }], allow_methods: 'GET,POST', allow_headers: 'x-a', expose_headers: 'x-b', max_age: '86400', allow_credentials: { value: true } },
              'envoy.filters.http.local_ratelimit': { '@type': T.localRateLimit, stat_prefix: 'route_rl', token_bucket: { max_tokens: 2, fill_interval: { seconds: 60 } }, filter_enabled: { default_value: { numerator: 100 } }, filter_enforced: { default_value: { numerator: 100 } }, status: { code: 'ServiceUnavailable' } },
            },
          },
        ],
        { require_tls: 'ALL', include_request_attempt_count: true, retry_policy: { retry_on: 'connect-failure' }, request_headers_to_remove: ['x-vh'], cors: { allow_origin_string_match: [{ prefix: 'https://' }] } },
      ),
    ],
    { response_headers_to_add: [{ header: { key: 'x-rc', value: 'v' }, append_action: 'OVERWRITE_IF_EXISTS' }] },
  );
  const v = rt.findVirtualHost('x');
  assert.ok(v);
  assert.deepEqual(v.routes[0]?.action, { type: 'redirect', status: 308, stripQuery: true, scheme: 'https', host: 'b.com', port: 8443, path: '/new' });
  assert.deepEqual(v.routes[1]?.action, { type: 'redirect', status: 301, stripQuery: false, scheme: 'https' });
  assert.deepEqual(v.routes[2]?.action, { type: 'direct_response', status: 503, body: 'maintenance' });
  const r = v.routes[3];
  assert.ok(r);
  assert.deepEqual(r.headers.requestAdd, [
    { name: 'x-peer', value: '%DOWNSTREAM_REMOTE_ADDRESS%', action: 'append', dynamic: true },
    { name: 'x-once', value: '1', action: 'add_if_absent', dynamic: false },
    { name: 'x-legacy', value: '2', action: 'overwrite_or_add', dynamic: false },
  ]);
  assert.deepEqual(r.headers.responseRemove, ['server']);
  assert.deepEqual(r.perFilter.fault, { delay: { fixedDelayMs: 5000, percent: { fraction: 0.105 } }, abort: { grpcStatus: 14, percent: { fraction: 0.2 } } });
  const cors = r.perFilter.cors;
  assert.ok(cors);
  assert.equal(cors.allowOrigins[1]?.test('https://x.b.com'), true);
  assert.equal(cors.allowOrigins[1]?.test('https://x.c.com'), false);
  assert.deepEqual({ ...cors, allowOrigins: cors.allowOrigins.length }, { allowOrigins: 2, allowMethods: 'GET,POST', allowHeaders: 'x-a', exposeHeaders: 'x-b', maxAge: '86400', allowCredentials: true, enabled: true });
  assert.equal(r.perFilter.localRateLimit?.maxTokens, 2);
  assert.equal(r.perFilter.localRateLimit.tokensPerFill, 1);
  assert.equal(r.perFilter.localRateLimit.status, 503);
  assert.equal(v.requireTls, 'ALL');
  assert.equal(v.includeAttemptCount, true);
  assert.deepEqual([...(v.retry?.retryOn ?? [])], ['connect-failure']);
  assert.equal(v.retry?.numRetries, 1);
  assert.deepEqual(v.headers.requestRemove, ['x-vh']);
  assert.equal(v.perFilter.cors?.allowOrigins[0]?.test('https://any'), true);
  assert.deepEqual(rt.headers.responseAdd, [{ name: 'x-rc', value: 'v', action: 'overwrite_if_exists', dynamic: false }]);
});

test('refused route content, with paths', () => {
  const e = errs(
    decode({
      name: '9080',
      virtual_hosts: [
        vh('x', ['*'], [
          { match: { safe_regex: { regex: 'x[0-9]+(' } }, route: { cluster: 'a' } },
          { match: { prefix: '/' }, route: { cluster: 'a', prefix_rewrite: '/b', regex_rewrite: { pattern: { regex: 'x' }, substitution: 'y' } } },
          { match: { prefix: '/' }, request_headers_to_add: [{ header: { key: ':path', value: '/x' } }], route: { cluster: 'a' } },
          { match: { prefix: '/' }, route: { cluster: 'a' }, typed_per_filter_config: { 'envoy.filters.http.ext_authz': opaqueAny('type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute') } },
          { match: { prefix: '/' }, route: { cluster: 'a', retry_policy: { retry_host_predicate: [{ name: 'envoy.retry_host_predicates.omit_canary_hosts', typed_config: opaqueAny('type.googleapis.com/envoy.extensions.retry.host.omit_canary_hosts.v3.OmitCanaryHostsPredicate', new Uint8Array()) }] } } },
          { match: { prefix: '/' }, non_forwarding_action: {} },
          { match: { prefix: '/' }, route: { weighted_clusters: { clusters: [{ name: 'a', weight: { value: 0 } }] } } },
          { match: {}, route: { cluster: 'a' } },
        ]),
      ],
    }),
  );
  const p = "route 9080: virtual_hosts[0].routes";
  assert.deepEqual(e, [
    `${p}[0].match.safe_regex.regex: invalid RE2 regex "x[0-9]+(": missing ): x[0-9]+(`,
    `${p}[1].route: prefix_rewrite and regex_rewrite are both set`,
    `${p}[2].request_headers_to_add[0].header.key: header ":path" may not be modified`,
    `${p}[3].typed_per_filter_config[envoy.filters.http.ext_authz]: unsupported per-filter config type envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute`,
    `${p}[4].route.retry_policy.retry_host_predicate[0]: unsupported retry host predicate envoy.extensions.retry.host.omit_canary_hosts.v3.OmitCanaryHostsPredicate`,
    `${p}[5].non_forwarding_action: only proxyless gRPC servers take non-forwarding routes`,
    `${p}[6].route.weighted_clusters.clusters: the sum of weights must be greater than 0`,
    `${p}[7].match: no path specifier (prefix, path, safe_regex, path_separated_prefix or connect_matcher)`,
  ]);
});

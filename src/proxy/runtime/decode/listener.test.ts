// Listener decoding: address, listener filters, filter chain matches, HCM and tcp_proxy, TLS, access logs, and the exact
// field paths of what the proxy refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TypeUrl } from '../../../xds/types.js';
import { decodeListener } from './listener.js';
import { T, enc, errs, hcmFilter, ok, opaqueAny, tcpFilter, testCtx } from './testing.js';

const L = TypeUrl.Listener;
const decode = (o: object): ReturnType<typeof decodeListener> => decodeListener(enc(L, o), testCtx);
const addr = (address = '0.0.0.0', port = 15001): object => ({ socket_address: { address, port_value: port } });

test('outbound listener: address, defaults, listener filters, chain matches, rds HCM and tcp_proxy', () => {
  const l = ok(
    decode({
      name: 'virtualOutbound',
      address: addr(),
      use_original_dst: { value: true },
      traffic_direction: 'OUTBOUND',
      listener_filters: [
        { name: 'envoy.filters.listener.original_dst', typed_config: { '@type': T.originalDst } },
        { name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': T.tlsInspector } },
        { name: 'envoy.filters.listener.http_inspector', typed_config: { '@type': T.httpInspector } },
      ],
      listener_filters_timeout: { seconds: 0, nanos: 100_000_000 },
      continue_on_listener_filters_timeout: true,
      filter_chains: [
        {
          name: 'http',
          filter_chain_match: { destination_port: { value: 9080 }, application_protocols: ['http/1.1', 'h2c'], transport_protocol: 'raw_buffer', prefix_ranges: [{ address_prefix: '10.0.0.0', prefix_len: { value: 8 } }] },
          filters: [hcmFilter({ rds: { route_config_name: '9080', config_source: { ads: {} } } })],
        },
        { name: 'tls', filter_chain_match: { server_names: ['*.Example.com'], transport_protocol: 'tls' }, filters: [tcpFilter({ cluster: 'outbound|443||a.example.com' })] },
      ],
      default_filter_chain: { name: 'PassthroughFilterChain', filters: [tcpFilter({ cluster: 'PassthroughCluster', idle_timeout: { seconds: 0 } })] },
    }),
  );
  assert.equal(l.name, 'virtualOutbound');
  assert.deepEqual(l.address, { address: '0.0.0.0', port: 15001 });
  assert.equal(l.bindToPort, true);
  assert.equal(l.useOriginalDst, true);
  assert.equal(l.trafficDirection, 'OUTBOUND');
  assert.deepEqual(l.listenerFilters, { tlsInspector: true, httpInspector: true, originalDst: true });
  assert.equal(l.listenerFiltersTimeoutMs, 100);
  assert.equal(l.continueOnListenerFiltersTimeout, true);
  assert.equal(l.apiListener, false);
  assert.match(l.hash, /^[\w-]{22}$/);
  const [http, tls] = l.filterChains;
  assert.ok(http && tls);
  assert.deepEqual(http.match, { destinationPort: 9080, serverNames: [], transportProtocol: 'raw_buffer', applicationProtocols: ['http/1.1', 'h2c'], prefixRanges: [{ address: '10.0.0.0', prefixLen: 8 }], sourcePrefixRanges: [] });
  assert.equal(http.filter.type, 'http');
  if (http.filter.type === 'http') {
    assert.equal(http.filter.rdsName, '9080');
    assert.equal(http.filter.routeConfig, undefined);
    assert.deepEqual(http.filter.httpFilters, [{ type: 'router', name: 'envoy.filters.http.router' }]);
    // Envoy's defaults for what the HCM does not set.
    assert.equal(http.filter.codecType, 'AUTO');
    assert.equal(http.filter.generateRequestId, true);
    assert.equal(http.filter.streamIdleTimeoutMs, 300_000);
    assert.equal(http.filter.idleTimeoutMs, 3_600_000);
    assert.equal(http.filter.maxRequestHeadersKb, 60);
    assert.equal(http.filter.maxHeadersCount, 100);
    assert.equal(http.filter.httpProxyMode, false);
  }
  assert.deepEqual(tls.match.serverNames, ['*.example.com']);
  assert.deepEqual(tls.filter, { type: 'tcp', statPrefix: 'tcp', cluster: 'outbound|443||a.example.com', idleTimeoutMs: 3_600_000, accessLog: [], maxConnectAttempts: 1 });
  assert.equal(l.defaultFilterChain?.filter.type, 'tcp');
  assert.equal(l.defaultFilterChain?.filter.type === 'tcp' && l.defaultFilterChain.filter.idleTimeoutMs, 0);
});

test('unchanged bytes give the same hash, changed bytes another', () => {
  const o = { name: 'a', address: addr(), filter_chains: [{ filters: [tcpFilter({ cluster: 'c' })] }] };
  assert.equal(ok(decode(o)).hash, ok(decode(o)).hash);
  assert.notEqual(ok(decode(o)).hash, ok(decode({ ...o, bind_to_port: { value: false } })).hash);
  assert.equal(ok(decode({ ...o, bind_to_port: { value: false } })).bindToPort, false);
});

test('HCM settings: timeouts, limits, XFF, access logs, upgrades, inline routes, HTTP filters, HTTP-proxy mode', () => {
  const l = ok(
    decode({
      name: 'gw',
      address: addr('0.0.0.0', 8080),
      filter_chains: [
        {
          filters: [
            hcmFilter({
              codec_type: 'HTTP2',
              generate_request_id: { value: false },
              use_remote_address: { value: true },
              xff_num_trusted_hops: 2,
              skip_xff_append: true,
              forward_client_cert_details: 'SANITIZE_SET',
              server_name: 'istio-envoy',
              stream_idle_timeout: { seconds: 0 },
              request_timeout: { seconds: 30 },
              request_headers_timeout: { seconds: 5 },
              common_http_protocol_options: { idle_timeout: { seconds: 60 }, max_headers_count: { value: 50 } },
              max_request_headers_kb: { value: 96 },
              normalize_path: { value: true },
              merge_slashes: true,
              http_protocol_options: { allow_absolute_url: { value: true } },
              upgrade_configs: [{ upgrade_type: 'websocket' }, { upgrade_type: 'CONNECT' }, { upgrade_type: 'h2c', enabled: { value: false } }],
              access_log: [
                { name: 'envoy.access_loggers.file', typed_config: { '@type': T.fileLog, path: '/dev/stdout', log_format: { text_format_source: { inline_string: '[%START_TIME%] %RESPONSE_CODE%\n' } } } },
                { name: 'json', typed_config: { '@type': T.fileLog, path: '/tmp/a.log', log_format: { json_format: { fields: { code: { stringValue: '%RESPONSE_CODE%' } } } } } },
              ],
              route_config: { name: 'inline', virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, direct_response: { status: 200 } }] }] },
              http_filters: [
                { name: 'envoy.filters.http.fault', typed_config: { '@type': T.fault } },
                { name: 'envoy.filters.http.cors', typed_config: { '@type': T.cors } },
                {
                  name: 'envoy.filters.http.local_ratelimit',
                  typed_config: { '@type': T.localRateLimit, stat_prefix: 'rl', token_bucket: { max_tokens: 10, tokens_per_fill: { value: 5 }, fill_interval: { seconds: 1 } }, filter_enabled: { default_value: { numerator: 100 } }, filter_enforced: { default_value: { numerator: 50 } }, enable_x_ratelimit_headers: 'DRAFT_VERSION_03' },
                },
                { name: 'istio.stats', is_optional: true, typed_config: opaqueAny('type.googleapis.com/stats.PluginConfig') },
                { name: 'envoy.filters.http.router', typed_config: { '@type': T.router } },
              ],
            }),
          ],
        },
      ],
    }),
  );
  const f = l.filterChains[0]?.filter;
  assert.ok(f?.type === 'http');
  assert.equal(f.codecType, 'HTTP2');
  assert.equal(f.generateRequestId, false);
  assert.equal(f.useRemoteAddress, true);
  assert.equal(f.xffNumTrustedHops, 2);
  assert.equal(f.skipXffAppend, true);
  assert.equal(f.forwardClientCertDetails, 'SANITIZE_SET');
  assert.equal(f.serverName, 'istio-envoy');
  assert.equal(f.streamIdleTimeoutMs, 0);
  assert.equal(f.requestTimeoutMs, 30_000);
  assert.equal(f.requestHeadersTimeoutMs, 5_000);
  assert.equal(f.idleTimeoutMs, 60_000);
  assert.equal(f.maxHeadersCount, 50);
  assert.equal(f.maxRequestHeadersKb, 96);
  assert.equal(f.normalizePath, true);
  assert.equal(f.mergeSlashes, true);
  assert.equal(f.httpProxyMode, true);
  assert.deepEqual(f.upgradeTypes, ['websocket', 'connect']);
  assert.deepEqual(f.accessLog, [{ path: '/dev/stdout', format: '[%START_TIME%] %RESPONSE_CODE%\n' }, { path: '/tmp/a.log', json: { code: '%RESPONSE_CODE%' } }]);
  assert.equal(f.rdsName, undefined);
  assert.equal(f.routeConfig?.name, 'inline');
  assert.equal(f.routeConfig.findVirtualHost('anything')?.name, 'all');
  assert.deepEqual(
    f.httpFilters.map((h) => h.type),
    ['fault', 'cors', 'local_ratelimit', 'unknown_optional', 'router'],
  );
  const fault = f.httpFilters[0];
  assert.ok(fault?.type === 'fault');
  assert.equal(fault.config, undefined, 'an empty HTTPFault only enables per-route faults');
  const rl = f.httpFilters[2];
  assert.ok(rl?.type === 'local_ratelimit');
  assert.deepEqual(rl.config, { statPrefix: 'rl', maxTokens: 10, tokensPerFill: 5, fillIntervalMs: 1000, enabled: 1, enforced: 0.5, responseHeadersToAdd: [], status: 429, xRateLimitHeaders: true });
});

test('HCM internal_address_config: absent, empty (Envoy\'s private ranges) or CIDR ranges; bad ranges refused', () => {
  const hcm = (extra: object) => decode({ name: 'l', address: addr(), filter_chains: [{ filters: [hcmFilter({ rds: { route_config_name: 'r' }, ...extra })] }] });
  const cfg = (extra: object) => {
    const f = ok(hcm(extra)).filterChains[0]?.filter;
    assert.ok(f?.type === 'http');
    return f.internalAddressConfig;
  };
  assert.equal(cfg({}), undefined);
  assert.deepEqual(cfg({ internal_address_config: {} }), { unixSockets: false, cidrRanges: [] });
  assert.deepEqual(cfg({ internal_address_config: { unix_sockets: true, cidr_ranges: [{ address_prefix: '127.0.0.0', prefix_len: { value: 8 } }, { address_prefix: 'fd00::', prefix_len: { value: 8 } }] } }), {
    unixSockets: true,
    cidrRanges: [
      { address: '127.0.0.0', prefixLen: 8 },
      { address: 'fd00::', prefixLen: 8 },
    ],
  });
  assert.deepEqual(errs(hcm({ internal_address_config: { cidr_ranges: [{ address_prefix: 'mesh', prefix_len: { value: 8 } }] } })), [
    'listener l: filter_chains[0].filters[0].typed_config.internal_address_config.cidr_ranges[0].address_prefix: "mesh" is not an IP address',
  ]);
});

test('refused network filters, with their field paths', () => {
  const redis = 'type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy';
  const chains = [
    { filter_chain_match: { destination_port: { value: 1 } }, filters: [tcpFilter({ cluster: 'a' })] },
    { filter_chain_match: { destination_port: { value: 2 } }, filters: [tcpFilter({ cluster: 'b' })] },
    { filter_chain_match: { destination_port: { value: 3 } }, filters: [{ name: 'envoy.filters.network.redis_proxy', typed_config: opaqueAny(redis) }] },
    { filter_chain_match: { destination_port: { value: 4 } }, filters: [{ name: 'envoy.filters.network.rbac', typed_config: { '@type': T.rbacNetwork, stat_prefix: 'x' } }, tcpFilter({ cluster: 'd' })] },
    { filter_chain_match: { destination_port: { value: 5 } }, filters: [tcpFilter({ cluster: 'e' }), tcpFilter({ cluster: 'f' })] },
    { filter_chain_match: { destination_port: { value: 6 } }, filters: [] },
  ];
  assert.deepEqual(errs(decode({ name: 'virtualOutbound', address: addr(), filter_chains: chains })), [
    'listener virtualOutbound: filter_chains[2].filters[0].typed_config: unsupported network filter type envoy.extensions.filters.network.redis_proxy.v3.RedisProxy',
    'listener virtualOutbound: filter_chains[3].filters[0].typed_config: unsupported network filter type envoy.extensions.filters.network.rbac.v3.RBAC',
    'listener virtualOutbound: filter_chains[4].filters[0]: terminal filter envoy.filters.network.tcp_proxy must be the last filter',
    'listener virtualOutbound: filter_chains[5].filters: no network filters (an HCM or tcp_proxy is required)',
  ]);
});

test('refused HTTP filters: unknown non-optional, router not last, missing route source', () => {
  const e = errs(
    decode({
      name: 'l',
      address: addr(),
      filter_chains: [
        {
          filters: [
            hcmFilter({
              rds: { route_config_name: 'r' },
              http_filters: [
                { name: 'envoy.filters.http.rbac', typed_config: { '@type': T.rbacHttp } },
                { name: 'envoy.filters.http.router', typed_config: { '@type': T.router } },
                { name: 'envoy.filters.http.cors', typed_config: { '@type': T.cors } },
              ],
            }),
          ],
        },
        { filter_chain_match: { destination_port: { value: 80 } }, filters: [hcmFilter({})] },
      ],
    }),
  );
  assert.deepEqual(e, [
    'listener l: filter_chains[0].filters[0].typed_config.http_filters[0].typed_config: unsupported HTTP filter type envoy.extensions.filters.http.rbac.v3.RBAC',
    'listener l: filter_chains[0].filters[0].typed_config.http_filters[1]: terminal filter envoy.filters.http.router must be the last filter',
    'listener l: filter_chains[0].filters[0].typed_config.http_filters[2]: non-terminal filter envoy.filters.http.cors is the last filter (the router must be last)',
    'listener l: filter_chains[1].filters[0].typed_config: neither rds nor route_config is set',
  ]);
});

test('refused listener filters, duplicate chain matches, bad CIDRs and addresses', () => {
  const proxyProtocol = 'type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol';
  const e = errs(
    decode({
      name: 'l',
      address: addr('localhost', 80),
      listener_filters: [{ name: 'envoy.filters.listener.proxy_protocol', typed_config: opaqueAny(proxyProtocol, new Uint8Array()) }],
      filter_chains: [
        { filter_chain_match: { destination_port: { value: 80 }, server_names: ['a.com', 'b.com'] }, filters: [tcpFilter({ cluster: 'a' })] },
        { filter_chain_match: { destination_port: { value: 80 }, server_names: ['b.com', 'a.com'] }, filters: [tcpFilter({ cluster: 'b' })] },
        { filter_chain_match: { prefix_ranges: [{ address_prefix: '10.0.0.300', prefix_len: { value: 8 } }, { address_prefix: '10.0.0.0', prefix_len: { value: 33 } }] }, filters: [tcpFilter({ cluster: 'c' })] },
      ],
    }),
  );
  assert.deepEqual(e, [
    'listener l: address.socket_address.address: "localhost" is not an IP address',
    'listener l: filter_chains[1].filter_chain_match: same match as filter_chains[0] (multiple filter chains with the same matching rules)',
    'listener l: filter_chains[2].filter_chain_match.prefix_ranges[0].address_prefix: "10.0.0.300" is not an IP address',
    'listener l: filter_chains[2].filter_chain_match.prefix_ranges[1].prefix_len: 33 is too long for 10.0.0.0',
    'listener l: listener_filters[0].typed_config: unsupported listener filter type envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol',
  ]);
});

test('downstream TLS: files, SDS names, validation contexts, ALPN, SAN matchers, versions', () => {
  const tls = (ctx: object, extra: object = {}): object => ({ name: 'envoy.transport_sockets.tls', typed_config: { '@type': T.downstreamTls, common_tls_context: ctx, ...extra } });
  const l = ok(
    decode({
      name: 'gw',
      address: addr('0.0.0.0', 443),
      filter_chains: [
        {
          filter_chain_match: { server_names: ['a.example.com'] },
          transport_socket: tls({ tls_certificates: [{ certificate_chain: { filename: '/etc/certs/cert.pem' }, private_key: { filename: '/etc/certs/key.pem' } }], validation_context: { trusted_ca: { filename: '/etc/certs/ca.pem' }, match_subject_alt_names: [{ exact: 'spiffe://cluster.local/ns/a/sa/b' }] }, alpn_protocols: ['h2', 'http/1.1'], tls_params: { tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLSv1_3' } }, { require_client_certificate: { value: true } }),
          filters: [tcpFilter({ cluster: 'a' })],
        },
        {
          filter_chain_match: { server_names: ['b.example.com'] },
          transport_socket: tls({ tls_certificate_sds_secret_configs: [{ name: 'kubernetes://b-cert', sds_config: { ads: {} } }], combined_validation_context: { default_validation_context: { match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { prefix: 'spiffe://cluster.local/' } }] }, validation_context_sds_secret_config: { name: 'ROOTCA' } } }),
          filters: [tcpFilter({ cluster: 'b' })],
        },
        { filter_chain_match: { server_names: ['c.example.com'] }, transport_socket: { name: 'envoy.transport_sockets.raw_buffer', typed_config: opaqueAny('type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer', new Uint8Array()) }, filters: [tcpFilter({ cluster: 'c' })] },
      ],
    }),
  );
  const [a, b, c] = l.filterChains;
  assert.ok(a?.tls && b?.tls && c);
  assert.equal(a.tls.certChain, 'CERT-PEM');
  assert.equal(a.tls.privateKey, 'KEY-PEM');
  assert.equal(a.tls.caCert, 'CA-PEM');
  assert.equal(a.tls.requireClientCertificate, true);
  assert.deepEqual(a.tls.alpn, ['h2', 'http/1.1']);
  assert.equal(a.tls.minVersion, 'TLSv1.2');
  assert.equal(a.tls.maxVersion, 'TLSv1.3');
  assert.equal(a.tls.matchSans.length, 1);
  assert.equal(a.tls.matchSans[0]?.test('spiffe://cluster.local/ns/a/sa/b'), true);
  assert.equal(b.tls.sdsCertificate, 'kubernetes://b-cert');
  assert.equal(b.tls.sdsValidation, 'ROOTCA');
  assert.equal(b.tls.requireClientCertificate, false);
  assert.equal(b.tls.matchSans[0]?.test('spiffe://cluster.local/ns/x/sa/y'), true);
  assert.equal(c.tls, undefined, 'raw_buffer is plaintext');

  const e = errs(
    decode({
      name: 'gw',
      address: addr('0.0.0.0', 443),
      filter_chains: [
        { transport_socket: tls({ tls_certificates: [{ certificate_chain: { filename: '/missing.pem' }, private_key: { inline_string: 'K' } }] }, { require_client_certificate: { value: true } }), filters: [tcpFilter({ cluster: 'a' })] },
      ],
    }),
  );
  assert.deepEqual(e, [
    "listener gw: filter_chains[0].transport_socket.typed_config.common_tls_context.tls_certificates[0].certificate_chain.filename: cannot read /missing.pem: ENOENT: no such file or directory, open '/missing.pem'",
    'listener gw: filter_chains[0].transport_socket.typed_config.common_tls_context.tls_certificates[0].certificate_chain: certificate_chain is required',
    'listener gw: filter_chains[0].transport_socket.typed_config.common_tls_context: a server certificate (tls_certificates or tls_certificate_sds_secret_configs) is required',
    'listener gw: filter_chains[0].transport_socket.typed_config.require_client_certificate: requires a validation context',
  ]);
});

test('api_listener is accepted and marked; undecodable bytes are an error, never a throw', () => {
  const api = ok(decode({ name: 'reviews:9080', api_listener: { api_listener: { '@type': T.hcm, stat_prefix: 'x' } } }));
  assert.equal(api.apiListener, true);
  assert.deepEqual(api.filterChains, []);
  const bad = decodeListener(new Uint8Array([0x0a, 0xff, 0xff]), testCtx);
  assert.equal(bad.ok, false);
  assert.match(errs(bad)[0] ?? '', /^listener: cannot decode envoy\.config\.listener\.v3\.Listener: /);
});

// The simulator's Envoy semantics on hand-written configuration: listener hand-off, filter chain specificity,
// virtual host precedence, route and header matching.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { headerMatches, routeMatches, selectFilterChain, selectVirtualHost } from './matchers.js';
import { simulate } from './simulate.js';

type Obj = Record<string, unknown>;
const req = (path: string, headers: Record<string, string> = {}) => {
  const q = path.indexOf('?');
  return { path: q < 0 ? path : path.slice(0, q), query: new URLSearchParams(q < 0 ? '' : path.slice(q + 1)), headers };
};

void describe('simulator matchers', () => {
  void it('picks virtual hosts: exact, then longest suffix wildcard, then prefix wildcard, then *', () => {
    const vhs: Obj[] = [
      { name: 'any', domains: ['*'] },
      { name: 'prefix', domains: ['foo.*'] },
      { name: 'suffix', domains: ['*.example.com'] },
      { name: 'longer', domains: ['*.api.example.com'] },
      { name: 'exact', domains: ['Foo.Example.com'] },
    ];
    const pick = (h: string): unknown => selectVirtualHost(vhs, h)?.name;
    assert.equal(pick('foo.example.com'), 'exact');
    assert.equal(pick('x.api.example.com'), 'longer');
    assert.equal(pick('x.example.com'), 'suffix');
    assert.equal(pick('foo.org'), 'prefix');
    assert.equal(pick('bar.org'), 'any');
    assert.equal(selectVirtualHost([{ name: 'a', domains: ['a'] }], 'b'), undefined);
  });

  void it('matches paths by prefix, exact, full RE2 regex, separated prefix, with case sensitivity', () => {
    assert.ok(routeMatches({ prefix: '/api' }, req('/api/x?y=1')));
    assert.ok(!routeMatches({ prefix: '/API' }, req('/api/x')));
    assert.ok(routeMatches({ prefix: '/API', case_sensitive: { value: false } }, req('/api/x')));
    assert.ok(routeMatches({ path: '/a' }, req('/a?q')));
    assert.ok(!routeMatches({ path: '/a' }, req('/a/')));
    assert.ok(routeMatches({ safe_regex: { regex: '/v[0-9]+' } }, req('/v12')));
    assert.ok(!routeMatches({ safe_regex: { regex: '/v[0-9]+' } }, req('/v12/x')), 'regex must match the whole path');
    assert.ok(routeMatches({ path_separated_prefix: '/foo' }, req('/foo/bar')));
    assert.ok(!routeMatches({ path_separated_prefix: '/foo' }, req('/foobar')));
    assert.ok(routeMatches({ prefix: '/', query_parameters: [{ name: 'a', string_match: { exact: '1' } }] }, req('/?a=1')));
    assert.ok(!routeMatches({ prefix: '/', query_parameters: [{ name: 'a', present_match: true }] }, req('/?b=1')));
  });

  void it('matches headers with invert, presence and missing-as-empty semantics', () => {
    assert.ok(headerMatches({ name: 'x', string_match: { exact: 'a' } }, { x: 'a' }));
    assert.ok(!headerMatches({ name: 'x', string_match: { exact: 'a' } }, {}));
    assert.ok(headerMatches({ name: 'x', string_match: { exact: 'a' }, invert_match: true }, {}));
    assert.ok(headerMatches({ name: 'x', string_match: { exact: 'a' }, invert_match: true, treat_missing_header_as_empty: true }, {}));
    assert.ok(!headerMatches({ name: 'x', string_match: { exact: '' }, invert_match: true, treat_missing_header_as_empty: true }, {}));
    assert.ok(headerMatches({ name: 'x', present_match: true }, { x: '' }));
    assert.ok(headerMatches({ name: 'X', string_match: { prefix: 'AB', ignore_case: true } }, { x: 'abc' }));
    assert.ok(headerMatches({ name: 'x', string_match: { safe_regex: { regex: 'v[0-9]' } } }, { x: 'v1' }));
    assert.ok(!headerMatches({ name: 'x', string_match: { safe_regex: { regex: 'v[0-9]' } } }, { x: 'v10' }));
  });

  void it('selects filter chains by destination port, then prefix, SNI, transport, ALPN; else the default chain', () => {
    const l: Obj = {
      filter_chains: [
        { name: 'port', filter_chain_match: { destination_port: { value: 80 } } },
        { name: 'cidr8', filter_chain_match: { prefix_ranges: [{ address_prefix: '10.0.0.0', prefix_len: { value: 8 } }] } },
        { name: 'cidr16', filter_chain_match: { prefix_ranges: [{ address_prefix: '10.1.0.0', prefix_len: { value: 16 } }] } },
        { name: 'sni', filter_chain_match: { server_names: ['a.example.com'] } },
        { name: 'wild', filter_chain_match: { server_names: ['*.example.com'] } },
        { name: 'tls', filter_chain_match: { transport_protocol: 'tls' } },
        { name: 'h2c', filter_chain_match: { application_protocols: ['h2c'] } },
      ],
      default_filter_chain: { name: 'default' },
    };
    const pick = (c: Partial<Parameters<typeof selectFilterChain>[1]>): unknown =>
      selectFilterChain(l, { destinationIp: '192.168.0.1', destinationPort: 1, transportProtocol: 'raw_buffer', applicationProtocols: [], ...c })?.name;
    assert.equal(pick({ destinationPort: 80, destinationIp: '10.1.2.3' }), 'port');
    assert.equal(pick({ destinationIp: '10.1.2.3' }), 'cidr16');
    assert.equal(pick({ destinationIp: '10.2.2.3' }), 'cidr8');
    assert.equal(pick({ serverName: 'a.example.com', transportProtocol: 'tls' }), 'sni');
    assert.equal(pick({ serverName: 'b.example.com', transportProtocol: 'tls' }), 'wild');
    assert.equal(pick({ serverName: 'b.org', transportProtocol: 'tls' }), 'tls');
    assert.equal(pick({ applicationProtocols: ['h2c'] }), 'h2c');
    assert.equal(pick({}), 'default');
  });
});

void describe('simulate', () => {
  const hcm = (rds: string): Obj => ({
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', rds: { route_config_name: rds } },
  });
  const tcp = (cluster: string): Obj => ({ name: 'tcp', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', cluster } });
  const snap = {
    listeners: [
      { name: 'virtualOutbound', address: { socket_address: { address: '0.0.0.0', port_value: 15001 } }, use_original_dst: { value: true }, filter_chains: [{ filters: [tcp('PassthroughCluster')] }] },
      { name: '0.0.0.0_80', address: { socket_address: { address: '0.0.0.0', port_value: 80 } }, bind_to_port: { value: false }, filter_chains: [{ filters: [hcm('80')] }] },
      { name: '10.0.0.5_80', address: { socket_address: { address: '10.0.0.5', port_value: 80 } }, bind_to_port: { value: false }, filter_chains: [{ filters: [tcp('special')] }] },
      { name: '127.0.0.1_80', address: { socket_address: { address: '127.0.0.1', port_value: 80 } }, filter_chains: [{ filters: [hcm('80')] }] },
    ],
    routes: [
      {
        name: '80',
        ignore_port_in_host_matching: true,
        virtual_hosts: [
          { name: 'a', domains: ['a'], routes: [{ name: 'r', match: { prefix: '/' }, route: { cluster: 'A', prefix_rewrite: '/x' } }] },
          { name: 'tls', domains: ['secure'], require_tls: 'ALL', routes: [{ match: { prefix: '/' }, route: { cluster: 'S' } }] },
        ],
      },
    ],
    clusters: [{ name: 'A' }],
  };

  void it('hands captured connections to the listener of the original destination', () => {
    const r = simulate(snap, { port: 80, address: '10.9.9.9', host: 'a:80', path: '/p' });
    assert.equal(r.listener, '0.0.0.0_80');
    assert.equal(r.cluster, 'A');
    assert.equal(r.upstreamPath, '/xp', 'Envoy replaces the matched prefix literally');
    assert.equal(simulate(snap, { port: 80, address: '10.0.0.5', protocol: 'tcp' }).cluster, 'special');
    assert.equal(simulate(snap, { port: 81, address: '10.0.0.5', protocol: 'tcp' }).listener, 'virtualOutbound');
  });

  void it('connects directly to bound listeners only', () => {
    assert.equal(simulate(snap, { callMode: 'direct', port: 80, address: '127.0.0.1', host: 'a' }).listener, '127.0.0.1_80');
    assert.match(simulate(snap, { callMode: 'direct', port: 80, address: '10.0.0.5' }).error ?? '', /no listener/);
  });

  void it('answers 404 without a virtual host or route, and redirects to https for require_tls', () => {
    assert.equal(simulate(snap, { port: 80, host: 'nobody' }).status, 404);
    assert.equal(simulate(snap, { port: 80, host: 'secure' }).status, 301);
  });

  void it('reports missing route configurations', () => {
    const s = { ...snap, routes: [] };
    assert.match(simulate(s, { port: 80, host: 'a' }).error ?? '', /route configuration 80 not in snapshot/);
  });
});

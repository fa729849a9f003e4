import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Config } from '../../../api/config.js';
import type { EnvoyFilter } from '../../../api/types/networking.js';
import type { Proxy } from '../../model/types.js';
import type { Resource } from '../types.js';
import { TypeUrl } from '../../../xds/types.js';
import { unknownFields } from '../../../xds/codec.js';
import { applyEnvoyFilters, type PatchError } from './apply.js';

const proxy: Proxy = {
  id: 'sidecar~127.0.0.1~reviews-v1.default~default.svc.cluster.local', type: 'sidecar', ips: ['127.0.0.1'], workloadName: 'reviews-v1',
  namespace: 'default', dnsDomain: 'default.svc.cluster.local', labels: { app: 'reviews' }, serviceAccount: 'default', locality: '',
  metadata: { ISTIO_VERSION: '1.24.0', raw: { ISTIO_VERSION: '1.24.0' } }, isGrpc: false,
};

function ef(patches: EnvoyFilter['configPatches']): Config<EnvoyFilter> {
  return { meta: { kind: 'EnvoyFilter', group: 'networking.istio.io', version: 'v1alpha3', name: 'f', namespace: 'default', labels: {}, annotations: {}, resourceVersion: '1' }, spec: { configPatches: patches } };
}

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
function inbound(): Resource {
  return {
    name: 'virtualInbound',
    resource: {
      name: 'virtualInbound',
      address: { socket_address: { address: '0.0.0.0', port_value: 15006 } },
      filter_chains: [{
        filter_chain_match: { destination_port: { value: 9080 } },
        filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: { '@type': HCM, stat_prefix: 'inbound_0.0.0.0_9080', http_filters: [
          { name: 'envoy.filters.http.fault', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault' } },
          { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } },
        ] } }],
      }],
    },
  };
}

test('local rate limit inserted before the router on the inbound port (the shape Istio users write)', () => {
  const f = ef([{
    applyTo: 'HTTP_FILTER',
    match: { context: 'SIDECAR_INBOUND', listener: { portNumber: 9080, filterChain: { filter: { name: 'envoy.filters.network.http_connection_manager', subFilter: { name: 'envoy.filters.http.router' } } } } },
    patch: { operation: 'INSERT_BEFORE', value: {
      name: 'envoy.filters.http.local_ratelimit',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
        stat_prefix: 'http_local_rate_limiter',
        token_bucket: { max_tokens: 4, tokens_per_fill: 4, fill_interval: '60s' },
        filter_enabled: { runtime_key: 'local_rate_limit_enabled', default_value: { numerator: 100, denominator: 'HUNDRED' } },
      },
    } },
  }]);
  const before = inbound();
  const [out] = applyEnvoyFilters(TypeUrl.Listener, proxy, [f], [before]);
  const hcm = ((out.resource.filter_chains as Record<string, unknown>[])[0].filters as Record<string, Record<string, unknown>>[])[0].typed_config;
  assert.deepEqual((hcm.http_filters as { name: string }[]).map((h) => h.name), ['envoy.filters.http.fault', 'envoy.filters.http.local_ratelimit', 'envoy.filters.http.router']);
  const rl = (hcm.http_filters as Record<string, Record<string, unknown>>[])[1].typed_config;
  assert.deepEqual((rl.token_bucket as Record<string, unknown>).fill_interval, { seconds: 60, nanos: 0 });
  assert.deepEqual(unknownFields(TypeUrl.Listener, out.resource), []);
  // the input is not mutated
  assert.equal((((before.resource.filter_chains as Record<string, unknown>[])[0].filters as Record<string, Record<string, unknown>>[])[0].typed_config.http_filters as unknown[]).length, 2);
});

test('context and port mismatches leave the listener alone', () => {
  const f = ef([{ applyTo: 'HTTP_FILTER', match: { context: 'SIDECAR_OUTBOUND' }, patch: { operation: 'INSERT_FIRST', value: { name: 'x' } } },
    { applyTo: 'HTTP_FILTER', match: { context: 'SIDECAR_INBOUND', listener: { portNumber: 1234 } }, patch: { operation: 'INSERT_FIRST', value: { name: 'y' } } }]);
  const [out] = applyEnvoyFilters(TypeUrl.Listener, proxy, [f], [inbound()]);
  assert.deepEqual(out.resource, inbound().resource);
});

test('cluster MERGE, ADD and REMOVE by service and subset', () => {
  const clusters: Resource[] = [
    { name: 'outbound|9080||reviews.default.svc.cluster.local', resource: { name: 'outbound|9080||reviews.default.svc.cluster.local', type: 'EDS' } },
    { name: 'outbound|9080|v1|reviews.default.svc.cluster.local', resource: { name: 'outbound|9080|v1|reviews.default.svc.cluster.local', type: 'EDS' } },
  ];
  const f = ef([
    { applyTo: 'CLUSTER', match: { cluster: { service: 'reviews.default.svc.cluster.local', subset: 'v1' } }, patch: { operation: 'MERGE', value: { connectTimeout: '2s' } } },
    { applyTo: 'CLUSTER', match: { cluster: { subset: '' } }, patch: { operation: 'REMOVE' } },
    { applyTo: 'CLUSTER', patch: { operation: 'ADD', value: { name: 'extra', type: 'STATIC' } } },
  ]);
  const out = applyEnvoyFilters(TypeUrl.Cluster, proxy, [f], clusters);
  assert.deepEqual(out.map((r) => r.name), ['outbound|9080|v1|reviews.default.svc.cluster.local', 'extra']);
  assert.deepEqual(out[0].resource.connect_timeout, { seconds: 2, nanos: 0 });
});

test('a bad patch is reported with its path and skipped; the rest still applies', () => {
  const errors: PatchError[] = [];
  const f = ef([
    { applyTo: 'CLUSTER', patch: { operation: 'MERGE', value: { connectTimeot: '2s' } } },
    { applyTo: 'CLUSTER', patch: { operation: 'INSERT_BEFORE', value: { name: 'x' } } },
    { applyTo: 'CLUSTER', patch: { operation: 'MERGE', value: { connect_timeout: '3s' } } },
  ]);
  const out = applyEnvoyFilters(TypeUrl.Cluster, proxy, [f], [{ name: 'c', resource: { name: 'c' } }], { onError: (e) => errors.push(e) });
  assert.deepEqual(out[0].resource.connect_timeout, { seconds: 3, nanos: 0 });
  assert.deepEqual(errors, [
    { filter: 'EnvoyFilter/default/f', path: 'spec.configPatches[0]', message: 'spec.configPatches[0].patch.value.connectTimeot: no such field in envoy.config.cluster.v3.Cluster' },
    { filter: 'EnvoyFilter/default/f', path: 'spec.configPatches[1]', message: 'operation INSERT_BEFORE is not supported for applyTo CLUSTER' },
  ]);
});

test('proxy version match uses RE2 and route patches reach named routes', () => {
  const rc: Resource = { name: '9080', resource: { name: '9080', virtual_hosts: [{ name: 'reviews:9080', domains: ['reviews'], routes: [{ name: 'r1', match: { prefix: '/' }, route: { cluster: 'c' } }] }] } };
  const f = ef([
    { applyTo: 'HTTP_ROUTE', match: { proxy: { proxyVersion: '^1\\.24.*' }, routeConfiguration: { portNumber: 9080, vhost: { name: 'reviews:9080', route: { name: 'r1' } } } }, patch: { operation: 'INSERT_BEFORE', value: { name: 'r0', match: { path: '/health' }, direct_response: { status: 200 } } } },
    { applyTo: 'HTTP_ROUTE', match: { proxy: { proxyVersion: '^1\\.25.*' } }, patch: { operation: 'REMOVE' } },
    { applyTo: 'VIRTUAL_HOST', match: { routeConfiguration: { vhost: { name: 'reviews:9080' } } }, patch: { operation: 'MERGE', value: { domains: ['reviews.default'] } } },
  ]);
  const [out] = applyEnvoyFilters(TypeUrl.RouteConfiguration, proxy, [f], [rc]);
  const vh = (out.resource.virtual_hosts as Record<string, unknown>[])[0];
  assert.deepEqual((vh.routes as { name: string }[]).map((r) => r.name), ['r0', 'r1']);
  assert.deepEqual(vh.domains, ['reviews', 'reviews.default']);
  assert.deepEqual(unknownFields(TypeUrl.RouteConfiguration, out.resource), []);
});

test('route patches reach route configs embedded in inbound listeners (per-route local rate limit, as Istio documents it)', () => {
  const listener: Resource = {
    name: 'virtualInbound',
    resource: {
      name: 'virtualInbound',
      filter_chains: [{
        filter_chain_match: { destination_port: { value: 9080 } },
        filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: { '@type': HCM, stat_prefix: 'inbound_0.0.0.0_9080', route_config: {
          name: 'inbound|9080||',
          virtual_hosts: [{ name: 'inbound|http|9080', domains: ['*'], routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster: 'inbound|9080||' } }] }],
        }, http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }] } }],
      }],
    },
  };
  const f = ef([{
    applyTo: 'HTTP_ROUTE',
    match: { context: 'SIDECAR_INBOUND', routeConfiguration: { vhost: { name: 'inbound|http|9080', route: { action: 'ANY' } } } },
    patch: { operation: 'MERGE', value: { typed_per_filter_config: { 'envoy.filters.http.local_ratelimit': {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
      stat_prefix: 'http_local_rate_limiter',
      token_bucket: { max_tokens: 4, tokens_per_fill: 4, fill_interval: '60s' },
    } } } },
  }]);
  const [out] = applyEnvoyFilters(TypeUrl.Listener, proxy, [f], [listener]);
  const hcm = ((out.resource.filter_chains as Record<string, unknown>[])[0].filters as Record<string, Record<string, unknown>>[])[0].typed_config;
  const route = ((hcm.route_config as Record<string, unknown>).virtual_hosts as Record<string, unknown>[])[0].routes as Record<string, unknown>[];
  assert.ok((route[0].typed_per_filter_config as Record<string, unknown>)['envoy.filters.http.local_ratelimit']);
  assert.deepEqual(unknownFields(TypeUrl.Listener, out.resource), []);
  // An outbound context leaves the inbound listener alone.
  const g = ef([{ ...f.spec.configPatches![0], match: { context: 'SIDECAR_OUTBOUND' } }]);
  assert.deepEqual(applyEnvoyFilters(TypeUrl.Listener, proxy, [g], [listener])[0].resource, listener.resource);
});

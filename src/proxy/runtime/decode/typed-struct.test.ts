// TypedStruct-wrapped filter configs (older Istio docs' EnvoyFilter shape for local_ratelimit) decode as the message
// they describe (both TypedStruct protos are in the shared proto list).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toStruct } from '../../../xds/codec.js';
import { TypeUrl } from '../../../xds/types.js';
import { decodeListener } from './listener.js';
import { T, enc, errs, hcmFilter, ok, testCtx } from './testing.js';

const listener = (typedConfig: object): object => ({
  name: 'l',
  address: { socket_address: { address: '0.0.0.0', port_value: 80 } },
  filter_chains: [{ filters: [hcmFilter({ rds: { route_config_name: 'r' }, http_filters: [{ name: 'envoy.filters.http.local_ratelimit', typed_config: typedConfig }, { name: 'envoy.filters.http.router', typed_config: { '@type': T.router } }] })] }],
});

test('udpa and xds TypedStruct around LocalRateLimit', () => {
  for (const ts of ['type.googleapis.com/udpa.type.v1.TypedStruct', 'type.googleapis.com/xds.type.v3.TypedStruct']) {
    const l = ok(decodeListener(enc(TypeUrl.Listener, listener({ '@type': ts, type_url: T.localRateLimit, value: toStruct({ stat_prefix: 'http_local_rate_limiter', token_bucket: { max_tokens: 10, tokens_per_fill: 10, fill_interval: '60s' } }) })), testCtx));
    const f = l.filterChains[0]?.filter;
    assert.ok(f?.type === 'http');
    const rl = f.httpFilters[0];
    assert.ok(rl?.type === 'local_ratelimit');
    assert.equal(rl.config?.statPrefix, 'http_local_rate_limiter');
    assert.equal(rl.config.fillIntervalMs, 60_000);
    assert.equal(rl.config.tokensPerFill, 10);
  }
  const bad = errs(decodeListener(enc(TypeUrl.Listener, listener({ '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct', type_url: T.localRateLimit, value: toStruct({ token_bucket: { fill_interval: 'soon' } }) })), testCtx));
  assert.deepEqual(bad, ['listener l: filter_chains[0].filters[0].typed_config.http_filters[0].typed_config: TypedStruct value: .token_bucket.fill_interval: invalid duration "soon"']);
});

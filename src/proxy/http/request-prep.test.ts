// Envoy's request header preparation: trusted client address (use_remote_address, xff_num_trusted_hops), internal vs
// external origin (internal_address_config), x-envoy-internal / x-envoy-external-address, untrusted x-envoy-* dropped.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HttpConnectionManagerConfig } from '../runtime/types.js';
import { getHeader } from './headers.js';
import { isInternalAddress, prepareRequestHeaders, xffAddress } from './request-prep.js';
import { hcmConfig } from './testing.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const LOOPBACK_INTERNAL = { unixSockets: false, cidrRanges: [{ address: '127.0.0.0', prefixLen: 8 }] };
/** What a client may try to smuggle in. */
const CLAIMS = { 'x-envoy-internal': 'true', 'x-envoy-retry-on': '5xx', 'x-envoy-upstream-rq-timeout-ms': '1', 'x-envoy-decorator-operation': 'op', 'x-request-id': 'mine' };

function prep(cfg: Partial<HttpConnectionManagerConfig>, headers: Record<string, string | string[]>, remoteAddress = '127.0.0.1'): string[] {
  const h: string[] = [];
  for (const [k, v] of Object.entries(headers)) for (const x of Array.isArray(v) ? v : [v]) h.push(k, x);
  prepareRequestHeaders(hcmConfig(cfg), {}, { headers: h, remoteAddress, tls: false, peerPrincipal: undefined });
  return h;
}

const all = (h: string[], name: string): string[] => h.filter((_, i) => i % 2 === 1 && h[i - 1] === name);

describe('xffAddress', () => {
  test('takes the entry `skip` places from the right, trimmed; single only when it is the whole header', () => {
    assert.deepEqual(xffAddress('203.0.113.9', 0), { address: '203.0.113.9', single: true });
    assert.deepEqual(xffAddress('203.0.113.9, 10.0.0.1', 0), { address: '10.0.0.1', single: false });
    assert.deepEqual(xffAddress('203.0.113.9, 10.0.0.1', 1), { address: '203.0.113.9', single: false });
    assert.deepEqual(xffAddress('2001:db8::1', 0), { address: '2001:db8::1', single: true });
    assert.equal(xffAddress('203.0.113.9', 1), undefined, 'not enough entries');
    assert.equal(xffAddress('203.0.113.9,', 0), undefined, 'empty last entry');
    assert.equal(xffAddress('unknown', 0), undefined, 'not an address');
  });
});

describe('isInternalAddress', () => {
  test('without internal_address_config no address is internal (Envoy >= 1.33)', () => {
    const cfg = hcmConfig();
    for (const a of ['127.0.0.1', '10.1.2.3', '192.168.0.1', '::1']) assert.equal(isInternalAddress(cfg, a), false, a);
  });

  test('a config without ranges means RFC1918, RFC4193, 127.0.0.1 and ::1', () => {
    const cfg = hcmConfig({ internalAddressConfig: { unixSockets: false, cidrRanges: [] } });
    for (const a of ['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.7.7', '127.0.0.1', '::1', 'fd00::1', 'fc12::1', '::ffff:10.0.0.1']) assert.equal(isInternalAddress(cfg, a), true, a);
    for (const a of ['172.32.0.1', '127.0.0.2', '8.8.8.8', '2001:db8::1', 'fe80::1', 'not-an-ip']) assert.equal(isInternalAddress(cfg, a), false, a);
  });

  test('configured ranges replace the defaults', () => {
    const cfg = hcmConfig({ internalAddressConfig: { unixSockets: false, cidrRanges: [{ address: '203.0.113.0', prefixLen: 24 }, { address: '2001:db8::', prefixLen: 32 }] } });
    assert.equal(isInternalAddress(cfg, '203.0.113.77'), true);
    assert.equal(isInternalAddress(cfg, '2001:db8:1::5'), true);
    assert.equal(isInternalAddress(cfg, '10.0.0.1'), false);
    assert.equal(isInternalAddress(cfg, '127.0.0.1'), false);
  });
});

describe('use_remote_address (gateways)', () => {
  test('a client outside internal_address_config is external: x-envoy-external-address, its x-envoy-* claims and request id dropped', () => {
    const h = prep({ useRemoteAddress: true }, CLAIMS, '127.0.0.1');
    assert.equal(getHeader(h, 'x-envoy-external-address'), '127.0.0.1');
    for (const n of ['x-envoy-internal', 'x-envoy-retry-on', 'x-envoy-upstream-rq-timeout-ms', 'x-envoy-decorator-operation']) assert.equal(getHeader(h, n), undefined, n);
    assert.match(getHeader(h, 'x-request-id') ?? '', UUID, 'an edge proxy replaces the caller\'s request id');
    assert.deepEqual(all(h, 'x-request-id').length, 1);
    assert.equal(getHeader(h, 'x-forwarded-for'), '127.0.0.1');
    assert.equal(getHeader(h, 'x-forwarded-proto'), 'http');
  });

  test('a client inside internal_address_config (and no XFF) is internal: x-envoy-internal set, its headers kept', () => {
    const h = prep({ useRemoteAddress: true, internalAddressConfig: LOOPBACK_INTERNAL }, CLAIMS, '127.0.0.1');
    assert.deepEqual(all(h, 'x-envoy-internal'), ['true'], 'exactly one, set by this hop');
    assert.equal(getHeader(h, 'x-envoy-external-address'), undefined);
    assert.equal(getHeader(h, 'x-envoy-retry-on'), '5xx');
    assert.equal(getHeader(h, 'x-envoy-decorator-operation'), 'op');
    assert.equal(getHeader(h, 'x-request-id'), 'mine');
  });

  test('an internal peer that forwards XFF is not trusted as internal: the request stays external', () => {
    const h = prep({ useRemoteAddress: true, internalAddressConfig: LOOPBACK_INTERNAL }, { ...CLAIMS, 'x-forwarded-for': '127.0.0.5' }, '127.0.0.1');
    assert.equal(getHeader(h, 'x-envoy-internal'), undefined);
    assert.equal(getHeader(h, 'x-envoy-external-address'), '127.0.0.1');
    assert.equal(getHeader(h, 'x-envoy-retry-on'), undefined);
    assert.equal(getHeader(h, 'x-forwarded-for'), '127.0.0.5,127.0.0.1');
  });

  test('xff_num_trusted_hops: the client address comes from XFF, and the scheme a trusted hop set is kept', () => {
    const h = prep({ useRemoteAddress: true, xffNumTrustedHops: 1 }, { 'x-forwarded-for': ['198.51.100.1', '203.0.113.9'], 'x-forwarded-proto': 'https' }, '10.0.0.7');
    assert.equal(getHeader(h, 'x-envoy-external-address'), '203.0.113.9');
    assert.deepEqual(all(h, 'x-forwarded-for'), ['198.51.100.1,203.0.113.9,10.0.0.7'], 'repeated XFF lines joined, then appended');
    assert.equal(getHeader(h, 'x-forwarded-proto'), 'https');
    const untrusted = prep({ useRemoteAddress: true }, { 'x-forwarded-proto': 'https' }, '10.0.0.7');
    assert.equal(getHeader(untrusted, 'x-forwarded-proto'), 'http', 'no trusted hops: the peer\'s claim is overwritten');
  });

  test('skip_xff_append leaves XFF alone but still judges the peer', () => {
    const h = prep({ useRemoteAddress: true, skipXffAppend: true }, {}, '203.0.113.9');
    assert.equal(getHeader(h, 'x-forwarded-for'), undefined);
    assert.equal(getHeader(h, 'x-envoy-external-address'), '203.0.113.9');
  });
});

describe('XFF-based origin (sidecars: use_remote_address false)', () => {
  test('no XFF: neither internal nor edge — internal-only x-envoy-* dropped, edge-only and the request id kept, no external address', () => {
    const h = prep({ internalAddressConfig: { unixSockets: false, cidrRanges: [] } }, CLAIMS, '127.0.0.1');
    assert.equal(getHeader(h, 'x-envoy-internal'), undefined, 'a client-sent x-envoy-internal never survives');
    assert.equal(getHeader(h, 'x-envoy-retry-on'), undefined);
    assert.equal(getHeader(h, 'x-envoy-upstream-rq-timeout-ms'), undefined);
    assert.equal(getHeader(h, 'x-envoy-decorator-operation'), 'op');
    assert.equal(getHeader(h, 'x-envoy-external-address'), undefined);
    assert.equal(getHeader(h, 'x-request-id'), 'mine');
    assert.equal(getHeader(h, 'x-forwarded-for'), undefined, 'sidecars do not append');
  });

  test('a single internal XFF address makes the request internal; several do not', () => {
    const cfg = { internalAddressConfig: { unixSockets: false, cidrRanges: [] } };
    const one = prep(cfg, { ...CLAIMS, 'x-forwarded-for': '10.1.2.3' }, '203.0.113.1');
    assert.equal(getHeader(one, 'x-envoy-internal'), 'true');
    assert.equal(getHeader(one, 'x-envoy-retry-on'), '5xx');
    const two = prep(cfg, { ...CLAIMS, 'x-forwarded-for': '10.9.9.9, 10.1.2.3' });
    assert.equal(getHeader(two, 'x-envoy-internal'), undefined);
    assert.equal(getHeader(two, 'x-envoy-retry-on'), undefined);
    const external = prep(cfg, { ...CLAIMS, 'x-forwarded-for': '203.0.113.9' });
    assert.equal(getHeader(external, 'x-envoy-internal'), undefined);
    assert.equal(getHeader(external, 'x-envoy-external-address'), undefined, 'only an edge proxy sets it');
  });

  test('x-request-id is generated only when absent; other x-envoy-* headers pass', () => {
    const h = prep({}, { 'x-envoy-attempt-count': '2', 'x-envoy-original-path': '/o' });
    assert.match(getHeader(h, 'x-request-id') ?? '', UUID);
    assert.equal(getHeader(h, 'x-envoy-attempt-count'), '2');
    assert.equal(getHeader(h, 'x-envoy-original-path'), '/o');
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FilterChain } from '../runtime/types.js';
import { ChainSelector } from './chain-match.js';
import type { ChainMatchInput } from './chain-match.js';
import { chain } from './testing.js';

const rt = (c: FilterChain): { chain: FilterChain } => ({ chain: c });
function pick(chains: FilterChain[], input: Partial<ChainMatchInput>, dflt?: FilterChain): string | undefined {
  const sel = new ChainSelector(chains.map(rt), dflt ? rt(dflt) : undefined);
  return sel.select({ destinationPort: 80, destinationIp: '10.0.0.1', transport: 'raw_buffer', alpn: [], sourceIp: '10.1.1.1', ...input })?.chain.name;
}

test('destination port narrows first and is never backtracked', () => {
  const chains = [chain('p80-sni', { destinationPort: 80, serverNames: ['foo.com'] }), chain('any', {})];
  assert.equal(pick(chains, { destinationPort: 80, serverName: 'foo.com' }), 'p80-sni');
  // Port 80 matched a chain, so the port-less chain is not considered even though SNI then fails.
  assert.equal(pick(chains, { destinationPort: 80, serverName: 'bar.com' }), undefined);
  assert.equal(pick(chains, { destinationPort: 81, serverName: 'bar.com' }), 'any');
  assert.equal(pick(chains, { destinationPort: 80, serverName: 'bar.com' }, chain('dflt')), 'dflt');
});

test('destination IP: longest prefix wins; no ranges counts as /0', () => {
  const chains = [chain('wide', { prefixRanges: [{ address: '10.0.0.0', prefixLen: 8 }] }), chain('narrow', { prefixRanges: [{ address: '10.0.0.0', prefixLen: 24 }] }), chain('none')];
  assert.equal(pick(chains, { destinationIp: '10.0.0.7' }), 'narrow');
  assert.equal(pick(chains, { destinationIp: '10.9.0.7' }), 'wide');
  assert.equal(pick(chains, { destinationIp: '192.168.0.1' }), 'none');
  assert.equal(pick([chain('v6', { prefixRanges: [{ address: 'fd00::', prefixLen: 8 }] }), chain('x')], { destinationIp: 'fd12::1' }), 'v6');
  assert.equal(pick([chain('v4', { prefixRanges: [{ address: '127.0.0.0', prefixLen: 8 }] })], { destinationIp: '::ffff:127.0.0.9' }), 'v4');
});

test('server names: exact, then the most specific wildcard, then chains without names', () => {
  const chains = [
    chain('exact', { serverNames: ['api.example.com'] }),
    chain('wild', { serverNames: ['*.example.com'] }),
    chain('deeper', { serverNames: ['*.b.example.com'] }),
    chain('plain'),
  ];
  assert.equal(pick(chains, { serverName: 'api.example.com' }), 'exact');
  assert.equal(pick(chains, { serverName: 'API.Example.com' }), 'exact');
  assert.equal(pick(chains, { serverName: 'x.example.com' }), 'wild');
  assert.equal(pick(chains, { serverName: 'a.b.example.com' }), 'deeper');
  assert.equal(pick(chains, { serverName: 'z.y.example.com' }), 'wild');
  assert.equal(pick(chains, { serverName: 'other.org' }), 'plain');
  assert.equal(pick(chains, {}), 'plain');
});

test('transport protocol, then application protocols in client order', () => {
  const chains = [
    chain('tls-mtls', { transportProtocol: 'tls', applicationProtocols: ['istio-peer-exchange', 'istio'] }),
    chain('tls-any', { transportProtocol: 'tls' }),
    chain('http', { transportProtocol: 'raw_buffer', applicationProtocols: ['http/1.0', 'http/1.1', 'h2c'] }),
    chain('tcp', { transportProtocol: 'raw_buffer' }),
  ];
  assert.equal(pick(chains, { transport: 'tls', alpn: ['istio-http/1.1', 'istio'] }), 'tls-mtls');
  assert.equal(pick(chains, { transport: 'tls', alpn: ['h2'] }), 'tls-any');
  assert.equal(pick(chains, { transport: 'raw_buffer', alpn: ['h2c'] }), 'http');
  assert.equal(pick(chains, { transport: 'raw_buffer', alpn: [] }), 'tcp');
  // Client order decides between two ALPN chains.
  const two = [chain('a', { applicationProtocols: ['x'] }), chain('b', { applicationProtocols: ['y'] })];
  assert.equal(pick(two, { alpn: ['y', 'x'] }), 'b');
  assert.equal(pick(two, { alpn: ['z'] }), undefined);
});

test('source ranges come last; first configured chain wins a tie', () => {
  const chains = [chain('local', { sourcePrefixRanges: [{ address: '127.0.0.0', prefixLen: 8 }] }), chain('any1'), chain('any2')];
  assert.equal(pick(chains, { sourceIp: '127.0.0.6' }), 'local');
  assert.equal(pick(chains, { sourceIp: '10.0.0.1' }), 'any1');
});

test("Istio's virtualInbound: port chains, then HTTP vs TCP catch-alls by ALPN", () => {
  const any = [{ address: '0.0.0.0', prefixLen: 0 }];
  const chains = [
    chain('virtualInbound-blackhole', { destinationPort: 15006 }),
    chain('inbound|9080||', { destinationPort: 9080 }),
    chain('virtualInbound-catchall-http', { prefixRanges: any, applicationProtocols: ['http/1.0', 'http/1.1', 'h2c'] }),
    chain('virtualInbound-catchall-tcp', { prefixRanges: any }),
  ];
  assert.equal(pick(chains, { destinationPort: 15006 }), 'virtualInbound-blackhole');
  assert.equal(pick(chains, { destinationPort: 9080 }), 'inbound|9080||');
  assert.equal(pick(chains, { destinationPort: 8000, alpn: ['http/1.1'] }), 'virtualInbound-catchall-http');
  assert.equal(pick(chains, { destinationPort: 8000 }), 'virtualInbound-catchall-tcp');
});

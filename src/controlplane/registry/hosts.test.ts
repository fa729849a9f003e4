// Host expansion, host matching, exportTo visibility, selectors and protocol inference.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandHost, exportToSet, hostMatches, isVisible, portProtocol, selectorMatches } from './hosts.js';

void describe('hosts', () => {
  void it('expands short hosts with namespace and domain suffix, keeps dotted and wildcard hosts', () => {
    assert.equal(expandHost('reviews', 'default', 'cluster.local'), 'reviews.default.svc.cluster.local');
    assert.equal(expandHost('reviews', 'prod', 'mesh.internal'), 'reviews.prod.svc.mesh.internal');
    assert.equal(expandHost('reviews.prod', 'default', 'cluster.local'), 'reviews.prod');
    assert.equal(expandHost('api.example.com', 'default', 'cluster.local'), 'api.example.com');
    assert.equal(expandHost('*.example.com', 'default', 'cluster.local'), '*.example.com');
    assert.equal(expandHost('*', 'default', 'cluster.local'), '*');
  });

  void it('matches wildcard hosts', () => {
    assert.ok(hostMatches('*.example.com', 'a.example.com'));
    assert.ok(hostMatches('*.example.com', 'a.b.example.com'));
    assert.ok(!hostMatches('*.example.com', 'example.com'));
    assert.ok(hostMatches('*', 'anything'));
    assert.ok(hostMatches('*.com', '*.example.com'));
    assert.ok(!hostMatches('*.example.com', '*.com'));
    assert.ok(!hostMatches('a.example.com', 'b.example.com'));
  });

  void it('computes exportTo visibility', () => {
    const pub = exportToSet(undefined, 'a');
    assert.ok(isVisible(pub, 'a', 'b'));
    const priv = exportToSet(['.'], 'a');
    assert.ok(isVisible(priv, 'a', 'a'));
    assert.ok(!isVisible(priv, 'a', 'b'));
    const some = exportToSet(['b', 'c'], 'a');
    assert.ok(isVisible(some, 'a', 'b'));
    assert.ok(!isVisible(some, 'a', 'a'), 'as istiod: the own namespace is not implied, only "." exports to it');
    assert.ok(!isVisible(some, 'a', 'd'));
    const none = exportToSet(['~'], 'a');
    assert.ok(!isVisible(none, 'a', 'a'));
    assert.ok(!isVisible(none, 'a', 'b'));
    assert.ok(isVisible(exportToSet(['*'], 'a'), 'a', 'z'));
  });

  void it('matches label selectors as subsets', () => {
    assert.ok(selectorMatches({ app: 'x' }, { app: 'x', version: 'v1' }));
    assert.ok(!selectorMatches({ app: 'x', version: 'v2' }, { app: 'x', version: 'v1' }));
    assert.ok(selectorMatches({}, {}));
    assert.ok(selectorMatches(undefined, { a: 'b' }));
  });

  void it('takes the declared protocol, else infers it from the port name', () => {
    assert.equal(portProtocol('tcp-db', 'http'), 'HTTP');
    assert.equal(portProtocol('x', 'GRPC'), 'GRPC');
    assert.equal(portProtocol('x', 'bogus'), 'UNSUPPORTED');
    assert.equal(portProtocol('http', undefined), 'HTTP');
    assert.equal(portProtocol('http-web', undefined), 'HTTP');
    assert.equal(portProtocol('http2-api', undefined), 'HTTP2');
    assert.equal(portProtocol('grpc-web', undefined), 'GRPC-WEB');
    assert.equal(portProtocol('grpc-web-ui', undefined), 'GRPC-WEB');
    assert.equal(portProtocol('grpc-api', undefined), 'GRPC');
    assert.equal(portProtocol('tcp-db', undefined), 'TCP');
    assert.equal(portProtocol('TLS', undefined), 'TLS');
    assert.equal(portProtocol('mongo', undefined), 'MONGO');
    assert.equal(portProtocol('web', undefined), 'UNSUPPORTED');
  });
});

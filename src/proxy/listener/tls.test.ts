import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { connect } from 'node:tls';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import type { DownstreamTls, FilterChain, Listener, StringMatcher } from '../runtime/types.js';
import { Stats } from '../telemetry/stats.js';
import { ListenerManager } from './manager.js';
import type { SecretMaterial } from './tls.js';
import { FakeFactory, chain, listener, snapshot } from './testing.js';
import { makeTestPki } from './testing-certs.js';
import type { TestPki } from './testing-certs.js';
import { lineReader } from './testing-client.js';

let pki: TestPki;
const managers: ListenerManager[] = [];
before(() => {
  pki = makeTestPki();
});
after(async () => {
  for (const m of managers) await m.close();
  pki.cleanup();
});

const exact = (v: string): StringMatcher => ({ kind: 'exact', value: v, ignoreCase: false, test: (s) => s === v });

function tlsChain(name: string, tls: Partial<DownstreamTls>, match: Partial<FilterChain['match']> = {}): FilterChain {
  return chain(name, { transportProtocol: 'tls', ...match }, {
    tls: { requireClientCertificate: false, alpn: [], matchSans: [], certChain: pki.serverCert, privateKey: pki.serverKey, ...tls },
  });
}

async function start(l: Listener, secrets?: Map<string, SecretMaterial>): Promise<{ m: ListenerManager; f: FakeFactory; port: number; stats: Stats }> {
  const f = new FakeFactory();
  const stats = new Stats();
  const m = new ListenerManager({ factory: f, stats, drainMs: 300, ...(secrets ? { secrets: { get: (n) => secrets.get(n) } } : {}) });
  managers.push(m);
  await m.apply(snapshot([l]));
  return { m, f, port: m.boundAddress(l.name)!.port, stats };
}

const gateway = (chains: FilterChain[]): Listener =>
  listener({ name: 'gw', listenerFilters: { tlsInspector: true, httpInspector: false, originalDst: false }, filterChains: chains });

async function tlsDial(port: number, opts: ConnectionOptions): Promise<{ s: TLSSocket; c: ReturnType<typeof lineReader> }> {
  const s = connect({ host: '127.0.0.1', port, ca: pki.caCert, ...opts });
  const c = lineReader(s);
  await once(s, 'secureConnect');
  return { s, c };
}

test('terminates TLS for the chain picked by SNI; ALPN negotiated; the handler reads plaintext', async () => {
  const { f, port } = await start(gateway([
    tlsChain('api', { alpn: ['h2', 'http/1.1'] }, { serverNames: ['api.example.com'] }),
    tlsChain('other', {}),
  ]));
  const { s, c } = await tlsDial(port, { servername: 'api.example.com', ALPNProtocols: ['h2', 'http/1.1'] });
  assert.equal(s.alpnProtocol, 'h2');
  assert.equal(await c.line(), 'tcp1:api api tls h2,http/1.1');
  s.write('over tls\n');
  assert.equal(await c.line(), 'over tls');
  const info = f.handlers[0].infos[0];
  assert.equal(info.transport, 'tls');
  assert.equal(info.sni, 'api.example.com');
  assert.equal(info.peerPrincipal, undefined);
  s.destroy();
});

test('certificate files are read from paths', async () => {
  const { port } = await start(gateway([tlsChain('files', { certChain: pki.paths.serverCert, privateKey: pki.paths.serverKey })]));
  const { s, c } = await tlsDial(port, { servername: 'localhost' });
  assert.equal(await c.line(), 'tcp1:files files tls -');
  s.destroy();
});

test('mutual TLS: client certificate required, SANs matched, peer principal reported', async () => {
  const spiffe = 'spiffe://cluster.local/ns/default/sa/client';
  const { f, port, stats } = await start(gateway([tlsChain('mtls', { caCert: pki.caCert, requireClientCertificate: true, matchSans: [exact(spiffe)] })]));
  const { s, c } = await tlsDial(port, { servername: 'localhost', cert: pki.clientCert, key: pki.clientKey });
  assert.equal(await c.line(), 'tcp1:mtls mtls tls -');
  assert.equal(f.handlers[0].infos[0].peerPrincipal, spiffe);
  s.destroy();

  // No client certificate: the server rejects the handshake.
  const bare = connect({ host: '127.0.0.1', port, ca: pki.caCert, servername: 'localhost' });
  const r = lineReader(bare);
  assert.equal(await r.closed(), '');
  assert.ok(stats.get('listener.127.0.0.1_0.ssl.connection_error') >= 1);
});

test('mutual TLS: a client whose SANs match no allowed name is closed', async () => {
  const { port, f } = await start(gateway([tlsChain('strict', { caCert: pki.caCert, requireClientCertificate: true, matchSans: [exact('spiffe://cluster.local/ns/x/sa/y')] })]));
  const s = connect({ host: '127.0.0.1', port, ca: pki.caCert, servername: 'localhost', cert: pki.clientCert, key: pki.clientKey });
  const r = lineReader(s);
  assert.equal(await r.closed(), '');
  assert.equal(f.handlers[0].infos.length, 0);
});

test('SDS secrets are resolved per handshake through the secret provider (rotation takes effect)', async () => {
  const secrets = new Map<string, SecretMaterial>();
  const { port, stats } = await start(gateway([tlsChain('sds', { certChain: undefined, privateKey: undefined, sdsCertificate: 'default' })]), secrets);
  // Not yet available: the handshake fails, the listener stays up.
  const early = connect({ host: '127.0.0.1', port, ca: pki.caCert, servername: 'localhost' });
  assert.equal(await lineReader(early).closed(), '');
  assert.equal(stats.get('listener.127.0.0.1_0.ssl.connection_error'), 1);
  secrets.set('default', { certChain: pki.serverCert, privateKey: pki.serverKey });
  const { s, c } = await tlsDial(port, { servername: 'localhost' });
  assert.equal(await c.line(), 'tcp1:sds sds tls -');
  s.destroy();
});

test('draining closes TLS connections still open at the deadline, and the active gauge returns to 0', async () => {
  const { m, f, port, stats } = await start(gateway([tlsChain('d', {})]));
  const { s, c } = await tlsDial(port, { servername: 'localhost' });
  await c.line();
  assert.equal(stats.get('listener.127.0.0.1_0.downstream_cx_active'), 1);
  f.handlers[0].drain = () => new Promise(() => {});
  await m.apply(snapshot([]));
  await c.closed();
  assert.equal(s.destroyed, true);
  await new Promise((r) => setImmediate(r));
  assert.equal(stats.get('listener.127.0.0.1_0.downstream_cx_active'), 0);
});

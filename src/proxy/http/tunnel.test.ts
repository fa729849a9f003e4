// Tunnels: WebSocket (HTTP/1.1 Upgrade) through the router with raw sockets, upgrades not enabled → 403,
// upstream refusing the upgrade, and CONNECT in HTTP-proxy mode over HTTP/1.1 (raw, curl) and HTTP/2.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { connect as h2connect } from 'node:http2';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { promisify } from 'node:util';
import { startProxy, startUpstream, type Upstream } from './testing-harness.js';
import { TestClusterManager, hcmConfig, pathMatch, route, routeAction, routeMatch, routeTable, simpleRoutes, vhost } from './testing.js';

const run = promisify(execFile);
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Opens a socket, writes data, resolves once `until` matches what was read (the socket stays open). */
function open(port: number, data: string, until: RegExp): Promise<{ s: Socket; got: string }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(data));
    let got = '';
    const onData = (d: Buffer): void => {
      got += d.toString('latin1');
      if (until.test(got)) {
        s.off('data', onData);
        resolve({ s, got });
      }
    };
    s.on('data', onData);
    s.on('error', reject);
    s.on('close', () => reject(new Error(`closed; got ${JSON.stringify(got)}`)));
  });
}
function readUntil(s: Socket, until: RegExp): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const onData = (d: Buffer): void => {
      got += d.toString('latin1');
      if (until.test(got)) {
        s.off('data', onData);
        resolve(got);
      }
    };
    s.on('data', onData);
  });
}

describe('upgrades and CONNECT', () => {
  let ws: Upstream;
  let echoTcp: ReturnType<typeof createNetServer>;
  let echoPort = 0;
  const clusters = new TestClusterManager();
  before(async () => {
    ws = await startUpstream('ws', (_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' });
      res.end('upgrade required');
    });
    ws.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      if (req.url === '/refuse') {
        socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 7\r\n\r\nrefused');
        return;
      }
      const accept = createHash('sha1').update(String(req.headers['sec-websocket-key']) + WS_GUID).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nX-Up-Host: ${req.headers.host}\r\n\r\n`);
      if (head.length) socket.write(head);
      socket.pipe(socket); // echo frames back as they are
    });
    echoTcp = createNetServer((s) => s.pipe(s));
    await new Promise<void>((r) => echoTcp.listen(0, '127.0.0.1', r));
    echoPort = (echoTcp.address() as AddressInfo).port;
    clusters.add('ws', [{ address: '127.0.0.1', port: ws.port }]);
    clusters.add('echo', [{ address: '127.0.0.1', port: echoPort }]);
    clusters.add('passthrough', [], { type: 'ORIGINAL_DST' });
  });
  after(async () => {
    await clusters.close();
    await ws.close();
    await new Promise<void>((r) => echoTcp.close(() => r()));
  });

  const handshake = (path: string, extra = ''): string =>
    `GET ${path} HTTP/1.1\r\nHost: chat\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

  test('WebSocket upgrade tunnels both ways when the route allows it', async () => {
    const table = routeTable([vhost({ routes: [route({ action: routeAction({ cluster: 'ws', upgradeTypes: ['websocket'] }) })] })]);
    const p = await startProxy(hcmConfig({ routeConfig: table, accessLog: [{ path: 'x' }] }), clusters);
    try {
      const { s, got } = await open(p.port, handshake('/chat') + 'early-bytes', /\r\n\r\n[\s\S]*early-bytes/);
      assert.match(got, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
      assert.match(got, /sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/i);
      assert.match(got, /x-up-host: chat\r\n/i);
      s.write('ping-frame');
      assert.equal(await readUntil(s, /ping-frame/), 'ping-frame');
      s.end();
      const logs = await p.waitLogs(1);
      assert.match(logs[0], /"GET \/chat HTTP\/1\.1" 101 - via_upstream /);
    } finally {
      await p.close();
    }
  });

  test('upgrade on a route without it → 403; upstream refusing the upgrade is relayed', async () => {
    const table = routeTable([
      vhost({
        routes: [
          route({ match: routeMatch({ path: pathMatch('prefix', '/refuse') }), action: routeAction({ cluster: 'ws', upgradeTypes: ['websocket'] }) }),
          route({ action: routeAction({ cluster: 'ws' }) }),
        ],
      }),
    ]);
    const p = await startProxy(hcmConfig({ routeConfig: table }), clusters);
    try {
      const forbidden = await open(p.port, handshake('/chat'), /\r\n\r\n/);
      assert.match(forbidden.got, /^HTTP\/1\.1 403 /);
      forbidden.s.destroy();
      const refused = await open(p.port, handshake('/refuse'), /refused/);
      assert.match(refused.got, /^HTTP\/1\.1 400 /);
      refused.s.destroy();
      assert.equal(p.stats.get('http.test.downstream_rq_ws_on_non_ws_route'), 1);
    } finally {
      await p.close();
    }
  });

  test('HCM-level upgrade config enables websocket for every route', async () => {
    const p = await startProxy(hcmConfig({ routeConfig: simpleRoutes('ws'), upgradeTypes: ['websocket'] }), clusters);
    try {
      const { s, got } = await open(p.port, handshake('/x'), /\r\n\r\n/);
      assert.match(got, /^HTTP\/1\.1 101 /);
      s.destroy();
    } finally {
      await p.close();
    }
  });

  test('CONNECT in HTTP-proxy mode: raw HTTP/1.1, curl -p, HTTP/2; refused without proxy mode', async () => {
    const table = routeTable([
      vhost({ domains: ['echo.svc:7000'], routes: [route({ action: routeAction({ cluster: 'echo' }) })] }),
      vhost({ domains: ['*'], routes: [route({ action: routeAction({ cluster: 'passthrough' }) })] }),
    ]);
    const p = await startProxy(hcmConfig({ routeConfig: table, httpProxyMode: true, accessLog: [{ path: 'x' }] }), clusters);
    const plain = await startProxy(hcmConfig({ routeConfig: table }), clusters);
    const target = createServer((_req, res) => res.end('via tunnel'));
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const tport = (target.address() as AddressInfo).port;
    try {
      const { s, got } = await open(p.port, 'CONNECT echo.svc:7000 HTTP/1.1\r\nHost: echo.svc:7000\r\n\r\n', /\r\n\r\n/);
      assert.match(got, /^HTTP\/1\.1 200 /);
      s.write('through-the-tunnel');
      assert.equal(await readUntil(s, /through-the-tunnel/), 'through-the-tunnel');
      s.destroy();
      // Passthrough (ORIGINAL_DST) to the CONNECT target itself, with curl as the client.
      const { stdout } = await run('curl', ['-s', '-p', '-x', `http://127.0.0.1:${p.port}`, `http://127.0.0.1:${tport}/`]);
      assert.equal(stdout, 'via tunnel');
      // HTTP/2 CONNECT.
      const h2 = await new Promise<string>((resolve, reject) => {
        const c = h2connect(`http://127.0.0.1:${p.port}`);
        c.on('error', reject);
        const st = c.request({ ':method': 'CONNECT', ':authority': 'echo.svc:7000' });
        st.on('response', (h) => {
          if (h[':status'] !== 200) reject(new Error(`status ${String(h[':status'])}`));
          st.write('h2-tunnel');
        });
        let got2 = '';
        st.on('data', (d: Buffer) => {
          got2 += d.toString();
          if (got2 === 'h2-tunnel') {
            st.close();
            c.close();
            resolve(got2);
          }
        });
      });
      assert.equal(h2, 'h2-tunnel');
      const refused = await open(plain.port, 'CONNECT echo.svc:7000 HTTP/1.1\r\nHost: echo.svc:7000\r\n\r\n', /\r\n\r\n/);
      assert.match(refused.got, /^HTTP\/1\.1 404 /);
      refused.s.destroy();
      // Envoy-style: upgrade_configs CONNECT + a connect_matcher route, outside proxy mode; plain requests skip that route.
      const viaMatcher = await startProxy(
        hcmConfig({
          upgradeTypes: ['connect'],
          routeConfig: routeTable([
            vhost({
              routes: [
                route({ match: routeMatch({ connect: true, path: undefined }), action: routeAction({ cluster: 'echo' }) }),
                route({ action: { type: 'direct_response', status: 200, body: 'plain' } }),
              ],
            }),
          ]),
        }),
        clusters,
      );
      try {
        const t = await open(viaMatcher.port, 'CONNECT anything:1 HTTP/1.1\r\nHost: anything:1\r\n\r\n', /\r\n\r\n/);
        assert.match(t.got, /^HTTP\/1\.1 200 /);
        t.s.write('matcher-tunnel');
        assert.equal(await readUntil(t.s, /matcher-tunnel/), 'matcher-tunnel');
        t.s.destroy();
        const plainReq = await open(viaMatcher.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', /plain/);
        assert.match(plainReq.got, /^HTTP\/1\.1 200 /);
        plainReq.s.destroy();
      } finally {
        await viaMatcher.close();
      }
    } finally {
      await p.close();
      await plain.close();
      await new Promise<void>((r) => target.close(() => r()));
    }
  });
});

// VirtualService route actions through a real sidecar: redirect, rewrite (prefix, uriRegexRewrite, authority),
// request/response header set/add/remove, directResponse, CORS preflight and actual requests.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { App, SeenRequest } from '../support/apps.js';
import { dest, virtualService } from '../support/istio.js';
import { Mesh } from '../support/mesh.js';
import type { Sidecar } from '../support/sidecar.js';

const HOST = 'echo.test';
let mesh: Mesh;
let client: Sidecar;
let app: App;

before(async () => {
  mesh = await Mesh.create();
  app = await mesh.app('echo');
  mesh.write('svc.yaml', mesh.serviceFor('echo', HOST, [app]));
  mesh.write('vs.yaml', [
    virtualService({
      name: 'echo',
      hosts: [HOST],
      http: [
        { name: 'redirect', match: [{ uri: { prefix: '/old' } }], redirect: { uri: '/new', authority: 'other.test', redirectCode: 308 } },
        { name: 'redirect-default', match: [{ uri: { exact: '/moved' } }], redirect: { uri: '/here' } },
        { name: 'rewrite-prefix', match: [{ uri: { prefix: '/api/v1/' } }], rewrite: { uri: '/v2/' }, route: [dest(HOST)] },
        { name: 'rewrite-regex', match: [{ uri: { prefix: '/users/' } }], rewrite: { uriRegexRewrite: { match: '^/users/([0-9]+)/(.*)$', rewrite: '/u/\\2/id/\\1' } }, route: [dest(HOST)] },
        { name: 'rewrite-authority', match: [{ uri: { prefix: '/auth' } }], rewrite: { authority: 'rewritten.example' }, route: [dest(HOST)] },
        {
          name: 'headers',
          match: [{ uri: { prefix: '/headers' } }],
          route: [dest(HOST)],
          headers: {
            request: { set: { 'x-set': 'set-value' }, add: { 'x-add': 'added' }, remove: ['x-remove-me'] },
            response: { set: { 'x-resp-set': 'r' }, add: { 'x-resp-add': 'a2' }, remove: ['x-app-secret'] },
          },
        },
        { name: 'host-header', match: [{ uri: { prefix: '/host-header' } }], route: [dest(HOST)], headers: { request: { set: { host: 'set-by-header.example' } } } },
        { name: 'rewrite-exact', match: [{ uri: { exact: '/exact-old' } }], rewrite: { uri: '/exact-new' }, route: [dest(HOST)] },
        { name: 'redirect-https', match: [{ uri: { prefix: '/secure' } }], redirect: { scheme: 'https', port: 8443, redirectCode: 302 } },
        { name: 'redirect-port', match: [{ uri: { prefix: '/same-port' } }], redirect: { authority: 'moved.example', derivePort: 'FROM_REQUEST_PORT' } },
        { name: 'delegated', match: [{ uri: { prefix: '/delegated/' } }], delegate: { name: 'child', namespace: 'default' } },
        { name: 'direct', match: [{ uri: { exact: '/direct' } }], directResponse: { status: 418, body: { string: 'short and stout' } } },
        {
          name: 'cors',
          match: [{ uri: { prefix: '/cors' } }],
          route: [dest(HOST)],
          corsPolicy: {
            allowOrigins: [{ exact: 'https://good.example' }, { regex: 'https://.*\\.trusted\\.example' }],
            allowMethods: ['GET', 'PUT'],
            allowHeaders: ['x-custom'],
            exposeHeaders: ['x-exposed'],
            maxAge: '600s',
            allowCredentials: true,
          },
        },
        { name: 'default', route: [dest(HOST)] },
      ],
    }),
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'child', namespace: 'default' },
      spec: {
        http: [
          { name: 'child-a', match: [{ uri: { prefix: '/delegated/a' } }], route: [dest(HOST)], headers: { response: { set: { 'x-child': 'a' } } } },
          { name: 'child-rest', route: [dest(HOST)], headers: { response: { set: { 'x-child': 'rest' } } } },
        ],
      },
    },
  ]);
  await mesh.startDiscovery();
  client = await mesh.client({ name: 'client' });
});

after(async () => {
  await mesh?.close();
});

test('redirect: code and location (scheme, authority, path); the app is not called', async () => {
  const n = app.requests.length;
  const r = await client.request(HOST, '/old/thing?x=1');
  assert.equal(r.status, 308);
  assert.equal(r.headers.location, 'http://other.test/new?x=1');
  const d = await client.request(HOST, '/moved');
  assert.equal(d.status, 301);
  assert.equal(d.headers.location, `http://${HOST}/here`);
  assert.equal(app.requests.length, n);
});

test('more redirects: scheme + port with 302, derivePort FROM_REQUEST_PORT; exact-match rewrite', async () => {
  const r = await client.request(HOST, '/secure/x?y=1');
  assert.equal(r.status, 302);
  assert.equal(r.headers.location, `https://${HOST}:8443/secure/x?y=1`);
  const p = await client.request(HOST, '/same-port');
  assert.equal(p.status, 301);
  assert.equal(p.headers.location, `http://moved.example:${mesh.port}/same-port`);
  const seen = (await client.request(HOST, '/exact-old?q=2')).json<SeenRequest>();
  assert.equal(seen.url, '/exact-new?q=2');
});

test('delegate: the child VirtualService routes inside the parent prefix, first child match wins', async () => {
  let r = await client.request(HOST, '/delegated/a1');
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-child'], 'a');
  r = await client.request(HOST, '/delegated/other');
  assert.equal(r.headers['x-child'], 'rest');
  r = await client.request(HOST, '/not-delegated');
  assert.equal(r.headers['x-child'], undefined);
});

test('rewrite: prefix, RE2 regex with groups, authority; the original path goes in x-envoy-original-path', async () => {
  let seen = (await client.request(HOST, '/api/v1/items?q=1')).json<SeenRequest>();
  assert.equal(seen.url, '/v2/items?q=1');
  assert.equal(seen.headers['x-envoy-original-path'], '/api/v1/items?q=1');
  seen = (await client.request(HOST, '/users/42/profile')).json<SeenRequest>();
  assert.equal(seen.url, '/u/profile/id/42');
  seen = (await client.request(HOST, '/auth')).json<SeenRequest>();
  assert.equal(seen.headers.host, 'rewritten.example');
});

test('request and response headers: set, add, remove', async () => {
  const r = await client.request(HOST, '/headers', {
    headers: { 'x-set': 'client', 'x-add': 'client', 'x-remove-me': 'bye', 'x-echo-header': 'x-app-secret=s3,x-resp-set=app,x-resp-add=a1' },
  });
  assert.equal(r.status, 200);
  const seen = r.json<SeenRequest>();
  assert.equal(seen.headers['x-set'], 'set-value');
  assert.equal(seen.headers['x-add'], 'client, added');
  assert.equal(seen.headers['x-remove-me'], undefined);
  assert.equal(r.headers['x-resp-set'], 'r');
  assert.equal(r.headers['x-resp-add'], 'a1, a2');
  assert.equal(r.headers['x-app-secret'], undefined);
});

test('headers.request.set of host rewrites the authority sent upstream', async () => {
  const seen = (await client.request(HOST, '/host-header')).json<SeenRequest>();
  assert.equal(seen.headers.host, 'set-by-header.example');
});

test('directResponse: status and body from the proxy', async () => {
  const n = app.requests.length;
  const r = await client.request(HOST, '/direct');
  assert.equal(r.status, 418);
  assert.equal(r.body, 'short and stout');
  assert.equal(app.requests.length, n);
});

test('CORS: preflight answered by the proxy for allowed origins; actual requests get allow-origin', async () => {
  const n = app.requests.length;
  const pre = await client.request(HOST, '/cors', {
    method: 'OPTIONS',
    headers: { origin: 'https://a.trusted.example', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-custom' },
  });
  assert.equal(pre.status, 200);
  assert.equal(pre.headers['access-control-allow-origin'], 'https://a.trusted.example');
  assert.equal(pre.headers['access-control-allow-methods'], 'GET,PUT');
  assert.equal(pre.headers['access-control-allow-headers'], 'x-custom');
  assert.equal(pre.headers['access-control-max-age'], '600');
  assert.equal(pre.headers['access-control-allow-credentials'], 'true');
  assert.equal(app.requests.length, n, 'the preflight did not reach the app');

  const actual = await client.request(HOST, '/cors', { headers: { origin: 'https://good.example' } });
  assert.equal(actual.status, 200);
  assert.equal(actual.headers['access-control-allow-origin'], 'https://good.example');
  assert.equal(actual.headers['access-control-expose-headers'], 'x-exposed');

  const bad = await client.request(HOST, '/cors', { headers: { origin: 'https://evil.example' } });
  assert.equal(bad.status, 200);
  assert.equal(bad.headers['access-control-allow-origin'], undefined);

  // A preflight from an origin the policy does not allow is not answered by the proxy: it goes to the app.
  const m = app.requests.length;
  const badPre = await client.request(HOST, '/cors', { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'PUT' } });
  assert.equal(badPre.app, 'echo');
  assert.equal(badPre.headers['access-control-allow-origin'], undefined);
  assert.equal(app.requests.length, m + 1);
});

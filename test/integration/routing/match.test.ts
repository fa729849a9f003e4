// VirtualService route matching through a real sidecar: path exact/prefix/regex (RE2), headers exact/prefix/regex/
// present/absent, query parameters, method, authority, ignoreUriCase, first match wins, no match → 404 with flag NR.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { App } from '../support/apps.js';
import { dest, virtualService } from '../support/istio.js';
import type { Doc } from '../support/istio.js';
import { Mesh } from '../support/mesh.js';
import { parseAccessLog } from '../support/sidecar.js';
import type { Sidecar } from '../support/sidecar.js';

const HOST = 'echo.test';
let mesh: Mesh;
let client: Sidecar;
let app: App;

/** An HTTPRoute named `name` that tags its responses with `x-route: name`. */
function tagged(name: string, match: Doc[] | undefined): Doc {
  const r: Doc = { name, route: [dest(HOST)], headers: { response: { set: { 'x-route': name } } } };
  if (match) r.match = match;
  return r;
}

before(async () => {
  mesh = await Mesh.create();
  app = await mesh.app('echo');
  mesh.write('svc.yaml', mesh.serviceFor('echo', HOST, [app]));
  mesh.write('vs.yaml', [
    virtualService({
      name: 'echo',
      hosts: [HOST],
      http: [
        tagged('first-a', [{ uri: { prefix: '/first' } }]),
        tagged('first-b', [{ uri: { exact: '/first/x' } }]),
        tagged('exact', [{ uri: { exact: '/exact' } }]),
        tagged('prefix', [{ uri: { prefix: '/prefix/' } }]),
        // (?i) is RE2 syntax a JS RegExp rejects; RE2 regexes match the whole path.
        tagged('regex', [{ uri: { regex: '(?i)/re/[a-z]+' } }]),
        tagged('caseless', [{ uri: { exact: '/CaseLess' }, ignoreUriCase: true }]),
        tagged('hdr-exact', [{ uri: { prefix: '/h' }, headers: { 'x-h': { exact: 'a' } } }]),
        tagged('hdr-prefix', [{ uri: { prefix: '/h' }, headers: { 'x-h': { prefix: 'pre' } } }]),
        tagged('hdr-regex', [{ uri: { prefix: '/h' }, headers: { 'x-h': { regex: 'v[0-9]+' } } }]),
        tagged('hdr-present', [{ uri: { prefix: '/h' }, headers: { 'x-present': {} } }]),
        tagged('without', [{ uri: { prefix: '/wo' }, withoutHeaders: { 'x-block': {} } }]),
        tagged('query-exact', [{ uri: { prefix: '/q' }, queryParams: { q: { exact: 'x' } } }]),
        tagged('query-regex', [{ uri: { prefix: '/q' }, queryParams: { q: { regex: '[0-9]+' } } }]),
        tagged('method', [{ uri: { prefix: '/m' }, method: { exact: 'POST' } }]),
        tagged('authority', [{ uri: { prefix: '/a' }, authority: { exact: `${HOST}:${mesh.port}` } }]),
        tagged('or', [{ uri: { exact: '/or1' } }, { uri: { exact: '/or2' } }]),
      ],
    }),
  ]);
  await mesh.startDiscovery();
  client = await mesh.client({ name: 'client' });
});

after(async () => {
  await mesh?.close();
});

async function routeOf(path: string, o: { headers?: Record<string, string>; method?: string; host?: string } = {}): Promise<string> {
  const r = await client.request(o.host ?? HOST, path, { ...(o.headers ? { headers: o.headers } : {}), ...(o.method ? { method: o.method } : {}) });
  if (r.status === 404) return '404';
  assert.equal(r.status, 200, `${path}: ${r.body}`);
  assert.equal(r.app, 'echo');
  const route = r.headers['x-route'];
  return typeof route === 'string' ? route : '-';
}

test('path exact, prefix and RE2 regex (full match, inline flags)', async () => {
  assert.equal(await routeOf('/exact'), 'exact');
  assert.equal(await routeOf('/exact/more'), '404');
  assert.equal(await routeOf('/prefix/a/b?x=1'), 'prefix');
  assert.equal(await routeOf('/prefix'), '404');
  assert.equal(await routeOf('/re/abc'), 'regex');
  assert.equal(await routeOf('/RE/ABC'), 'regex');
  assert.equal(await routeOf('/re/ab1'), '404');
  assert.equal(await routeOf('/x/re/abc'), '404');
});

test('ignoreUriCase, first match wins, several match blocks are ORed', async () => {
  assert.equal(await routeOf('/caseless'), 'caseless');
  assert.equal(await routeOf('/CASELESS'), 'caseless');
  assert.equal(await routeOf('/first/x'), 'first-a');
  assert.equal(await routeOf('/or1'), 'or');
  assert.equal(await routeOf('/or2'), 'or');
});

test('headers exact, prefix, regex, present and withoutHeaders', async () => {
  assert.equal(await routeOf('/h', { headers: { 'x-h': 'a' } }), 'hdr-exact');
  assert.equal(await routeOf('/h', { headers: { 'x-h': 'prefixed' } }), 'hdr-prefix');
  assert.equal(await routeOf('/h', { headers: { 'x-h': 'v42' } }), 'hdr-regex');
  assert.equal(await routeOf('/h', { headers: { 'x-h': 'v42x' } }), '404'); // regex is a full match
  assert.equal(await routeOf('/h', { headers: { 'x-present': '' } }), 'hdr-present');
  assert.equal(await routeOf('/h', { headers: { 'x-present': 'anything' } }), 'hdr-present');
  assert.equal(await routeOf('/h'), '404');
  assert.equal(await routeOf('/wo'), 'without');
  assert.equal(await routeOf('/wo', { headers: { 'x-block': '1' } }), '404');
});

test('query parameters, method and authority', async () => {
  assert.equal(await routeOf('/q?q=x'), 'query-exact');
  assert.equal(await routeOf('/q?a=1&q=123'), 'query-regex');
  assert.equal(await routeOf('/q?q=x1'), '404');
  assert.equal(await routeOf('/q'), '404');
  assert.equal(await routeOf('/m', { method: 'POST' }), 'method');
  assert.equal(await routeOf('/m'), '404');
  assert.equal(await routeOf('/a', { host: `${HOST}:${mesh.port}` }), 'authority');
  assert.equal(await routeOf('/a'), '404');
});

test('no route matches: 404 from the proxy, flag NR in the access log, the app never sees it', async () => {
  const from = client.accessLines.length;
  const before = app.requests.length;
  const r = await client.request(HOST, '/nowhere-at-all');
  assert.equal(r.status, 404);
  assert.equal(r.app, undefined);
  const line = await client.waitForLog(/nowhere-at-all/, from);
  const e = parseAccessLog(line);
  assert.ok(e, line);
  assert.equal(e.status, 404);
  assert.equal(e.flags, 'NR');
  assert.equal(e.details, 'route_not_found');
  assert.equal(app.requests.length, before);
});

test('the same routes through an HTTP_PROXY egress listener (absolute-form requests, as apps with HTTP_PROXY send)', async () => {
  const proxyClient = await mesh.client({ name: 'proxy-client', httpProxy: true });
  const via = async (path: string, headers: Record<string, string> = {}): Promise<string> => {
    const r = await proxyClient.request(HOST, path, { headers });
    return r.status === 200 ? String(r.headers['x-route']) : String(r.status);
  };
  assert.equal(await via('/exact'), 'exact');
  assert.equal(await via('/RE/xyz'), 'regex');
  assert.equal(await via('/h', { 'x-h': 'v7' }), 'hdr-regex');
  assert.equal(await via('/q?q=x'), 'query-exact');
  const r = await proxyClient.request(HOST, '/exact');
  assert.equal(r.json<{ url: string }>().url, '/exact', 'forwarded in origin form');
  await proxyClient.stop();
});

// Access logs on generated listeners: Telemetry accessLogging per listener class (outbound and gateways CLIENT, inbound
// SERVER) with its providers' formats, and meshConfig.accessLogFile only where no Telemetry applies.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypeUrl } from '../../../xds/types.js';
import { fromStruct } from '../../../xds/codec.js';
import { ISTIO_TEXT_FORMAT } from '../../../xds/access-log-format.js';
import { pushContextFromYaml, testProxy } from '../../model/testing.js';
import type { MeshConfig, Proxy } from '../../model/types.js';
import { assertGolden } from '../golden.js';
import { lds } from '../../../../test/simulation/gen.js';
import { BOOKINFO, join } from '../../../../test/simulation/fixtures.js';
import { providerAccessLog } from './access-log.js';

type Obj = Record<string, unknown>;

const reviews = testProxy({ labels: { app: 'reviews', version: 'v1' }, ip: '127.0.0.13', name: 'reviews-v1', metadata: { INTERCEPTION_MODE: 'NONE' } });

/** reviews binds its inbound port (127.0.0.13_9080) and one outbound listener (127.0.0.1_9080) without capture. */
const SIDECAR = `
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: reviews}
spec:
  workloadSelector: {labels: {app: reviews}}
  ingress:
  - port: {number: 9080, protocol: HTTP, name: http}
    defaultEndpoint: 127.0.0.1:19080
  egress:
  - port: {number: 9080, protocol: HTTP, name: http}
    hosts: [./ratings.default.svc.cluster.local]
  - port: {number: 3306, protocol: TCP, name: tcp}
    bind: 127.0.0.1
    hosts: [./ratings.default.svc.cluster.local]`;

function telemetry(ns: string, name: string, spec: string): string {
  return `apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: ${name}, namespace: ${ns}}\nspec:\n${spec}`;
}

/** Listener name → the access logs of each of its HCMs / tcp_proxies, as `path format` strings. */
function logsByListener(push: ReturnType<typeof pushContextFromYaml>, proxy: Proxy = reviews): Record<string, string[][]> {
  const out: Record<string, string[][]> = {};
  for (const r of lds(push, proxy)) {
    const l = r.resource;
    const chains = [...((l.filter_chains as Obj[] | undefined) ?? []), ...(l.default_filter_chain ? [l.default_filter_chain as Obj] : [])];
    out[r.name] = chains.flatMap((c) => (c.filters as Obj[]).filter((f) => f.typed_config && (f.typed_config as Obj).stat_prefix !== undefined)).map((f) =>
      (((f.typed_config as Obj).access_log as Obj[] | undefined) ?? []).map((a) => {
        const tc = a.typed_config as { path: string; log_format: { json_format?: unknown; text_format_source?: { inline_string: string } } };
        const fmt = tc.log_format.json_format ? `json:${Object.keys(fromStruct(tc.log_format.json_format)).join(',')}` : tc.log_format.text_format_source?.inline_string === ISTIO_TEXT_FORMAT ? 'istio-text' : JSON.stringify(tc.log_format.text_format_source?.inline_string);
        return `${tc.path} ${fmt}`;
      }),
    );
  }
  return out;
}

const mesh: MeshConfig = {
  extensionProviders: [
    { name: 'codes', envoyFileAccessLog: { path: '/tmp/codes.log', logFormat: { text: '%RESPONSE_CODE% %RESPONSE_FLAGS%' } } },
    { name: 'json', envoyFileAccessLog: { logFormat: { labels: { code: '%RESPONSE_CODE%', flags: '%RESPONSE_FLAGS%' } } } },
  ],
};

void describe('Telemetry access logging on listeners', () => {
  void it('mesh-wide envoy provider, workload override: inbound (SERVER) custom text, outbound (CLIENT) JSON + envoy', () => {
    const push = pushContextFromYaml(
      join(
        BOOKINFO,
        SIDECAR,
        telemetry('istio-system', 'mesh-default', '  accessLogging:\n  - providers: [{name: envoy}]'),
        telemetry('default', 'reviews', '  selector: {matchLabels: {app: reviews}}\n  accessLogging:\n  - providers: [{name: codes}]\n    match: {mode: SERVER}\n  - providers: [{name: json}, {name: envoy}]\n    match: {mode: CLIENT}'),
      ),
      { mesh },
    );
    assertGolden('listener-sidecar-telemetry', lds(push, reviews), TypeUrl.Listener);
    assert.deepEqual(logsByListener(push), {
      '127.0.0.1_9080': [['/dev/stdout istio-text', '/dev/stdout json:code,flags']],
      '127.0.0.1_3306': [['/dev/stdout istio-text', '/dev/stdout json:code,flags']],
      '127.0.0.13_9080': [['/tmp/codes.log "%RESPONSE_CODE% %RESPONSE_FLAGS%\\n"']],
    });
  });

  void it('Telemetry disabling the provider turns meshConfig.accessLogFile off; no Telemetry keeps it', () => {
    const file: MeshConfig = { accessLogFile: '/var/log/a.log', accessLogEncoding: 'JSON' };
    const none = logsByListener(pushContextFromYaml(join(BOOKINFO, SIDECAR), { mesh: file }));
    assert.ok(Object.values(none).flat().every((l) => l.length === 1 && l[0].startsWith('/var/log/a.log json:')), JSON.stringify(none));
    const off = telemetry('default', 'off', '  accessLogging:\n  - providers: [{name: envoy}]\n    disabled: true');
    assert.ok(Object.values(logsByListener(pushContextFromYaml(join(BOOKINFO, SIDECAR, off), { mesh: file }))).flat().every((l) => l.length === 0));
    // Only the inbound side switched off: outbound keeps the mesh file log (nothing applies to CLIENT).
    const serverOff = telemetry('default', 'off', '  accessLogging:\n  - providers: [{name: envoy}]\n    disabled: true\n    match: {mode: SERVER}');
    const l = logsByListener(pushContextFromYaml(join(BOOKINFO, SIDECAR, serverOff), { mesh: file }));
    assert.deepEqual(l['127.0.0.13_9080'], [[]]);
    assert.equal(l['127.0.0.1_9080'][0][0].split(' ')[0], '/var/log/a.log');
  });

  void it('gateways log as CLIENT', () => {
    const gw = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 8080, name: http, protocol: HTTP}, hosts: ["*"]}]`;
    const router = testProxy({ type: 'router', namespace: 'istio-system', labels: { istio: 'ingressgateway' }, ip: '127.0.0.50', name: 'ingress' });
    const onlyServer = telemetry('istio-system', 'mesh', '  accessLogging:\n  - providers: [{name: json}]\n    match: {mode: SERVER}');
    const onlyClient = telemetry('istio-system', 'mesh', '  accessLogging:\n  - providers: [{name: json}]\n    match: {mode: CLIENT}');
    assert.deepEqual(Object.values(logsByListener(pushContextFromYaml(join(gw, onlyServer), { mesh }), router)).flat(), [[]]);
    assert.deepEqual(Object.values(logsByListener(pushContextFromYaml(join(gw, onlyClient), { mesh }), router)).flat(), [['/dev/stdout json:code,flags']]);
  });

  void it('provider formats: built-in envoy follows meshConfig encoding, empty labels are Istio\'s JSON fields', () => {
    const fmt = (a: Obj | undefined): Obj => (a?.typed_config as { log_format: Obj }).log_format;
    const envoy = { name: 'envoy', envoyFileAccessLog: { path: '/dev/stdout' } };
    assert.ok(fmt(providerAccessLog(envoy, { accessLogEncoding: 'JSON' })).json_format);
    assert.deepEqual(fmt(providerAccessLog(envoy, { accessLogFormat: '%RESPONSE_CODE%' })), { text_format_source: { inline_string: '%RESPONSE_CODE%\n' } });
    const labels = fmt(providerAccessLog({ name: 'j', envoyFileAccessLog: { logFormat: { labels: {} } } }, undefined));
    assert.equal(fromStruct(labels.json_format).response_flags, '%RESPONSE_FLAGS%');
    const plain = providerAccessLog({ name: 'p', envoyFileAccessLog: {} }, { accessLogEncoding: 'JSON' });
    assert.equal((plain?.typed_config as Obj).path, '/dev/stdout');
    assert.deepEqual(fmt(plain), { text_format_source: { inline_string: ISTIO_TEXT_FORMAT } }, 'a user provider ignores meshConfig encoding');
    assert.equal(providerAccessLog({ name: 'x' }, undefined), undefined);
  });
});

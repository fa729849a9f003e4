// Telemetry accessLogging per proxy and listener class, with Istio's merge: root namespace < namespace < workload
// selector; providers of a more specific level replace the parent's; `disabled` switches a provider off; match.mode.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pushContextFromYaml, testProxy } from './testing.js';
import type { MeshConfig, Proxy, TelemetryMode } from './types.js';

/** One Telemetry document; `spec` is YAML indented by two spaces. */
function telemetry(ns: string, name: string, spec: string, created?: string): string {
  const ts = created ? `, creationTimestamp: "${created}"` : '';
  return `---\napiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: ${name}, namespace: ${ns}${ts}}\nspec:\n${spec}\n`;
}

const ENVOY_ON = '  accessLogging:\n  - providers: [{name: envoy}]';
const ENVOY_OFF = '  accessLogging:\n  - providers: [{name: envoy}]\n    disabled: true';

const productpage = testProxy({ namespace: 'default', labels: { app: 'productpage' } });
const details = testProxy({ namespace: 'default', labels: { app: 'details' } });
const other = testProxy({ namespace: 'other', labels: { app: 'x' } });

/** `name` or `name:off` (plus `[filter]`) per provider in effect. */
function logging(yaml: string, proxy: Proxy, mode: TelemetryMode, mesh?: MeshConfig): string[] {
  const push = pushContextFromYaml(yaml, mesh ? { mesh } : {});
  return push.accessLogging(proxy, mode).map((c) => `${c.provider.name}${c.disabled ? ':off' : ''}${c.filter ? `[${c.filter}]` : ''}`);
}

void describe('Telemetry access logging', () => {
  void it('applies nothing without Telemetry (meshConfig.accessLogFile decides)', () => {
    assert.deepEqual(logging('', productpage, 'CLIENT'), []);
    assert.deepEqual(logging(telemetry('default', 't', '  tracing:\n  - randomSamplingPercentage: 1'), productpage, 'CLIENT'), []);
  });

  void it('root namespace Telemetry is mesh-wide, for both classes and every namespace', () => {
    const y = telemetry('istio-system', 'mesh-default', ENVOY_ON);
    for (const p of [productpage, other, testProxy({ namespace: 'istio-system', type: 'router' })]) {
      assert.deepEqual(logging(y, p, 'CLIENT'), ['envoy']);
      assert.deepEqual(logging(y, p, 'SERVER'), ['envoy']);
    }
  });

  void it('namespace overrides root, workload selector overrides namespace', () => {
    const y = telemetry('istio-system', 'mesh', ENVOY_ON) + telemetry('default', 'ns-off', ENVOY_OFF) + telemetry('default', 'pp-on', `  selector: {matchLabels: {app: productpage}}\n${ENVOY_ON}`);
    assert.deepEqual(logging(y, productpage, 'CLIENT'), ['envoy']);
    assert.deepEqual(logging(y, details, 'CLIENT'), ['envoy:off']);
    assert.deepEqual(logging(y, other, 'SERVER'), ['envoy']);
    // A selector in another namespace selects nothing here.
    const foreign = telemetry('other', 'sel', `  selector: {matchLabels: {app: productpage}}\n${ENVOY_OFF}`);
    assert.deepEqual(logging(telemetry('istio-system', 'mesh', ENVOY_ON) + foreign, productpage, 'CLIENT'), ['envoy']);
  });

  void it('a level that names other providers replaces the parent\'s (case-insensitive lookup)', () => {
    const mesh: MeshConfig = { extensionProviders: [{ name: 'json-log', envoyFileAccessLog: { path: '/tmp/a.log', logFormat: { labels: {} } } }] };
    const y = telemetry('istio-system', 'mesh', ENVOY_ON) + telemetry('default', 'ns', '  accessLogging:\n  - providers: [{name: JSON-LOG}]');
    assert.deepEqual(logging(y, productpage, 'CLIENT', mesh), ['json-log']);
    assert.deepEqual(logging(y, other, 'CLIENT', mesh), ['envoy']);
    // Two providers at once, sorted by name; an unknown provider is left out.
    const both = telemetry('istio-system', 'mesh', '  accessLogging:\n  - providers: [{name: json-log}, {name: nope}, {name: envoy}]');
    assert.deepEqual(logging(both, productpage, 'SERVER', mesh), ['envoy', 'json-log']);
    // Only unknown providers: as if no Telemetry applied.
    assert.deepEqual(logging(telemetry('istio-system', 'mesh', '  accessLogging:\n  - providers: [{name: nope}]'), productpage, 'SERVER'), []);
  });

  void it('match.mode limits an entry to CLIENT (outbound, gateways) or SERVER (inbound)', () => {
    const y = telemetry('istio-system', 'mesh', ENVOY_ON) + telemetry('default', 'no-client', `${ENVOY_OFF}\n    match: {mode: CLIENT}`);
    assert.deepEqual(logging(y, productpage, 'CLIENT'), ['envoy:off']);
    assert.deepEqual(logging(y, productpage, 'SERVER'), ['envoy']);
    const serverOnly = telemetry('istio-system', 'mesh', `${ENVOY_ON}\n    match: {mode: SERVER}`);
    assert.deepEqual(logging(serverOnly, productpage, 'SERVER'), ['envoy']);
    assert.deepEqual(logging(serverOnly, productpage, 'CLIENT'), [], 'nothing for CLIENT: falls back like no Telemetry');
    const both = telemetry('istio-system', 'mesh', `${ENVOY_ON}\n    match: {mode: CLIENT_AND_SERVER}`);
    assert.deepEqual(logging(both, productpage, 'CLIENT'), ['envoy']);
  });

  void it('entries without providers use defaultProviders; without defaults they change nothing (Istio IST0157)', () => {
    const mesh: MeshConfig = { defaultProviders: { accessLogging: ['envoy'] } };
    assert.deepEqual(logging('', productpage, 'CLIENT', mesh), ['envoy'], 'default providers log mesh-wide without any Telemetry');
    const off = telemetry('default', 'off', '  accessLogging:\n  - disabled: true');
    assert.deepEqual(logging(off, productpage, 'CLIENT', mesh), ['envoy:off']);
    assert.deepEqual(logging(off, other, 'CLIENT', mesh), ['envoy']);
    assert.deepEqual(logging(off, productpage, 'CLIENT'), []);
  });

  void it('carries the filter expression of the entry that names the provider', () => {
    const y = telemetry('istio-system', 'mesh', `${ENVOY_ON}\n    filter: {expression: "response.code >= 400"}`);
    assert.deepEqual(logging(y, productpage, 'CLIENT'), ['envoy[response.code >= 400]']);
  });

  void it('oldest selector-less Telemetry of a namespace wins; targetRefs and root selectors for other namespaces do not apply', () => {
    const y =
      telemetry('default', 'b-new', ENVOY_ON, '2024-02-01T00:00:00Z') +
      telemetry('default', 'a-old', ENVOY_OFF, '2024-01-01T00:00:00Z') +
      telemetry('default', 'gw', `  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]\n${ENVOY_ON}`) +
      telemetry('istio-system', 'root-sel', `  selector: {matchLabels: {app: details}}\n${ENVOY_ON}`);
    assert.deepEqual(logging(y, productpage, 'CLIENT'), ['envoy:off']);
    assert.deepEqual(logging(y, details, 'CLIENT'), ['envoy:off']);
    const gateway = testProxy({ namespace: 'istio-system', type: 'router', labels: { app: 'details' } });
    assert.deepEqual(logging(y, gateway, 'CLIENT'), ['envoy'], 'a root-namespace selector applies to proxies in the root namespace');
  });
});

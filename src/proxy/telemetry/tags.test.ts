// istio-proxy's tag extraction (Istio bootstrap stats_tags, Envoy's defaults off): label names, values, their order
// (rules without a `^token\.` prefix first) and the names Istio leaves flattened.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extractTags } from './tags.js';

const SVC = 'outbound|9080||reviews.default.svc.cluster.local';
/** [extracted name, [tag, value] pairs in the order Envoy adds them]. */
const tags = (stat: string): [string, [string, string][]] => {
  const t = extractTags(stat);
  return [t.name, t.tags.map((g) => [g.name, g.value])];
};

test('cluster stats: the whole service FQDN as cluster_name; response_code and response_code_class on upstream_rq', () => {
  assert.deepEqual(tags(`cluster.${SVC}.upstream_rq_total`), ['cluster.upstream_rq_total', [['cluster_name', SVC]]]);
  assert.deepEqual(tags(`cluster.${SVC}.upstream_rq_200`), ['cluster.upstream_rq', [['response_code', '200'], ['cluster_name', SVC]]]);
  assert.deepEqual(tags(`cluster.${SVC}.upstream_rq_5xx`), ['cluster.upstream_rq', [['response_code_class', '5xx'], ['cluster_name', SVC]]]);
  assert.deepEqual(tags('cluster.outbound|9080|v1|reviews.default.svc.cluster.local.circuit_breakers.default.rq_open'), ['cluster.circuit_breakers.default.rq_open', [['cluster_name', 'outbound|9080|v1|reviews.default.svc.cluster.local']]]);
  assert.deepEqual(tags(`cluster.${SVC}.outlier_detection.ejections_active`), ['cluster.outlier_detection.ejections_active', [['cluster_name', SVC]]]);
  assert.deepEqual(tags('cluster.PassthroughCluster.upstream_cx_total'), ['cluster.upstream_cx_total', [['cluster_name', 'PassthroughCluster']]]);
  assert.deepEqual(tags('cluster.inbound|9080||.upstream_rq_time'), ['cluster.upstream_rq_time', [['cluster_name', 'inbound|9080||']]]);
  // Not response codes: _time, _total, _other, and a code not right after `_rq`.
  assert.deepEqual(tags('cluster.c.upstream_rq_unknown'), ['cluster.upstream_rq_unknown', [['cluster_name', 'c']]]);
  assert.deepEqual(tags('cluster.c.upstream_cx_200'), ['cluster.upstream_cx_200', [['cluster_name', 'c']]]);
});

test("Istio's cluster_name quirks: non-Kubernetes hosts cut at their first dot; a `cache.` in the name adds a cache label", () => {
  assert.deepEqual(tags('cluster.outbound|443||www.example.com.upstream_rq_total'), ['cluster.example.com.upstream_rq_total', [['cluster_name', 'outbound|443||www']]]);
  assert.deepEqual(tags('cluster.outbound|80||cache.default.svc.cluster.local.upstream_cx_total'), ['cluster.upstream_cx_total', [['cache', 'default'], ['cluster_name', 'outbound|80||cache.default.svc.cluster.local']]]);
});

test('listener_address and http_conn_manager_prefix only take addresses; other prefixes stay in the name', () => {
  assert.deepEqual(tags('listener.127.0.0.1_9080.downstream_cx_total'), ['listener.downstream_cx_total', [['listener_address', '127.0.0.1_9080']]]);
  assert.deepEqual(tags('listener.0.0.0.0_15006.ssl.handshake'), ['listener.ssl.handshake', [['listener_address', '0.0.0.0_15006']]]);
  assert.deepEqual(tags('listener.[__]_15001.downstream_cx_active'), ['listener.downstream_cx_active', [['listener_address', '[__]_15001']]]);
  assert.deepEqual(tags('listener.0.0.0.0_15006.http.inbound_0.0.0.0_9080.downstream_rq_2xx'), ['listener.http.inbound_0.0.0.0_9080.downstream_rq', [['response_code_class', '2xx'], ['listener_address', '0.0.0.0_15006']]]);
  assert.deepEqual(tags('listener.0.0.0.0_15006.http.10.0.0.1_9080.downstream_rq_2xx'), ['listener.http.downstream_rq', [['response_code_class', '2xx'], ['http_conn_manager_listener_prefix', '10.0.0.1_9080'], ['listener_address', '0.0.0.0_15006']]]);
  assert.deepEqual(tags('http.10.0.0.1_9080.downstream_rq_total'), ['http.downstream_rq_total', [['http_conn_manager_prefix', '10.0.0.1_9080']]]);
  assert.deepEqual(tags('http.outbound_0.0.0.0_9080.downstream_rq_total'), ['http.outbound_0.0.0.0_9080.downstream_rq_total', []]);
  assert.deepEqual(tags('http.inbound_0.0.0.0_9080.downstream_rq_4xx'), ['http.inbound_0.0.0.0_9080.downstream_rq', [['response_code_class', '4xx']]]);
  assert.deepEqual(tags('http.inbound_0.0.0.0_9080.fault.aborts_injected'), ['http.inbound_0.0.0.0_9080.fault.aborts_injected', []]);
  for (const n of ['listener.admin.downstream_cx_total', 'listener.virtualOutbound.downstream_cx_total', 'listener.::_15001.downstream_cx_total']) assert.deepEqual(tags(n), [n, []]);
});

test('tcp_prefix up to the last token; RBAC results', () => {
  assert.deepEqual(tags('tcp.outbound|3306||mysql.default.svc.cluster.local.downstream_cx_total'), ['tcp.downstream_cx_total', [['tcp_prefix', 'outbound|3306||mysql.default.svc.cluster.local']]]);
  assert.deepEqual(tags('tcp.PassthroughCluster.idle_timeout'), ['tcp.idle_timeout', [['tcp_prefix', 'PassthroughCluster']]]);
  assert.deepEqual(tags('http.inbound_0.0.0.0_9080.rbac.allowed'), ['http.inbound_0.0.0.0_9080.rbac', [['authz_enforce_result', 'allowed']]]);
  assert.deepEqual(tags('http.inbound_0.0.0.0_9080.rbac.shadow_denied'), ['http.inbound_0.0.0.0_9080.rbac', [['authz_dry_run_result', 'denied']]]);
});

test("names without an Istio rule are unchanged (none of Envoy's default tags)", () => {
  const flat = [
    'server.live',
    'server.memory_allocated',
    'runtime.load_success',
    'cluster.onlyonetoken',
    'cluster_manager.cds.update_success',
    'listener_manager.total_listeners_active',
    'http_local_rate_limiter.http_local_rate_limit.rate_limited',
  ];
  for (const n of flat) assert.deepEqual(tags(n), [n, []]);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extractTags } from './tags.js';

const SVC = 'outbound|9080||reviews.default.svc.cluster.local';
const tags = (stat: string): [string, Record<string, string>] => {
  const t = extractTags(stat);
  return [t.name, Object.fromEntries(t.tags.map((g) => [g.name, g.value]))];
};

test('cluster stats: the whole (dotted) cluster name, response codes and classes', () => {
  assert.deepEqual(tags(`cluster.${SVC}.upstream_rq_total`), ['cluster.upstream_rq_total', { 'envoy.cluster_name': SVC }]);
  assert.deepEqual(tags(`cluster.${SVC}.upstream_rq_503`), ['cluster.upstream_rq', { 'envoy.response_code': '503', 'envoy.cluster_name': SVC }]);
  assert.deepEqual(tags(`cluster.${SVC}.upstream_rq_5xx`), ['cluster.upstream_rq_xx', { 'envoy.response_code_class': '5', 'envoy.cluster_name': SVC }]);
  assert.deepEqual(tags(`cluster.${SVC}.circuit_breakers.default.rq_open`), ['cluster.circuit_breakers.default.rq_open', { 'envoy.cluster_name': SVC }]);
  assert.deepEqual(tags(`cluster.${SVC}.outlier_detection.ejections_active`), ['cluster.outlier_detection.ejections_active', { 'envoy.cluster_name': SVC }]);
  assert.deepEqual(tags('cluster.PassthroughCluster.upstream_cx_total'), ['cluster.upstream_cx_total', { 'envoy.cluster_name': 'PassthroughCluster' }]);
  // upstream_rq_time and _total are not response codes; cluster_manager.* is not a cluster.
  assert.deepEqual(tags('cluster.c.upstream_rq_time'), ['cluster.upstream_rq_time', { 'envoy.cluster_name': 'c' }]);
  assert.deepEqual(tags('cluster_manager.cds.update_success'), ['cluster_manager.cds.update_success', {}]);
});

test('HTTP connection manager, listener, tcp_proxy and local rate limit prefixes', () => {
  assert.deepEqual(tags('http.outbound_0.0.0.0_9080.downstream_rq_total'), ['http.downstream_rq_total', { 'envoy.http_conn_manager_prefix': 'outbound_0.0.0.0_9080' }]);
  assert.deepEqual(tags('http.inbound_0.0.0.0_9080.downstream_rq_2xx'), ['http.downstream_rq_xx', { 'envoy.response_code_class': '2', 'envoy.http_conn_manager_prefix': 'inbound_0.0.0.0_9080' }]);
  assert.deepEqual(tags('http.p.fault.aborts_injected'), ['http.fault.aborts_injected', { 'envoy.http_conn_manager_prefix': 'p' }]);
  assert.deepEqual(tags('http.p.downstream_rq_time'), ['http.downstream_rq_time', { 'envoy.http_conn_manager_prefix': 'p' }]);
  assert.deepEqual(tags('listener.127.0.0.1_9080.downstream_cx_total'), ['listener.downstream_cx_total', { 'envoy.listener_address': '127.0.0.1_9080' }]);
  assert.deepEqual(tags('listener.[__]_15001.ssl.handshake'), ['listener.ssl.handshake', { 'envoy.listener_address': '[__]_15001' }]);
  assert.deepEqual(tags('listener.virtualOutbound.downstream_cx_total'), ['listener.downstream_cx_total', { 'envoy.listener_address': 'virtualOutbound' }]);
  assert.deepEqual(tags('listener.admin.downstream_cx_total'), ['listener.admin.downstream_cx_total', {}], 'Envoy never tags the admin listener');
  assert.deepEqual(tags('listener_manager.total_listeners_active'), ['listener_manager.total_listeners_active', {}]);
  assert.deepEqual(tags('tcp.outbound|3306||mysql.default.svc.cluster.local.downstream_cx_total'), ['tcp.downstream_cx_total', { 'envoy.tcp_prefix': 'outbound|3306||mysql.default.svc.cluster.local' }]);
  assert.deepEqual(tags('http_local_rate_limiter.http_local_rate_limit.rate_limited'), ['http_local_rate_limit.rate_limited', { 'envoy.local_http_ratelimit_prefix': 'http_local_rate_limiter' }]);
});

test('names without a rule are unchanged', () => {
  for (const n of ['server.live', 'server.memory_allocated', 'runtime.load_success', 'cluster.onlyonetoken']) assert.deepEqual(tags(n), [n, {}]);
});

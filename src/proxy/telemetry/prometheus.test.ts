// /stats/prometheus: Envoy's tag-extracted families with labels, histograms with the same labels, one TYPE line per
// family, and a well-formed exposition (checked by a strict reader) even when names collide.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Stats } from './stats.js';
import { parsePrometheus, type PromFamily } from './testing.js';

const SVC = 'outbound|9080||reviews.default.svc.cluster.local';

function sample(f: PromFamily | undefined, labels: Record<string, string>): number | undefined {
  return f?.samples.find((s) => JSON.stringify(Object.entries(s.labels).sort()) === JSON.stringify(Object.entries(labels).sort()))?.value;
}

function proxyStats(): Stats {
  const s = new Stats();
  for (const c of [SVC, 'PassthroughCluster']) {
    s.counter(`cluster.${c}.upstream_rq_total`).inc(c === SVC ? 5 : 1);
    s.counter(`cluster.${c}.upstream_rq_200`).inc(4);
    s.counter(`cluster.${c}.upstream_rq_2xx`).inc(4);
    s.gauge(`cluster.${c}.circuit_breakers.default.rq_open`);
    s.histogram(`cluster.${c}.upstream_rq_time`).record(c === SVC ? 3 : 700);
  }
  s.counter(`cluster.${SVC}.upstream_rq_503`).inc();
  s.counter(`cluster.${SVC}.upstream_rq_5xx`).inc();
  s.counter('http.outbound_0.0.0.0_9080.downstream_rq_total').inc(5);
  s.histogram('http.outbound_0.0.0.0_9080.downstream_rq_time').record(4);
  s.counter('listener.127.0.0.1_9080.downstream_cx_total').inc(2);
  s.gauge('listener.127.0.0.1_9080.downstream_cx_active').set(1);
  s.gauge('server.live').set(1);
  s.counter('listener_manager.listener_added').inc();
  return s;
}

test('tag-extracted families with labels; a valid exposition', () => {
  const { families, errors } = parsePrometheus(proxyStats().renderPrometheus());
  assert.deepEqual(errors, []);
  const f = (n: string): PromFamily | undefined => families.get(n);
  assert.equal(f('envoy_cluster_upstream_rq_total')?.type, 'counter');
  assert.equal(sample(f('envoy_cluster_upstream_rq_total'), { envoy_cluster_name: SVC }), 5);
  assert.equal(sample(f('envoy_cluster_upstream_rq_total'), { envoy_cluster_name: 'PassthroughCluster' }), 1);
  assert.equal(sample(f('envoy_cluster_upstream_rq'), { envoy_cluster_name: SVC, envoy_response_code: '503' }), 1);
  assert.equal(sample(f('envoy_cluster_upstream_rq'), { envoy_cluster_name: SVC, envoy_response_code: '200' }), 4);
  assert.equal(sample(f('envoy_cluster_upstream_rq_xx'), { envoy_cluster_name: SVC, envoy_response_code_class: '2' }), 4);
  assert.equal(f('envoy_cluster_circuit_breakers_default_rq_open')?.type, 'gauge');
  assert.equal(sample(f('envoy_http_downstream_rq_total'), { envoy_http_conn_manager_prefix: 'outbound_0.0.0.0_9080' }), 5);
  assert.equal(sample(f('envoy_listener_downstream_cx_total'), { envoy_listener_address: '127.0.0.1_9080' }), 2);
  assert.equal(sample(f('envoy_listener_downstream_cx_active'), { envoy_listener_address: '127.0.0.1_9080' }), 1);
  assert.equal(sample(f('envoy_server_live'), {}), 1);
  assert.equal(sample(f('envoy_listener_manager_listener_added'), {}), 1);
  for (const name of families.keys()) assert.ok(!name.includes('svc_cluster_local') && !name.includes('0_0_0_0'), `${name}: scope left in the name`);
});

test('histograms carry the same labels as their counters, with cumulative buckets', () => {
  const { families } = parsePrometheus(proxyStats().renderPrometheus());
  const h = families.get('envoy_cluster_upstream_rq_time');
  assert.equal(h?.type, 'histogram');
  const mine = h.samples.filter((s) => s.labels.envoy_cluster_name === SVC);
  assert.equal(mine.find((s) => s.name.endsWith('_bucket') && s.labels.le === '1')?.value, 0);
  assert.equal(mine.find((s) => s.name.endsWith('_bucket') && s.labels.le === '5')?.value, 1);
  assert.equal(mine.find((s) => s.name.endsWith('_bucket') && s.labels.le === '+Inf')?.value, 1);
  assert.deepEqual(mine.filter((s) => !s.name.endsWith('_bucket')).map((s) => [s.name, s.value]), [['envoy_cluster_upstream_rq_time_sum', 3], ['envoy_cluster_upstream_rq_time_count', 1]]);
  const other = h.samples.filter((s) => s.labels.envoy_cluster_name === 'PassthroughCluster');
  assert.equal(other.find((s) => s.labels.le === '500')?.value, 0);
  assert.equal(other.find((s) => s.labels.le === '1000')?.value, 1);
  assert.equal(sample(families.get('envoy_http_downstream_rq_time'), { envoy_http_conn_manager_prefix: 'outbound_0.0.0.0_9080', le: '+Inf' }), 1);
});

test('names that collide never get two TYPE lines; same series add up; label values are escaped', () => {
  const s = new Stats();
  s.counter('x.a_b').inc(1);
  s.counter('x.a-b').inc(2); // same family and labels after sanitizing: one series
  s.gauge('x.a.b').set(7); // a gauge on the counter's name
  s.counter('y.count').inc(1);
  s.histogram('y').record(1); // envoy_y_count would be both the counter and the histogram's count
  s.counter('cluster.we"ird\\name.upstream_rq_total').inc();
  const text = s.renderPrometheus();
  const { families, errors } = parsePrometheus(text);
  assert.deepEqual(errors, [], text);
  assert.equal(sample(families.get('envoy_x_a_b'), {}), 3);
  assert.equal(families.get('envoy_x_a_b')?.type, 'counter');
  assert.equal(sample(families.get('envoy_x_a_b_gauge'), {}), 7);
  assert.equal(sample(families.get('envoy_y_count'), {}), 1);
  assert.equal(families.get('envoy_y_histogram')?.type, 'histogram');
  assert.equal(sample(families.get('envoy_cluster_upstream_rq_total'), { envoy_cluster_name: 'we"ird\\name' }), 1);
  assert.equal(text.match(/^# TYPE /gm)?.length, families.size);
});

test('/stats text keeps the full Envoy names', () => {
  const text = proxyStats().renderText();
  assert.match(text, new RegExp(`^cluster\\.${SVC.replace(/[.|]/g, '\\$&')}\\.upstream_rq_503: 1$`, 'm'));
  assert.match(text, /^http\.outbound_0\.0\.0\.0_9080\.downstream_rq_time: P50\(5\) P99\(5\) count\(1\) sum\(4\)$/m);
  assert.match(text, /^listener\.127\.0\.0\.1_9080\.downstream_cx_total: 2$/m);
});

test('the strict reader rejects what a scraper would', () => {
  const bad = (body: string): string[] => parsePrometheus(body).errors;
  assert.match(bad('# TYPE a counter\na 1\n# TYPE a gauge\na 2\n').join(), /second TYPE line for a/);
  assert.match(bad('# TYPE a counter\na{x="1"} 1\n# TYPE b counter\nb 1\na{x="2"} 2\n').join(), /apart from the rest of family a/);
  assert.match(bad('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n').join(), /not increasing/);
  assert.match(bad('# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n').join(), /no \+Inf bucket/);
  assert.match(bad('a{x=1} 1\n').join(), /not quoted/);
  assert.match(bad('a 1').join(), /newline/);
});

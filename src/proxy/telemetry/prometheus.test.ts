// /stats/prometheus: istio-proxy's tag-extracted families and labels (Istio's bootstrap stats_tags), histograms with
// the same labels, one TYPE line per family, and a well-formed exposition (checked by a strict reader) even when names
// collide.
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
  s.counter('http.outbound_0.0.0.0_9080.downstream_rq_2xx').inc(4);
  s.histogram('http.outbound_0.0.0.0_9080.downstream_rq_time').record(4);
  s.counter('listener.127.0.0.1_9080.downstream_cx_total').inc(2);
  s.gauge('listener.127.0.0.1_9080.downstream_cx_active').set(1);
  s.counter('tcp.outbound|3306||mysql.default.svc.cluster.local.downstream_cx_total').inc(3);
  s.counter('http_local_rate_limiter.http_local_rate_limit.rate_limited').inc(2);
  s.gauge('server.live').set(1);
  s.counter('listener_manager.listener_added').inc();
  return s;
}

test("istio-proxy's series: exact names, labels and label order; a valid exposition", () => {
  const text = proxyStats().renderPrometheus();
  const { families, errors } = parsePrometheus(text);
  assert.deepEqual(errors, []);
  const lines = new Set(text.split('\n'));
  const expected = [
    `envoy_cluster_upstream_rq_total{cluster_name="${SVC}"} 5`,
    'envoy_cluster_upstream_rq_total{cluster_name="PassthroughCluster"} 1',
    // upstream_rq_200 and upstream_rq_2xx are two series of one family, each with one of the two labels.
    `envoy_cluster_upstream_rq{response_code="200",cluster_name="${SVC}"} 4`,
    `envoy_cluster_upstream_rq{response_code="503",cluster_name="${SVC}"} 1`,
    `envoy_cluster_upstream_rq{response_code_class="2xx",cluster_name="${SVC}"} 4`,
    `envoy_cluster_upstream_rq{response_code_class="5xx",cluster_name="${SVC}"} 1`,
    `envoy_cluster_circuit_breakers_default_rq_open{cluster_name="${SVC}"} 0`,
    // Istio's http_conn_manager_prefix only takes an address: `outbound_0.0.0.0_9080` stays in the name.
    'envoy_http_outbound_0_0_0_0_9080_downstream_rq_total 5',
    'envoy_http_outbound_0_0_0_0_9080_downstream_rq{response_code_class="2xx"} 4',
    'envoy_listener_downstream_cx_total{listener_address="127.0.0.1_9080"} 2',
    'envoy_listener_downstream_cx_active{listener_address="127.0.0.1_9080"} 1',
    'envoy_tcp_downstream_cx_total{tcp_prefix="outbound|3306||mysql.default.svc.cluster.local"} 3',
    'envoy_http_local_rate_limiter_http_local_rate_limit_rate_limited 2',
    'envoy_server_live 1',
    'envoy_listener_manager_listener_added 1',
  ];
  for (const l of expected) assert.ok(lines.has(l), `missing ${l}`);
  assert.equal(families.get('envoy_cluster_upstream_rq')?.type, 'counter');
  assert.equal(families.get('envoy_cluster_upstream_rq')?.samples.length, 6);
  assert.equal(families.get('envoy_cluster_circuit_breakers_default_rq_open')?.type, 'gauge');
  const labelNames = new Set([...families.values()].flatMap((f) => f.samples.flatMap((s) => Object.keys(s.labels))));
  assert.deepEqual([...labelNames].sort(), ['cluster_name', 'le', 'listener_address', 'response_code', 'response_code_class', 'tcp_prefix']);
  for (const name of families.keys()) assert.ok(!name.includes('svc_cluster_local') && !name.includes('127_0_0_1'), `${name}: a tagged scope left in the name`);
});

test('histograms carry the same labels as their counters, with cumulative buckets', () => {
  const { families } = parsePrometheus(proxyStats().renderPrometheus());
  const h = families.get('envoy_cluster_upstream_rq_time');
  assert.equal(h?.type, 'histogram');
  const mine = h.samples.filter((s) => s.labels.cluster_name === SVC);
  assert.equal(mine.find((s) => s.name.endsWith('_bucket') && s.labels.le === '1')?.value, 0);
  assert.equal(mine.find((s) => s.name.endsWith('_bucket') && s.labels.le === '5')?.value, 1);
  assert.equal(mine.find((s) => s.name.endsWith('_bucket') && s.labels.le === '+Inf')?.value, 1);
  assert.deepEqual(mine.filter((s) => !s.name.endsWith('_bucket')).map((s) => [s.name, s.value]), [['envoy_cluster_upstream_rq_time_sum', 3], ['envoy_cluster_upstream_rq_time_count', 1]]);
  const other = h.samples.filter((s) => s.labels.cluster_name === 'PassthroughCluster');
  assert.equal(other.find((s) => s.labels.le === '500')?.value, 0);
  assert.equal(other.find((s) => s.labels.le === '1000')?.value, 1);
  assert.match(proxyStats().renderPrometheus(), /^envoy_cluster_upstream_rq_time_bucket\{cluster_name="PassthroughCluster",le="\+Inf"\} 1$/m);
  assert.equal(sample(families.get('envoy_http_outbound_0_0_0_0_9080_downstream_rq_time'), { le: '+Inf' }), 1);
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
  assert.equal(sample(families.get('envoy_cluster_upstream_rq_total'), { cluster_name: 'we"ird\\name' }), 1);
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

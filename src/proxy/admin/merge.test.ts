import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePrometheus } from '../telemetry/testing.js';
import { mergeClustersText, mergePrometheus, mergeStatsText } from './merge.js';

test('stats text: counters and gauges add up, server state takes the max, histograms from the first', () => {
  const a = 'listener.x.downstream_cx_total: 3\nserver.state: 0\nserver.uptime: 10\nhttp.rq_time: P50(1) P99(5) count(3) sum(4)\n';
  const b = 'listener.x.downstream_cx_total: 4\nserver.state: 1\nserver.uptime: 9\nhttp.rq_time: P50(2) P99(9) count(1) sum(2)\nonly.b: 2\n';
  assert.equal(mergeStatsText([a, b]), 'listener.x.downstream_cx_total: 7\nserver.state: 1\nserver.uptime: 10\nhttp.rq_time: P50(1) P99(5) count(3) sum(4)\nonly.b: 2\n');
});

test('prometheus: identical series summed, comments once', () => {
  const a = '# TYPE envoy_a counter\nenvoy_a 1\n# TYPE envoy_h histogram\nenvoy_h_bucket{le="1"} 2\nenvoy_server_state 0\n';
  const b = '# TYPE envoy_a counter\nenvoy_a 2\n# TYPE envoy_h histogram\nenvoy_h_bucket{le="1"} 3\nenvoy_server_state 1\n';
  assert.equal(mergePrometheus([a, b]), '# TYPE envoy_a counter\nenvoy_a 3\n# TYPE envoy_h histogram\nenvoy_h_bucket{le="1"} 5\nenvoy_server_state 1\n');
});

test('prometheus: a series only one worker has stays inside its family, so every family is one group', () => {
  const a = '# TYPE envoy_c counter\nenvoy_c{n="x"} 1\n# TYPE envoy_h histogram\nenvoy_h_bucket{n="x",le="+Inf"} 1\nenvoy_h_sum{n="x"} 2\nenvoy_h_count{n="x"} 1\n';
  const b = '# TYPE envoy_c counter\nenvoy_c{n="x"} 2\nenvoy_c{n="y"} 5\n# TYPE envoy_h histogram\nenvoy_h_bucket{n="y",le="+Inf"} 3\nenvoy_h_sum{n="y"} 4\nenvoy_h_count{n="y"} 3\n# TYPE envoy_g gauge\nenvoy_g 1\n';
  const merged = mergePrometheus([a, b]);
  assert.equal(
    merged,
    '# TYPE envoy_c counter\nenvoy_c{n="x"} 3\nenvoy_c{n="y"} 5\n' +
      '# TYPE envoy_h histogram\nenvoy_h_bucket{n="x",le="+Inf"} 1\nenvoy_h_sum{n="x"} 2\nenvoy_h_count{n="x"} 1\nenvoy_h_bucket{n="y",le="+Inf"} 3\nenvoy_h_sum{n="y"} 4\nenvoy_h_count{n="y"} 3\n' +
      '# TYPE envoy_g gauge\nenvoy_g 1\n',
  );
  assert.deepEqual(parsePrometheus(merged).errors, []);
});

test('clusters: per-host request numbers summed, flags from the first', () => {
  const a = 'c::observability_name::c\nc::1.1.1.1:80::rq_total::5\nc::1.1.1.1:80::health_flags::healthy\nc::1.1.1.1:80::weight::1\n';
  const b = 'c::observability_name::c\nc::1.1.1.1:80::rq_total::2\nc::1.1.1.1:80::health_flags::/failed_outlier_check\nc::1.1.1.1:80::weight::1\n';
  assert.equal(mergeClustersText([a, b]), 'c::observability_name::c\nc::1.1.1.1:80::rq_total::7\nc::1.1.1.1:80::health_flags::healthy\nc::1.1.1.1:80::weight::1\n');
});

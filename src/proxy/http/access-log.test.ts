// Access-log formatting: Istio's default line, header alternatives and truncation, START_TIME formats, JSON
// typing, unknown commands rejected at compile time, buffered writer flushing once per turn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileAccessLog, compileFormat, type AccessLogContext } from './access-log.js';
import { BufferedLogWriter } from './log-writer.js';

function ctx(over: Partial<AccessLogContext> = {}, req: Record<string, string> = {}, resp: Record<string, string> = {}): AccessLogContext {
  return {
    startTime: Date.UTC(2024, 0, 2, 3, 4, 5, 678),
    durationMs: 12,
    protocol: 'HTTP/1.1',
    responseCode: 503,
    responseFlags: ['UF', 'URX'],
    responseCodeDetails: 'upstream_reset_before_response_started{connection_failure}',
    connectionTerminationDetails: undefined,
    upstreamTransportFailureReason: undefined,
    bytesReceived: 0,
    bytesSent: 91,
    upstreamHost: '10.0.0.2:9080',
    upstreamCluster: 'outbound|9080||reviews.default.svc.cluster.local',
    upstreamLocalAddress: undefined,
    downstreamLocalAddress: '10.0.0.1:9080',
    downstreamRemoteAddress: '10.0.0.9:41234',
    requestedServerName: undefined,
    routeName: 'default',
    requestHeader: (n) => ({ ':method': 'GET', ':path': '/r?x', ':authority': 'reviews:9080', 'user-agent': 'curl/8', 'x-request-id': 'id-1', ...req })[n],
    responseHeader: (n) => resp[n],
    responseTrailer: () => undefined,
    ...over,
  };
}

test("Istio's default TEXT format", () => {
  const line = compileAccessLog({})(ctx());
  assert.equal(
    line,
    '[2024-01-02T03:04:05.678Z] "GET /r?x HTTP/1.1" 503 UF,URX upstream_reset_before_response_started{connection_failure} - "-" 0 91 12 - "-" "curl/8" "id-1" "reviews:9080" "10.0.0.2:9080" outbound|9080||reviews.default.svc.cluster.local - 10.0.0.1:9080 10.0.0.9:41234 - default\n',
  );
  const rewritten = compileAccessLog({})(ctx({}, { 'x-envoy-original-path': '/orig' }));
  assert.match(rewritten, /"GET \/orig HTTP\/1\.1"/);
});

test('custom formats: alternatives, truncation, %% and address helpers, START_TIME formats', () => {
  const f = compileFormat('%REQ(X-MISSING?USER-AGENT):4% 100%% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %DOWNSTREAM_LOCAL_PORT% %START_TIME(%s)% %START_TIME(%Y/%m/%d %H:%M:%S.%3f)% %RESP(X-A)%');
  assert.equal(f.text(ctx({}, {}, { 'x-a': 'b' })), 'curl 100% 10.0.0.9 9080 1704164645 2024/01/02 03:04:05.678 b');
  assert.throws(() => compileFormat('%NOT_A_COMMAND%'), /unknown access log command/);
});

test('JSON format keeps numbers and nulls', () => {
  const line = compileAccessLog({ json: { code: '%RESPONSE_CODE%', flags: '%RESPONSE_FLAGS%', tls: '%REQUESTED_SERVER_NAME%', path: 'p=%REQ(:PATH)%' } })(ctx());
  assert.deepEqual(JSON.parse(line), { code: 503, flags: 'UF,URX', tls: null, path: 'p=/r?x' });
});

test('buffered writer: one write per event-loop turn, flushed early when large', async () => {
  const writes: string[] = [];
  const w = new BufferedLogWriter({ write: (s: string) => (writes.push(s), true) });
  w.write('a\n');
  w.write('b\n');
  assert.equal(writes.length, 0);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(writes, ['a\nb\n']);
  w.write('x'.repeat(70_000));
  assert.equal(writes.length, 2);
});

// The request headers every Bookinfo service copies onto its downstream calls, as Istio's Bookinfo does.
// See https://istio.io/latest/docs/tasks/observability/distributed-tracing/overview/ (trace context propagation).
import type { IncomingHttpHeaders } from 'node:http';

/** Lower-case names; order is irrelevant. */
export const PROPAGATED_HEADERS: readonly string[] = [
  // request id: ties access logs and traces together; used for consistent sampling
  'x-request-id',
  // W3C trace context
  'traceparent',
  'tracestate',
  // Zipkin B3 (multi and single header)
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'b3',
  // Lightstep / OpenTracing
  'x-ot-span-context',
  // Google Cloud trace and gRPC binary trace context
  'x-cloud-trace-context',
  'grpc-trace-bin',
  // SkyWalking
  'sw8',
  // Datadog
  'x-datadog-trace-id',
  'x-datadog-parent-id',
  'x-datadog-sampling-priority',
  // application headers: the signed-in user and client identity
  'end-user',
  'user-agent',
  // session and credentials (Istio's request-authentication tasks rely on them reaching the next hop)
  'cookie',
  'authorization',
  'jwt',
];

/** Copies the propagated headers present on an incoming request. Repeated values are joined as HTTP allows. */
export function propagatedHeaders(incoming: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PROPAGATED_HEADERS) {
    const v = incoming[name];
    if (v === undefined) continue;
    out[name] = Array.isArray(v) ? v.join(name === 'cookie' ? '; ' : ', ') : v;
  }
  return out;
}

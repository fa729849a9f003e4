// The one place that maps internal outcomes (no route, upstream errors, faults, limits, codec errors) to locally
// generated responses, with Envoy's bodies, response flags and details; gRPC requests get trailers-only grpc-status.
import type { ResponseFlag } from '../runtime/types.js';
import type { UpstreamError } from '../runtime/contracts.js';

export interface LocalReply {
  status: number;
  /** text/plain body; '' sends no body. */
  body: string;
  flag?: ResponseFlag;
  /** %RESPONSE_CODE_DETAILS% (Envoy's snake_case detail strings). */
  details: string;
  /** gRPC status to send instead of the one mapped from the HTTP status. */
  grpcStatus?: number;
}

export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

const RESET_PREFIX = 'upstream connect error or disconnect/reset before headers. ';

const RESET_REASON: Partial<Record<ResponseFlag, string>> = {
  UF: 'connection failure',
  UO: 'overflow',
  UC: 'connection termination',
  UR: 'remote reset',
};
const RESET_DETAIL: Partial<Record<ResponseFlag, string>> = {
  UF: 'connection_failure',
  UO: 'overflow',
  UC: 'connection_termination',
  UR: 'remote_reset',
};

export const Replies = {
  noRoute: { status: 404, body: '', flag: 'NR', details: 'route_not_found' },
  noCluster: { status: 503, body: '', flag: 'NC', details: 'cluster_not_found' },
  /** cluster_header naming a missing header or cluster: Envoy answers 404. */
  noClusterFromHeader: { status: 404, body: '', flag: 'NC', details: 'cluster_not_found' },
  noHealthyUpstream: { status: 503, body: 'no healthy upstream', flag: 'UH', details: 'no_healthy_upstream' },
  timeout: { status: 504, body: 'upstream request timeout', flag: 'UT', details: 'response_timeout' },
  perTryTimeout: { status: 504, body: 'upstream request timeout', flag: 'UT', details: 'upstream_per_try_timeout' },
  rateLimited: { status: 429, body: 'local_rate_limited', flag: 'RL', details: 'local_rate_limited' },
  upgradeFailed: { status: 403, body: '', details: 'upgrade_failed' },
  headersTooLarge: { status: 431, body: '', flag: 'DPE', details: 'request_headers_too_large' },
  badRequest: { status: 400, body: 'Bad Request', flag: 'DPE', details: 'http1.codec_error' },
  requestTimeout: { status: 408, body: 'request timeout', details: 'request_overall_timeout' },
  streamIdleTimeout: { status: 408, body: 'stream timeout', flag: 'SI', details: 'stream_idle_timeout' },
} as const satisfies Record<string, LocalReply>;

/** The fault filter's abort (HTTP status, or gRPC status on HTTP 200). */
export function faultAbort(httpStatus: number | undefined, grpcStatus: number | undefined): LocalReply {
  return {
    status: httpStatus ?? (grpcStatus !== undefined ? 200 : 503),
    body: 'fault filter abort',
    flag: 'FI',
    details: 'fault_filter_abort',
    grpcStatus,
  };
}

/** Optional detail an upstream layer may attach to its UpstreamError (Envoy reset reason, transport failure). */
interface ResetDetail {
  reason?: unknown;
  transportFailure?: unknown;
}

/** %UPSTREAM_TRANSPORT_FAILURE_REASON% of a failure, when the upstream layer knows it. */
export function transportFailureOf(err: UpstreamError): string | undefined {
  const t = (err as ResetDetail).transportFailure;
  if (typeof t === 'string' && t) return t;
  return err.flag === 'UF' && err.cause instanceof Error ? err.cause.message : undefined;
}

/** A locally answered upstream failure; retried = the router retried before giving up. */
export function upstreamFailure(err: UpstreamError, retried: boolean): LocalReply {
  switch (err.flag) {
    case 'UH':
      return Replies.noHealthyUpstream;
    case 'NC':
      return Replies.noCluster;
    case 'UT':
      return Replies.timeout;
    default: {
      const r = (err as ResetDetail).reason;
      const detail = typeof r === 'string' && r ? r : (RESET_DETAIL[err.flag] ?? 'connection_termination');
      // The upstream layer's message is Envoy's body when it has that shape (it may add the transport failure reason).
      let body = err.message.startsWith(RESET_PREFIX) ? err.message : RESET_PREFIX + 'reset reason: ' + (RESET_REASON[err.flag] ?? 'connection termination');
      if (retried) body = body.replace(`${RESET_PREFIX}reset reason: `, `${RESET_PREFIX}retried and the latest reset reason: `);
      return { status: 503, body, flag: err.flag, details: `upstream_reset_before_response_started{${detail}}` };
    }
  }
}

/** Envoy's HTTP → gRPC status mapping for local replies (Grpc::Utility::httpToGrpcStatus); timeouts → DEADLINE_EXCEEDED. */
export function grpcStatusOf(reply: LocalReply): number {
  if (reply.grpcStatus !== undefined) return reply.grpcStatus;
  if (reply.flag === 'UT') return GrpcStatus.DEADLINE_EXCEEDED;
  switch (reply.status) {
    case 400:
      return GrpcStatus.INTERNAL;
    case 401:
      return GrpcStatus.UNAUTHENTICATED;
    case 403:
      return GrpcStatus.PERMISSION_DENIED;
    case 404:
      return GrpcStatus.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcStatus.UNAVAILABLE;
    default:
      return GrpcStatus.UNKNOWN;
  }
}

/** grpc-message percent-encoding (gRPC HTTP/2 spec: bytes outside 0x20–0x7E and '%' are %XX-encoded). */
export function encodeGrpcMessage(msg: string): string {
  let simple = true;
  for (let i = 0; i < msg.length; i++) {
    const c = msg.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      simple = false;
      break;
    }
  }
  if (simple) return msg;
  let out = '';
  for (const b of Buffer.from(msg, 'utf8')) out += b < 0x20 || b > 0x7e || b === 0x25 ? '%' + b.toString(16).toUpperCase().padStart(2, '0') : String.fromCharCode(b);
  return out;
}

/** Message to send with grpc-status when the reply has no body (Envoy uses the HTTP reason then). */
export function grpcMessageOf(reply: LocalReply): string {
  return reply.body || (reply.flag === 'NR' ? 'route not found' : `upstream status ${reply.status}`);
}

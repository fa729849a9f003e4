// Upstream failures as Envoy reports them: response flag, reset reason, and the local-reply text Envoy sends.
import { UpstreamError } from '../runtime/contracts.js';
import type { ResponseFlag } from '../runtime/types.js';

/** Envoy's stream reset reasons (what `%UPSTREAM_TRANSPORT_FAILURE_REASON%` and retry_on distinguish). */
export type ResetReason =
  | 'overflow'
  | 'no_healthy_upstream'
  | 'connection_failure'
  | 'connection_timeout'
  | 'connection_termination'
  | 'remote_reset'
  | 'remote_refused_stream_reset'
  | 'local_reset'
  | 'protocol_error';

const PREFIX = 'upstream connect error or disconnect/reset before headers. reset reason: ';

/**
 * An UpstreamError that also says why (retry_on: connect-failure ↔ connection_failure, refused-stream ↔
 * remote_refused_stream_reset, reset ↔ any reset). `message` is the body Envoy uses for its local 503 reply.
 */
export class UpstreamResetError extends UpstreamError {
  readonly reason: ResetReason;
  /** Low-level detail (e.g. "TLS error: ..." or "ECONNREFUSED"), for logs and %UPSTREAM_TRANSPORT_FAILURE_REASON%. */
  readonly transportFailure: string | undefined;
  constructor(flag: ResponseFlag, reason: ResetReason, message: string, opts: { beforeRequestSent: boolean; cause?: unknown; transportFailure?: string }) {
    super(flag, message, opts);
    this.name = 'UpstreamResetError';
    this.reason = reason;
    this.transportFailure = opts.transportFailure;
  }
}

export function overflowError(): UpstreamResetError {
  return new UpstreamResetError('UO', 'overflow', PREFIX + 'overflow', { beforeRequestSent: true });
}

export function noHealthyUpstream(): UpstreamResetError {
  return new UpstreamResetError('UH', 'no_healthy_upstream', 'no healthy upstream', { beforeRequestSent: true });
}

/** UF: the connection could not be established (refused, unreachable, TLS handshake) or timed out. */
export function connectionFailure(detail: string | undefined, timeout: boolean, cause?: unknown): UpstreamResetError {
  const reason = timeout ? 'connection_timeout' : 'connection_failure';
  const msg = PREFIX + (timeout ? 'connection timeout' : 'connection failure') + (detail ? `, transport failure reason: ${detail}` : '');
  return new UpstreamResetError('UF', reason, msg, { beforeRequestSent: true, cause, transportFailure: detail });
}

export function connectionTermination(beforeRequestSent: boolean, cause?: unknown): UpstreamResetError {
  return new UpstreamResetError('UC', 'connection_termination', PREFIX + 'connection termination', { beforeRequestSent, cause });
}

/** UR: the upstream reset the stream; REFUSED_STREAM means it never processed it (safe to retry). */
export function remoteReset(refused: boolean, cause?: unknown): UpstreamResetError {
  if (!refused) return new UpstreamResetError('UR', 'remote_reset', PREFIX + 'remote reset', { beforeRequestSent: false, cause });
  const c = Object.assign(new Error('Stream closed with error code NGHTTP2_REFUSED_STREAM', { cause }), { code: 'NGHTTP2_REFUSED_STREAM' });
  return new UpstreamResetError('UR', 'remote_refused_stream_reset', PREFIX + 'remote refused stream reset', { beforeRequestSent: true, cause: c });
}

export function protocolError(cause?: unknown): UpstreamResetError {
  return new UpstreamResetError('UC', 'protocol_error', PREFIX + 'protocol error', { beforeRequestSent: false, cause });
}

export function localReset(beforeRequestSent: boolean, cause?: unknown): UpstreamResetError {
  const detail = cause instanceof Error ? `: ${cause.message}` : '';
  return new UpstreamResetError('UC', 'local_reset', PREFIX + 'local reset' + detail, { beforeRequestSent, cause });
}

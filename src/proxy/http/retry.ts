// Retry decisions of one request (Envoy's RetryStateImpl): which responses and failures are retriable under the
// policy's retry_on, how many attempts remain, and the jittered exponential backoff between attempts.
import type { RetryPolicy } from '../runtime/types.js';
import type { UpstreamError } from '../runtime/contracts.js';

const R_5XX = 1 << 0;
const R_GATEWAY = 1 << 1;
const R_RESET = 1 << 2;
const R_CONNECT = 1 << 3;
const R_REFUSED = 1 << 4;
const R_4XX = 1 << 5;
const R_CODES = 1 << 6;
const R_RATELIMITED = 1 << 7;
const G_CANCELLED = 1 << 8;
const G_DEADLINE = 1 << 9;
const G_INTERNAL = 1 << 10;
const G_EXHAUSTED = 1 << 11;
const G_UNAVAILABLE = 1 << 12;
const R_RESET_BEFORE_REQUEST = 1 << 13;

const BITS: Record<string, number> = {
  '5xx': R_5XX,
  'gateway-error': R_GATEWAY,
  reset: R_RESET,
  'reset-before-request': R_RESET_BEFORE_REQUEST,
  'connect-failure': R_CONNECT,
  'refused-stream': R_REFUSED,
  'retriable-4xx': R_4XX,
  'retriable-status-codes': R_CODES,
  'envoy-ratelimited': R_RATELIMITED,
  cancelled: G_CANCELLED,
  'deadline-exceeded': G_DEADLINE,
  internal: G_INTERNAL,
  'resource-exhausted': G_EXHAUSTED,
  unavailable: G_UNAVAILABLE,
};
const GRPC_ANY = G_CANCELLED | G_DEADLINE | G_INTERNAL | G_EXHAUSTED | G_UNAVAILABLE;

const masks = new WeakMap<RetryPolicy, number>();
function maskOf(p: RetryPolicy): number {
  let m = masks.get(p);
  if (m === undefined) {
    m = 0;
    for (const c of p.retryOn) m |= BITS[c] ?? 0;
    masks.set(p, m);
  }
  return m;
}

function grpcBit(status: string | undefined): number {
  switch (status) {
    case '1':
      return G_CANCELLED;
    case '4':
      return G_DEADLINE;
    case '8':
      return G_EXHAUSTED;
    case '13':
      return G_INTERNAL;
    case '14':
      return G_UNAVAILABLE;
    default:
      return 0;
  }
}

/** True when the upstream error is HTTP/2 REFUSED_STREAM (safe to retry: the server did not process it). */
export function isRefusedStream(err: UpstreamError): boolean {
  if ((err as { reason?: unknown }).reason === 'remote_refused_stream_reset') return true;
  const c = err.cause as { code?: unknown; message?: unknown } | undefined;
  const text = `${err.message} ${typeof c?.message === 'string' ? c.message : ''}`;
  return text.includes('REFUSED_STREAM') || c?.code === 'NGHTTP2_REFUSED_STREAM';
}

export class RetryState {
  private readonly mask: number;
  /** Retries scheduled so far. */
  retries = 0;
  private backoffStep = 1;

  constructor(
    readonly policy: RetryPolicy,
    private readonly random: () => number,
  ) {
    this.mask = maskOf(policy);
  }

  get remaining(): number {
    return this.policy.numRetries - this.retries;
  }

  /** Would retry_on retry this response? headers are the response's lower-case flat headers. */
  retriableResponse(status: number, headers: readonly string[]): boolean {
    const m = this.mask;
    if (m & R_5XX && status >= 500) return true;
    if (m & R_GATEWAY && (status === 502 || status === 503 || status === 504)) return true;
    if (m & R_4XX && status === 409) return true;
    if (m & R_CODES && this.policy.retriableStatusCodes.has(status)) return true;
    if (m & (R_RATELIMITED | GRPC_ANY)) {
      for (let i = 0; i < headers.length; i += 2) {
        const n = headers[i];
        if (m & R_RATELIMITED && n === 'x-envoy-ratelimited') return true;
        if (m & GRPC_ANY && n === 'grpc-status' && m & grpcBit(headers[i + 1])) return true;
      }
    }
    return false;
  }

  /** Would retry_on retry this failure before response headers? Overflow and no-host are never retried. */
  retriableError(err: UpstreamError): boolean {
    const m = this.mask;
    switch (err.flag) {
      case 'UO':
      case 'UH':
      case 'NC':
        return false;
      case 'UF':
        return (m & (R_5XX | R_GATEWAY | R_RESET | R_CONNECT | R_RESET_BEFORE_REQUEST)) !== 0;
      default:
        if (m & (R_5XX | R_GATEWAY | R_RESET)) return true;
        if (m & R_RESET_BEFORE_REQUEST && err.beforeRequestSent) return true;
        return (m & R_REFUSED) !== 0 && isRefusedStream(err);
    }
  }

  /** A per-try timeout is retried under 5xx, gateway-error and reset. */
  retriableTimeout(): boolean {
    return (this.mask & (R_5XX | R_GATEWAY | R_RESET)) !== 0;
  }

  /** Envoy's JitteredExponentialBackOffStrategy: uniform in [0, (2^n - 1) * base), capped at max. */
  nextBackoffMs(): number {
    const base = this.policy.backoffBaseMs > 0 ? this.policy.backoffBaseMs : 25;
    const max = this.policy.backoffMaxMs > 0 ? this.policy.backoffMaxMs : base * 10;
    const ceiling = ((1 << this.backoffStep) - 1) * base;
    if (ceiling <= max) this.backoffStep++;
    return Math.min(Math.floor(this.random() * ceiling), max);
  }
}

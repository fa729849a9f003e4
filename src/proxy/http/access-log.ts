// Envoy access-log formatting (https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage):
// a format string (or JSON map) compiled once per config into extractors over an AccessLogContext; shared with TCP proxy.
import { MeshError, ErrorCode } from '../../shared/errors.js';
import type { AccessLogConfig } from '../runtime/types.js';
import { ISTIO_TEXT_FORMAT } from '../../xds/access-log-format.js';

/** Istio's default TEXT access-log format (shared with the control plane through src/xds). */
export const ISTIO_DEFAULT_FORMAT = ISTIO_TEXT_FORMAT;

/** What a log line can show about one HTTP request or TCP connection; absent values are undefined (rendered "-"). */
export interface AccessLogContext {
  /** Epoch ms. */
  readonly startTime: number;
  readonly durationMs: number | undefined;
  readonly requestDurationMs?: number | undefined;
  readonly responseDurationMs?: number | undefined;
  /** 'HTTP/1.1', 'HTTP/2', ... ; undefined for TCP. */
  readonly protocol: string | undefined;
  /** 0 when no response was sent. */
  readonly responseCode: number;
  /** Envoy short flags, e.g. ['UH'] or ['URX', 'UF']. */
  readonly responseFlags: readonly string[];
  readonly responseCodeDetails: string | undefined;
  readonly connectionTerminationDetails: string | undefined;
  readonly upstreamTransportFailureReason: string | undefined;
  readonly bytesReceived: number;
  readonly bytesSent: number;
  readonly upstreamHost: string | undefined;
  readonly upstreamCluster: string | undefined;
  readonly upstreamLocalAddress: string | undefined;
  /** `address:port` */
  readonly downstreamLocalAddress: string | undefined;
  readonly downstreamRemoteAddress: string | undefined;
  readonly requestedServerName: string | undefined;
  readonly routeName: string | undefined;
  readonly downstreamPeerUriSan?: string | undefined;
  readonly attemptCount?: number | undefined;
  readonly connectionId?: number | undefined;
  readonly hostname?: string | undefined;
  /** Lower-case name; pseudo-headers ':method', ':path', ':authority', ':scheme' included. */
  requestHeader(name: string): string | undefined;
  responseHeader(name: string): string | undefined;
  responseTrailer(name: string): string | undefined;
}

type Value = string | number | undefined;
type Extractor = (ctx: AccessLogContext) => Value;

/** A compiled format: literals and extractors. */
export interface CompiledFormat {
  /** Text rendering ("-" for absent values). */
  text(ctx: AccessLogContext): string;
  /** The typed value when the format is exactly one command (for JSON), else the text. */
  value(ctx: AccessLogContext): string | number | null;
}

function stripPort(a: string | undefined): string | undefined {
  if (a === undefined) return undefined;
  if (a.startsWith('[')) return a.slice(1, a.indexOf(']'));
  const i = a.lastIndexOf(':');
  return i > 0 && a.indexOf(':') === i ? a.slice(0, i) : a;
}
function portOf(a: string | undefined): number | undefined {
  if (a === undefined) return undefined;
  const i = a.lastIndexOf(':');
  const p = i >= 0 ? Number(a.slice(i + 1)) : NaN;
  return Number.isInteger(p) ? p : undefined;
}

const SIMPLE: Record<string, Extractor> = {
  PROTOCOL: (c) => c.protocol,
  RESPONSE_CODE: (c) => c.responseCode,
  // Envoy prints '-' for "no flags" in TEXT and JSON alike.
  RESPONSE_FLAGS: (c) => (c.responseFlags.length ? c.responseFlags.join(',') : '-'),
  RESPONSE_CODE_DETAILS: (c) => c.responseCodeDetails,
  CONNECTION_TERMINATION_DETAILS: (c) => c.connectionTerminationDetails,
  UPSTREAM_TRANSPORT_FAILURE_REASON: (c) => c.upstreamTransportFailureReason,
  BYTES_RECEIVED: (c) => c.bytesReceived,
  BYTES_SENT: (c) => c.bytesSent,
  DURATION: (c) => c.durationMs,
  REQUEST_DURATION: (c) => c.requestDurationMs,
  RESPONSE_DURATION: (c) => c.responseDurationMs,
  UPSTREAM_HOST: (c) => c.upstreamHost,
  UPSTREAM_CLUSTER: (c) => c.upstreamCluster,
  UPSTREAM_CLUSTER_RAW: (c) => c.upstreamCluster,
  UPSTREAM_LOCAL_ADDRESS: (c) => c.upstreamLocalAddress,
  UPSTREAM_REMOTE_ADDRESS: (c) => c.upstreamHost,
  DOWNSTREAM_LOCAL_ADDRESS: (c) => c.downstreamLocalAddress,
  DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT: (c) => stripPort(c.downstreamLocalAddress),
  DOWNSTREAM_LOCAL_PORT: (c) => portOf(c.downstreamLocalAddress),
  DOWNSTREAM_REMOTE_ADDRESS: (c) => c.downstreamRemoteAddress,
  DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT: (c) => stripPort(c.downstreamRemoteAddress),
  DOWNSTREAM_REMOTE_PORT: (c) => portOf(c.downstreamRemoteAddress),
  DOWNSTREAM_DIRECT_REMOTE_ADDRESS: (c) => c.downstreamRemoteAddress,
  DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT: (c) => stripPort(c.downstreamRemoteAddress),
  DOWNSTREAM_PEER_URI_SAN: (c) => c.downstreamPeerUriSan,
  REQUESTED_SERVER_NAME: (c) => c.requestedServerName,
  ROUTE_NAME: (c) => c.routeName,
  UPSTREAM_REQUEST_ATTEMPT_COUNT: (c) => c.attemptCount,
  CONNECTION_ID: (c) => c.connectionId,
  HOSTNAME: (c) => c.hostname,
};

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** START_TIME with a strftime-like subset (%Y %m %d %H %M %S %s %z %f %1f..%9f %E3S...); default ISO 8601 UTC with ms. */
function startTime(fmt: string | undefined): Extractor {
  if (!fmt) return (c) => new Date(c.startTime).toISOString();
  const parts: ((d: Date, ms: number) => string)[] = [];
  const re = /%(E?(\d)?([a-zA-Z]))/g;
  let last = 0;
  for (let m = re.exec(fmt); m; m = re.exec(fmt)) {
    const lit = fmt.slice(last, m.index);
    if (lit) parts.push(() => lit);
    last = re.lastIndex;
    const digits = m[2] ? Number(m[2]) : 0;
    const frac = (ms: number, n: number): string => pad(Math.floor((ms % 1000) * 10 ** (n - 3 > 0 ? n - 3 : 0)), n).slice(0, n);
    switch (m[3]) {
      case 'Y': parts.push((d) => String(d.getUTCFullYear())); break;
      case 'm': parts.push((d) => pad(d.getUTCMonth() + 1)); break;
      case 'd': parts.push((d) => pad(d.getUTCDate())); break;
      case 'H': parts.push((d) => pad(d.getUTCHours())); break;
      case 'M': parts.push((d) => pad(d.getUTCMinutes())); break;
      case 'S': parts.push(digits ? (d, ms) => `${pad(d.getUTCSeconds())}.${frac(ms, digits)}` : (d) => pad(d.getUTCSeconds())); break;
      case 's': parts.push((_d, ms) => String(Math.floor(ms / 1000))); break;
      case 'f': parts.push((_d, ms) => frac(ms, digits || 9)); break;
      case 'z': parts.push(() => '+0000'); break;
      case 'Z': parts.push(() => 'UTC'); break;
      default: {
        const raw = m[0];
        parts.push(() => raw);
      }
    }
  }
  const tail = fmt.slice(last);
  if (tail) parts.push(() => tail);
  return (c) => {
    const d = new Date(c.startTime);
    let s = '';
    for (const p of parts) s += p(d, c.startTime);
    return s;
  };
}

function headerExtractor(kind: 'REQ' | 'RESP' | 'TRAILER', arg: string): Extractor {
  const [main, alt] = arg.toLowerCase().split('?');
  if (!main) throw new MeshError(ErrorCode.Invalid, `%${kind}()% needs a header name`);
  if (kind === 'REQ') return alt ? (c) => c.requestHeader(main) ?? c.requestHeader(alt) : (c) => c.requestHeader(main);
  if (kind === 'RESP') return alt ? (c) => c.responseHeader(main) ?? c.responseHeader(alt) : (c) => c.responseHeader(main);
  return alt ? (c) => c.responseTrailer(main) ?? c.responseTrailer(alt) : (c) => c.responseTrailer(main);
}

function command(name: string, arg: string | undefined, maxLen: number | undefined): Extractor {
  let ex: Extractor;
  if (name === 'REQ' || name === 'RESP' || name === 'TRAILER') {
    if (arg === undefined) throw new MeshError(ErrorCode.Invalid, `%${name}% needs (header)`);
    ex = headerExtractor(name, arg);
  } else if (name === 'START_TIME') ex = startTime(arg);
  else {
    const s = SIMPLE[name];
    if (!s) throw new MeshError(ErrorCode.Invalid, `unknown access log command %${name}%`);
    ex = s;
  }
  if (maxLen === undefined) return ex;
  return (c) => {
    const v = ex(c);
    return typeof v === 'string' && v.length > maxLen ? v.slice(0, maxLen) : v;
  };
}

const COMMAND = /%([A-Z_0-9]+)(?:\(([^)]*)\))?(?::(\d+))?%/g;

/** Compiles an Envoy format string; throws MeshError(Invalid) on unknown commands. */
export function compileFormat(format: string): CompiledFormat {
  const lits: string[] = [];
  const exs: Extractor[] = [];
  let last = 0;
  COMMAND.lastIndex = 0;
  for (let m = COMMAND.exec(format); m; m = COMMAND.exec(format)) {
    lits.push(format.slice(last, m.index).replaceAll('%%', '%'));
    exs.push(command(m[1], m[2], m[3] === undefined ? undefined : Number(m[3])));
    last = COMMAND.lastIndex;
  }
  const tail = format.slice(last).replaceAll('%%', '%');
  const single = exs.length === 1 && lits[0] === '' && tail === '' ? exs[0] : undefined;
  const text = (ctx: AccessLogContext): string => {
    let s = '';
    for (let i = 0; i < exs.length; i++) {
      const v = exs[i](ctx);
      s += lits[i] + (v === undefined || v === '' ? '-' : v);
    }
    return s + tail;
  };
  return {
    text,
    value: single
      ? (ctx) => {
          const v = single(ctx);
          return v === undefined || v === '' ? null : v;
        }
      : text,
  };
}

/** Renders one access-log entry (a line ending in '\n'). */
export type AccessLogFormatter = (ctx: AccessLogContext) => string;

/** Compiles an AccessLogConfig (text format, Istio's default, or JSON map) once. */
export function compileAccessLog(cfg: Pick<AccessLogConfig, 'format' | 'json'>): AccessLogFormatter {
  if (cfg.json) {
    const entries = Object.entries(cfg.json).map(([k, v]) => [k, compileFormat(v)] as const);
    return (ctx) => {
      const o: Record<string, string | number | null> = {};
      for (const [k, f] of entries) o[k] = f.value(ctx);
      return JSON.stringify(o) + '\n';
    };
  }
  const f = compileFormat(cfg.format ?? ISTIO_DEFAULT_FORMAT);
  return (ctx) => {
    const s = f.text(ctx);
    return s.endsWith('\n') ? s : s + '\n';
  };
}

// Node's own HTTP/1 parser (llhttp, the one node:http uses), driven directly: the proxy parses both directions
// with it on raw sockets instead of going through node:http's IncomingMessage/ServerResponse or undici, which
// roughly halves the CPU per proxied request. `_http_common` is a public builtin (listed in
// module.builtinModules) but untyped, so the surface used here is declared below.
import { createRequire } from 'node:module';

export interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  /** Bytes consumed, or an Error (code HPE_*, bytesParsed) on a parse error. */
  execute(data: Buffer): number | LlhttpError;
  /** End of input (EOF): completes a close-delimited message, or returns an Error for a truncated one. */
  finish(): number | LlhttpError | undefined;
  /** Reads straight from a TCP handle (no JS 'data' events); results arrive through kOnExecute. */
  consume(handle: unknown): void;
  unconsume(): void;
  close(): void;
  free(): void;
  remove(): void;
  [key: number]: unknown;
}

export interface LlhttpError extends Error {
  code: string;
  bytesParsed: number;
  reason?: string;
}

interface HttpCommon {
  HTTPParser: {
    new (): LlhttpParser;
    REQUEST: number;
    RESPONSE: number;
    kOnMessageBegin: number;
    kOnHeaders: number;
    kOnHeadersComplete: number;
    kOnBody: number;
    kOnMessageComplete: number;
    kOnExecute: number;
    kLenientNone: number;
  };
  methods: string[];
}

const common = createRequire(import.meta.url)('_http_common') as HttpCommon;

export const HTTPParser = common.HTTPParser;
/** Method names by llhttp's method index. */
export const METHODS: readonly string[] = common.methods;
export const kOnMessageBegin = HTTPParser.kOnMessageBegin | 0;
export const kOnHeaders = HTTPParser.kOnHeaders | 0;
export const kOnHeadersComplete = HTTPParser.kOnHeadersComplete | 0;
export const kOnBody = HTTPParser.kOnBody | 0;
export const kOnMessageComplete = HTTPParser.kOnMessageComplete | 0;
export const kOnExecute = HTTPParser.kOnExecute | 0;

/** What kOnHeadersComplete returns to llhttp: 0 = body per the headers, 1 = no body (HEAD response), 2 = upgrade. */
export const SKIP_BODY = 1;

/** llhttp callback signature for headers-complete (arguments as node's binding passes them). */
export type OnHeadersComplete = (
  versionMajor: number,
  versionMinor: number,
  headers: string[] | undefined,
  method: number,
  url: string | undefined,
  statusCode: number,
  statusMessage: string | undefined,
  upgrade: boolean,
  shouldKeepAlive: boolean,
) => number | void;

export function isParseError(r: unknown): r is LlhttpError {
  return r instanceof Error;
}

/** Lower-cases a header name only when it has an upper-case ASCII letter (most names on the wire already are). */
export function lowerName(n: string): string {
  for (let j = 0; j < n.length; j++) {
    const c = n.charCodeAt(j);
    if (c >= 65 && c <= 90) return n.toLowerCase();
  }
  return n;
}

const BAD_VALUE = /[\r\n\0]/;

/** Appends `name: value\r\n` lines for flat header pairs; throws on CR/LF/NUL in a name or value (header injection). */
export function headerLines(headers: readonly string[], out: string): string {
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i];
    const v = headers[i + 1];
    if (BAD_VALUE.test(v) || BAD_VALUE.test(n)) throw Object.assign(new Error(`invalid header value for "${n}"`), { code: 'ERR_INVALID_HEADER' });
    out += n + ': ' + v + '\r\n';
  }
  return out;
}

const CHUNK_END = Buffer.from('\r\n');
export const LAST_CHUNK = Buffer.from('0\r\n\r\n');

/** Writes one chunk of a chunked body (size line, data, CRLF) as one corked write. */
export function writeChunk(socket: import('node:net').Socket, chunk: Buffer): boolean {
  socket.cork();
  socket.write(chunk.length.toString(16) + '\r\n', 'latin1');
  socket.write(chunk);
  const ok = socket.write(CHUNK_END);
  socket.uncork();
  return ok;
}

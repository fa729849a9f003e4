// Node's own HTTP/1 parser (llhttp, the one node:http uses), driven directly: the proxy parses both directions
// with it on raw sockets instead of going through node:http's IncomingMessage/ServerResponse or undici, which
// roughly halves the CPU per proxied request. `_http_common` is a public builtin (listed in
// module.builtinModules) but untyped, so the surface used here is declared below.
import { STATUS_CODES } from 'node:http';
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

const HTTPParser = common.HTTPParser;
/** Method names by llhttp's method index. */
export const METHODS: readonly string[] = common.methods;
const kOnMessageBegin = HTTPParser.kOnMessageBegin | 0;
const kOnHeaders = HTTPParser.kOnHeaders | 0;
const kOnHeadersComplete = HTTPParser.kOnHeadersComplete | 0;
const kOnBody = HTTPParser.kOnBody | 0;
const kOnMessageComplete = HTTPParser.kOnMessageComplete | 0;

/** What kOnHeadersComplete returns to llhttp: 0 = body per the headers, 1 = no body (HEAD response), 2 = upgrade. */
export const SKIP_BODY = 1;

/**
 * What a parser reports to: the connection that owns it. The parser's callbacks are module functions that find
 * their owner through a symbol, so no closure is made per connection or per request.
 */
export interface ParserOwner {
  /** First byte of a message (called only when newParser was asked for it). */
  parserMessageBegin?(): void;
  /** Header pairs (and, for requests, target bytes) llhttp flushed before the head completed (past 32 pairs), or trailers after it. */
  parserHeaders(headers: string[], url: string | undefined): void;
  /**
   * The head. `headers`/`url` are undefined when llhttp flushed them through parserHeaders. Returns what llhttp
   * expects: 0 = body per the headers, SKIP_BODY = no body (a HEAD response).
   */
  parserHeadersComplete(versionMinor: number, headers: string[] | undefined, method: number, url: string | undefined, statusCode: number, upgrade: boolean, shouldKeepAlive: boolean): number;
  parserBody(chunk: Buffer): void;
  parserMessageComplete(): void;
}

const kOwner = Symbol('isthmus.parserOwner');
type Owned = LlhttpParser & { [kOwner]?: ParserOwner };

/** A request or response parser reporting to `owner`; messageBegin = also report the first byte of each message. */
export function newParser(kind: 'request' | 'response', maxHeaderBytes: number, owner: ParserOwner, messageBegin = false): LlhttpParser {
  const p = new HTTPParser() as Owned;
  p.initialize(kind === 'request' ? HTTPParser.REQUEST : HTTPParser.RESPONSE, {}, maxHeaderBytes, HTTPParser.kLenientNone);
  p[kOwner] = owner;
  if (messageBegin) p[kOnMessageBegin] = onMessageBegin;
  p[kOnHeaders] = onHeaders;
  p[kOnHeadersComplete] = onHeadersComplete;
  p[kOnBody] = onBody;
  p[kOnMessageComplete] = onMessageComplete;
  return p;
}

/**
 * Detaches the parser from its owner (later callbacks do nothing) and frees it on the next turn of the loop: never
 * synchronously, since this may run inside one of the parser's own callbacks (node:http defers it too). Returns
 * false when it was already released.
 */
export function releaseParser(p: LlhttpParser): boolean {
  const o = p as Owned;
  if (o[kOwner] === undefined) return false;
  o[kOwner] = undefined;
  setImmediate(closeParser, p);
  return true;
}

function closeParser(p: LlhttpParser): void {
  p.close();
}
function onMessageBegin(this: Owned): void {
  this[kOwner]?.parserMessageBegin?.();
}
function onHeaders(this: Owned, headers: string[], url: string | undefined): void {
  this[kOwner]?.parserHeaders(headers, url);
}
function onHeadersComplete(
  this: Owned,
  _versionMajor: number,
  versionMinor: number,
  headers: string[] | undefined,
  method: number,
  url: string | undefined,
  statusCode: number,
  _statusMessage: string | undefined,
  upgrade: boolean,
  shouldKeepAlive: boolean,
): number {
  const o = this[kOwner];
  return o === undefined ? 0 : o.parserHeadersComplete(versionMinor, headers, method, url, statusCode, upgrade, shouldKeepAlive);
}
function onBody(this: Owned, chunk: Buffer): void {
  this[kOwner]?.parserBody(chunk);
}
function onMessageComplete(this: Owned): void {
  this[kOwner]?.parserMessageComplete();
}

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

/** `HTTP/1.1 <status> <reason>\r\n`, the first line of every HTTP/1 response the proxy writes. */
export function statusLine(status: number): string {
  return 'HTTP/1.1 ' + status + ' ' + (STATUS_CODES[status] ?? 'Unknown') + '\r\n';
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

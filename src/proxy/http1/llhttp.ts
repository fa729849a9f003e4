// Node's own HTTP/1 parser (llhttp, the one node:http uses), driven directly: the proxy parses both directions
// with it on raw sockets instead of going through node:http's IncomingMessage/ServerResponse or undici, which
// roughly halves the CPU per proxied request. `_http_common` is a public builtin (listed in
// module.builtinModules) but untyped, so the surface used here is declared below.
import { STATUS_CODES } from 'node:http';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

export interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  /** Bytes consumed, or an Error (code HPE_*, bytesParsed) on a parse error. */
  execute(data: Buffer): number | LlhttpError;
  /** End of input (EOF): completes a close-delimited message, or returns an Error for a truncated one. */
  finish(): number | LlhttpError | undefined;
  /** Reads straight from a TCP handle (no JS 'data' events); results arrive through kOnExecute. */
  consume(handle: unknown): void;
  unconsume(): void;
  /** During kOnExecute of a consumed read: a copy of the bytes read. */
  getCurrentBuffer(): Buffer;
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
const kOnExecute = HTTPParser.kOnExecute | 0;

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
  /**
   * After each read of the socket (attachSocket) was parsed: `r` = bytes parsed, or the parse error. `input` is the
   * chunk read, or null when llhttp read the socket itself (then unparsedInput gives the rest).
   */
  parserExecuted(r: number | LlhttpError, input: Buffer | null): void;
  /** One of the callbacks above threw while parsing: the parser ignores the rest of the input and reports nothing more. */
  parserFailed(err: unknown): void;
}

const kOwner = Symbol('isthmus.parserOwner');
/** The exception a callback threw during the current read. */
const kFailed = Symbol('isthmus.parserFailed');
/** The socket the parser reads (attachSocket). */
const kSocket = Symbol('isthmus.parserSocket');
/** True when llhttp reads the socket's handle itself. */
const kConsumed = Symbol('isthmus.parserConsumed');
type Owned = LlhttpParser & { [kOwner]?: ParserOwner; [kFailed]?: unknown; [kSocket]?: ParserSocket; [kConsumed]?: boolean };
/** The TCP (or TLS) handle of a net.Socket: a libuv stream node's C++ parser can read from. */
interface StreamHandle {
  isStreamBase?: boolean;
  reading?: boolean;
  readStart(): number;
  readStop(): number;
}
type ParserSocket = Socket & { _handle?: StreamHandle | null; [kParser]?: Owned };
const kParser = Symbol('isthmus.socketParser');

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
  p[kOnExecute] = onExecute;
  return p;
}

/**
 * Makes `p` parse what `socket` reads, reporting each read to its owner's parserExecuted. Where the socket has a
 * stream handle, llhttp reads it itself, as node:http's server does: the reads go straight into the parser in C++
 * through one buffer all parsers share, so no Buffer, no stream push and no 'data' event is made per read (≈ 5 µs
 * of the ≈ 30 µs a proxied request costs here). Otherwise (a socket without a handle, e.g. a JS stream) the socket's
 * 'data' chunks are parsed. The socket keeps emitting 'end', 'close', 'drain' and 'error' either way. Reading is
 * paused and resumed with pauseInput / resumeInput, never socket.pause(), which does not stop a consumed handle.
 */
export function attachSocket(p: LlhttpParser, socket: Socket): void {
  const o = p as Owned;
  const s = socket as ParserSocket;
  o[kSocket] = s;
  s[kParser] = o;
  // The listener also keeps the socket's Readable side flowing, which is what makes it emit 'end' at EOF.
  s.on('data', onSocketData);
  const h = s._handle;
  if (h?.isStreamBase === true && !socket.destroyed) {
    p.consume(h);
    o[kConsumed] = true;
  }
}

/** Stops reading the socket (the chunk being parsed is still parsed to its end). */
export function pauseInput(p: LlhttpParser): void {
  const o = p as Owned;
  const s = o[kSocket];
  if (s === undefined) return;
  if (o[kConsumed] !== true) {
    s.pause();
    return;
  }
  const h = s._handle;
  if (h && h.reading !== false) {
    h.reading = false; // net.Socket reads this flag: it restarts reading only when the flag is false
    h.readStop();
  }
}

export function resumeInput(p: LlhttpParser): void {
  const o = p as Owned;
  const s = o[kSocket];
  if (s === undefined) return;
  if (o[kConsumed] !== true) {
    s.resume();
    return;
  }
  const h = s._handle;
  if (h && h.reading === false && !s.destroyed) {
    h.reading = true;
    h.readStart();
  }
}

/**
 * End of input (EOF): completes a close-delimited message, whose callbacks run now (an exception in one goes to
 * parserFailed), or returns the error of a truncated one.
 */
export function finishInput(p: LlhttpParser): number | LlhttpError | undefined {
  const r = p.finish();
  reportFailure(p);
  return r;
}

/** The bytes of the read being reported to parserExecuted from offset `parsed` on (what follows an upgrade head). */
export function unparsedInput(p: LlhttpParser, input: Buffer | null, parsed: number): Buffer {
  return (input ?? p.getCurrentBuffer()).subarray(parsed);
}

/**
 * Gives the socket back: its reads are 'data' events of its own again (paused: the Readable holds them until
 * someone reads), starting with the next read. Synchronous, so the socket can change hands right away (upgrade).
 */
function detachSocket(o: Owned): void {
  const s = o[kSocket];
  if (s === undefined) return;
  o[kSocket] = undefined;
  s[kParser] = undefined;
  s.removeListener('data', onSocketData);
  if (o[kConsumed] !== true) return;
  o[kConsumed] = false;
  o.unconsume();
  const h = s._handle;
  if (h && h.reading === false && !s.destroyed) {
    // Paused through pauseInput: the Readable now decides when to read, and holds what it reads.
    s.pause();
    h.reading = true;
    h.readStart();
  }
}

/**
 * Detaches the parser from its owner (later callbacks do nothing) and from its socket (attachSocket; at once, so the
 * socket can change hands), and frees it on the next turn of the loop: never
 * synchronously, since this may run inside one of the parser's own callbacks (node:http defers it too). Returns
 * false when it was already released.
 */
export function releaseParser(p: LlhttpParser): boolean {
  const o = p as Owned;
  if (o[kOwner] === undefined) return false;
  o[kOwner] = undefined;
  detachSocket(o);
  setImmediate(closeParser, p);
  return true;
}

function closeParser(p: LlhttpParser): void {
  p.close();
}
// Callbacks never throw into llhttp: from a consumed read there is no JavaScript caller to catch it (it would be an
// uncaught exception). The first exception is kept for parserFailed, and the rest of the input is ignored.
function owner(p: Owned): ParserOwner | undefined {
  return p[kFailed] === undefined ? p[kOwner] : undefined;
}
function fail(p: Owned, err: unknown): void {
  p[kFailed] = err ?? new Error('parser callback threw');
}
function onMessageBegin(this: Owned): void {
  try {
    owner(this)?.parserMessageBegin?.();
  } catch (err) {
    fail(this, err);
  }
}
function onHeaders(this: Owned, headers: string[], url: string | undefined): void {
  try {
    owner(this)?.parserHeaders(headers, url);
  } catch (err) {
    fail(this, err);
  }
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
  try {
    const o = owner(this);
    return o === undefined ? 0 : o.parserHeadersComplete(versionMinor, headers, method, url, statusCode, upgrade, shouldKeepAlive);
  } catch (err) {
    fail(this, err);
    return 0;
  }
}
function onBody(this: Owned, chunk: Buffer): void {
  try {
    owner(this)?.parserBody(chunk);
  } catch (err) {
    fail(this, err);
  }
}
function onMessageComplete(this: Owned): void {
  try {
    owner(this)?.parserMessageComplete();
  } catch (err) {
    fail(this, err);
  }
}
/** A consumed read was parsed. */
function onExecute(this: Owned, r: number | LlhttpError): void {
  executed(this, r, null);
}
function onSocketData(this: ParserSocket, chunk: Buffer): void {
  const p = this[kParser];
  if (p !== undefined) executed(p, p.execute(chunk), chunk);
}
/** kFailed once parserFailed was called: the owner hears of nothing more. */
const REPORTED = Symbol('isthmus.parserFailureReported');
function executed(p: Owned, r: number | LlhttpError, input: Buffer | null): void {
  const o = p[kOwner];
  if (o !== undefined && !reportFailure(p)) o.parserExecuted(r, input);
}
/** Tells the owner of a callback's exception, once; true when the parser has failed (reported now or before). */
function reportFailure(p: Owned): boolean {
  const err = p[kFailed];
  if (err === undefined) return false;
  const o = p[kOwner];
  if (err !== REPORTED && o !== undefined) {
    p[kFailed] = REPORTED;
    o.parserFailed(err);
  }
  return true;
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

// node-floor: a MEASURING STICK for the benchmark, not product code. It is about the least a reverse proxy written
// on Node's socket layer can do per request: raw net sockets, Node's own llhttp binding (the parser node:http and
// isthmus use) reading each socket's handle itself (consume, as node:http's server does: no 'data' event per read),
// one keep-alive upstream connection per in-flight request, every HTTP/1.1 message written as ONE latin1 string. Its CPU per request is the floor isthmus can approach but not beat while it proxies on net.Socket.
// Deliberately missing: routing (Host is ignored; every request goes to the one upstream), stats, logs, timeouts,
// retries, chunked request bodies, streaming (bodies are buffered whole: fine for the bench's 30-byte body only).
// Args: <h1Port> <h2cPort> <upstreamPort> (all 127.0.0.1). The bench runs it with plain node after TypeScript's
// transpileModule (bench/lib/targets.ts), so no loader cost is measured; by hand: node --import tsx bench/node-floor.ts.
import { createServer as createH2cServer, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { createRequire } from 'node:module';
import { connect, createServer, type Socket } from 'node:net';

/** What llhttp fills in while parsing one message. */
interface Msg { h: string[]; url: string; body: Buffer[] | null }
interface Parser<T extends Msg> { o: T; initialize(type: number, res: object, maxHead: number, lenient: number): void; execute(b: Buffer): number | Error; consume(handle: unknown): void; [k: number]: unknown }
interface Req { method: string; url: string; h: string[]; body: Buffer | null; reply(status: number, msg: string, h: string[], body: Buffer | null): void }
const { HTTPParser, methods } = createRequire(import.meta.url)('_http_common') as {
  HTTPParser: { new <T extends Msg>(): Parser<T>; REQUEST: number; RESPONSE: number; kLenientNone: number; kOnHeaders: number; kOnHeadersComplete: number; kOnBody: number; kOnMessageComplete: number; kOnExecute: number };
  methods: string[];
};
const { kOnHeaders, kOnHeadersComplete, kOnBody, kOnMessageComplete, kOnExecute } = HTTPParser;
const [H1_PORT, H2_PORT, UP_PORT] = process.argv.slice(2).map(Number);
/** Bodies up to this size go out in the same string as the head. */
const SMALL = 16 * 1024;
/** Hop-by-hop and framing headers: dropped in both directions; framing is redone with content-length. */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'content-length', 'upgrade', 'te', 'trailer']);
const noop = (): void => undefined;

/** A llhttp parser whose callbacks see `this.o` = the connection's state; the caller sets the head/complete callbacks. */
function parser<T extends Msg>(type: number, o: T): Parser<T> {
  const p = new HTTPParser<T>();
  p.initialize(type, {}, 64 * 1024, HTTPParser.kLenientNone);
  p.o = o;
  // Heads over 32 pairs (or split across reads) arrive in parts before kOnHeadersComplete.
  p[kOnHeaders] = function (this: Parser<T>, h: string[], url: string) { this.o.h = this.o.h.concat(h); this.o.url += url; };
  p[kOnBody] = function (this: Parser<T>, b: Buffer) { (this.o.body ??= []).push(b); };
  return p;
}
/** llhttp reads the socket's TCP handle itself; a parse error closes the connection. */
function consume<T extends Msg>(p: Parser<T>, s: Socket): void {
  s.on('data', noop); // keeps the socket's Readable side flowing, so that it emits 'end'
  p[kOnExecute] = (r: unknown) => { if (r instanceof Error) s.destroy(); };
  p.consume((s as Socket & { _handle: unknown })._handle);
}
const joined = (parts: Buffer[] | null): Buffer | null => (parts === null ? null : parts.length === 1 ? parts[0] : Buffer.concat(parts));

// ---- upstream: an idle list of keep-alive HTTP/1.1 connections; a new one whenever none is idle (never closed
// by the floor itself, so the pool grows to the peak number of requests in flight).
interface Up extends Msg { s: Socket; req: Req | null; status: number; msg: string; keep: boolean }
const idle: Up[] = [];

function upstream(): Up {
  const s = connect({ port: UP_PORT, host: '127.0.0.1', noDelay: true });
  const u: Up = { s, req: null, h: [], url: '', status: 0, msg: '', keep: true, body: null };
  const p = parser(HTTPParser.RESPONSE, u);
  p[kOnHeadersComplete] = function (this: Parser<Up>, _maj: number, _min: number, h: string[] | undefined, _m: number, _url: string, status: number, msg: string, _upg: boolean, keep: boolean) {
    const o = this.o;
    if (h) o.h = h;
    o.status = status; o.msg = msg; o.keep = keep;
    return o.req?.method === 'HEAD' ? 1 : 0; // 1: no body follows
  };
  p[kOnMessageComplete] = function (this: Parser<Up>) {
    const o = this.o, { req, status, msg, h } = o;
    const body = joined(o.body);
    o.req = null; o.h = []; o.body = null;
    if (o.keep) idle.push(o);
    else o.s.end();
    req?.reply(status, msg, h, body);
  };
  consume(p, s);
  s.on('error', noop);
  s.on('close', () => { if (idle.includes(u)) idle.splice(idle.indexOf(u), 1); u.req?.reply(502, 'Bad Gateway', [], null); });
  return u;
}

// Sends `req` on an idle or new connection. Host is passed through as received (like nginx's
// `proxy_set_header Host $host`) but never looked at.
function forward(req: Req): void {
  const u = idle.pop() ?? upstream();
  u.req = req;
  const h = req.h;
  let head = req.method + ' ' + req.url + ' HTTP/1.1\r\n';
  for (let i = 0; i < h.length; i += 2) if (!HOP.has(h[i].toLowerCase())) head += h[i] + ': ' + h[i + 1] + '\r\n';
  const body = req.body;
  if (body === null) return void u.s.write(head + '\r\n', 'latin1');
  head += 'content-length: ' + body.length + '\r\n\r\n';
  if (body.length <= SMALL) return void u.s.write(head + body.toString('latin1'), 'latin1');
  u.s.write(head, 'latin1');
  u.s.write(body);
}

// ---- HTTP/1.1 downstream: requests parsed by llhttp; responses written in request order (pipelining-safe).
interface Down extends Msg { s: Socket; q: H1Req[]; method: string; keep: boolean }
class H1Req implements Req {
  out: string | [string, Buffer] | null = null;
  constructor(readonly d: Down, readonly method: string, readonly url: string, readonly h: string[], readonly body: Buffer | null, readonly keep: boolean) {}
  reply(status: number, msg: string, h: string[], body: Buffer | null): void {
    let head = 'HTTP/1.1 ' + status + ' ' + msg + '\r\n';
    for (let i = 0; i < h.length; i += 2) if (!HOP.has(h[i].toLowerCase())) head += h[i] + ': ' + h[i + 1] + '\r\n';
    head += 'content-length: ' + (body === null ? 0 : body.length) + (this.keep ? '\r\n\r\n' : '\r\nconnection: close\r\n\r\n');
    this.out = body === null ? head : body.length <= SMALL ? head + body.toString('latin1') : [head, body];
    const { s, q } = this.d;
    while (q.length > 0 && q[0].out !== null) {
      const r = q.shift()!;
      if (typeof r.out === 'string') s.write(r.out, 'latin1');
      else if (r.out !== null) { s.write(r.out[0], 'latin1'); s.write(r.out[1]); }
      if (!r.keep) s.end();
    }
  }
}

createServer({ noDelay: true }, (s) => {
  const d: Down = { s, q: [], h: [], url: '', method: '', keep: true, body: null };
  const p = parser(HTTPParser.REQUEST, d);
  p[kOnHeadersComplete] = function (this: Parser<Down>, _maj: number, _min: number, h: string[] | undefined, method: number, url: string, _st: number, _msg: string, _upg: boolean, keep: boolean) {
    const o = this.o;
    if (h) o.h = h;
    if (url) o.url = url;
    o.method = methods[method]; o.keep = keep;
  };
  p[kOnMessageComplete] = function (this: Parser<Down>) {
    const o = this.o;
    const r = new H1Req(o, o.method, o.url, o.h, joined(o.body), o.keep);
    o.h = []; o.url = ''; o.body = null;
    o.q.push(r);
    forward(r);
  };
  consume(p, s);
  s.on('error', noop);
}).listen(H1_PORT, '127.0.0.1');

// ---- h2c (prior knowledge) downstream: node:http2 streams forwarded to the same HTTP/1.1 pool.
class H2Req implements Req {
  body: Buffer | null = null;
  constructor(readonly stream: ServerHttp2Stream, readonly method: string, readonly url: string, readonly h: string[]) {}
  reply(status: number, _msg: string, h: string[], body: Buffer | null): void {
    if (this.stream.destroyed) return;
    const headers: Record<string, string | number> = { ':status': status, 'content-length': body === null ? 0 : body.length };
    // Repeated names: the last wins (good enough for a measuring stick).
    for (let i = 0, n = ''; i < h.length; i += 2) if (!HOP.has((n = h[i].toLowerCase()))) headers[n] = h[i + 1];
    this.stream.respond(headers, { endStream: body === null });
    if (body !== null) this.stream.end(body);
  }
}

createH2cServer().on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number) => {
  stream.on('error', noop);
  const h = ['host', headers[':authority'] ?? '127.0.0.1'];
  for (const n in headers) if (n.charCodeAt(0) !== 58 && n !== 'host') h.push(n, String(headers[n])); // 58 = ':' (pseudo-headers)
  const r = new H2Req(stream, String(headers[':method']), String(headers[':path']), h);
  if (flags & 1) return forward(r); // END_STREAM on the HEADERS frame: no body
  const parts: Buffer[] = [];
  stream.on('data', (c: Buffer) => parts.push(c));
  stream.on('end', () => { r.body = joined(parts.length > 0 ? parts : null); forward(r); });
}).on('sessionError', noop).listen(H2_PORT, '127.0.0.1');

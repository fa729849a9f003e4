// The parser's socket input (attachSocket): llhttp reading a TCP handle itself, pausing and resuming it, handing
// the socket back with the bytes after a head, and callbacks that throw. Real sockets on 127.0.0.1.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import {
  attachSocket,
  newParser,
  pauseInput,
  releaseParser,
  resumeInput,
  unparsedInput,
  type LlhttpError,
  type LlhttpParser,
  type ParserOwner,
} from './llhttp.js';

/** A request-parser owner that records what it is told. */
class Recorder implements ParserOwner {
  readonly urls: string[] = [];
  readonly bodies: string[] = [];
  readonly reads: { r: number | LlhttpError; input: Buffer | null }[] = [];
  readonly failures: unknown[] = [];
  complete = 0;
  onHead?: (url: string) => void;
  onRead?: (r: number | LlhttpError, input: Buffer | null) => void;
  parserHeaders(): void {}
  parserHeadersComplete(_v: number, _h: string[] | undefined, _m: number, url: string | undefined): number {
    this.urls.push(url ?? '');
    this.onHead?.(url ?? '');
    return 0;
  }
  parserBody(chunk: Buffer): void {
    this.bodies.push(chunk.toString('latin1'));
  }
  parserMessageComplete(): void {
    this.complete++;
  }
  parserExecuted(r: number | LlhttpError, input: Buffer | null): void {
    this.reads.push({ r, input });
    this.onRead?.(r, input);
  }
  parserFailed(err: unknown): void {
    this.failures.push(err);
  }
}

/** A connected pair: `client` writes, `server` is the accepted socket. */
async function pair(t: TestContext): Promise<{ client: Socket; server: Socket }> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  const client = connect(port, '127.0.0.1');
  const [server] = (await once(srv, 'connection')) as [Socket];
  await once(client, 'connect');
  t.after(() => {
    client.destroy();
    server.destroy();
    srv.close();
  });
  return { client, server };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), `timed out waiting for ${what}`);
}

function parser(o: Recorder): LlhttpParser {
  return newParser('request', 8192, o);
}

test('a TCP socket is read by llhttp itself: no data events, reads reported without a chunk', async (t) => {
  const { client, server } = await pair(t);
  const o = new Recorder();
  attachSocket(parser(o), server);
  let dataEvents = 0;
  server.prependListener('data', () => dataEvents++);
  client.write('POST /a HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello');
  await until(() => o.complete === 1, 'the request');
  assert.deepEqual(o.urls, ['/a']);
  assert.equal(o.bodies.join(''), 'hello');
  assert.equal(dataEvents, 0);
  assert.ok(o.reads.length >= 1);
  assert.ok(o.reads.every((x) => x.input === null && typeof x.r === 'number'));
});

test('pauseInput stops reading until resumeInput; nothing is lost or reordered', async (t) => {
  const { client, server } = await pair(t);
  const o = new Recorder();
  const p = parser(o);
  attachSocket(p, server);
  o.onHead = (url) => {
    if (url === '/1') pauseInput(p);
  };
  client.write('GET /1 HTTP/1.1\r\nhost: x\r\n\r\n');
  await until(() => o.complete === 1, 'the first request');
  client.write('GET /2 HTTP/1.1\r\nhost: x\r\n\r\n');
  // Give the second request every chance to be read while paused.
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(o.urls, ['/1']);
  resumeInput(p);
  await until(() => o.complete === 2, 'the second request after resume');
  assert.deepEqual(o.urls, ['/1', '/2']);
});

test('releasing the parser hands the socket back: the bytes after the head, then data events', async (t) => {
  const { client, server } = await pair(t);
  const o = new Recorder();
  const p = parser(o);
  attachSocket(p, server);
  let rest: Buffer | undefined;
  let upgradeAt = -1;
  o.onHead = (url) => {
    if (url === '/up') upgradeAt = o.reads.length;
  };
  o.onRead = (r, input) => {
    if (upgradeAt < 0 || rest !== undefined || typeof r !== 'number') return;
    // The first message ends where the tunnel begins: parse no further, take the rest of this read.
    rest = Buffer.from(unparsedInput(p, input, r));
    releaseParser(p);
    server.pause(); // as the codec does until the tunnel is piped
  };
  // Stops llhttp right after the head, as an Upgrade request does.
  o.parserHeadersComplete = function (this: Recorder, _v, _h, _m, url) {
    this.urls.push(url ?? '');
    this.onHead?.(url ?? '');
    return 2;
  };
  client.write('GET /up HTTP/1.1\r\nhost: x\r\n\r\ntunnel-1');
  await until(() => rest !== undefined, 'the head');
  const later: Buffer[] = [];
  server.on('data', (c: Buffer) => later.push(c));
  server.resume();
  client.write('tunnel-2');
  await until(() => Buffer.concat(later).toString().includes('tunnel-2'), 'tunnel bytes as data events');
  assert.equal(Buffer.concat([rest!, ...later]).toString(), 'tunnel-1tunnel-2');
});

test('a callback that throws is reported once; the rest of the input is ignored and the process lives', async (t) => {
  const { client, server } = await pair(t);
  const o = new Recorder();
  const p = parser(o);
  attachSocket(p, server);
  o.onHead = (url) => {
    if (url === '/bad') throw new Error('owner bug');
  };
  client.write('GET /bad HTTP/1.1\r\nhost: x\r\n\r\nGET /next HTTP/1.1\r\nhost: x\r\n\r\n');
  await until(() => o.failures.length === 1, 'the failure');
  assert.equal((o.failures[0] as Error).message, 'owner bug');
  client.write('GET /more HTTP/1.1\r\nhost: x\r\n\r\n');
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(o.urls, ['/bad']);
  assert.equal(o.complete, 0);
  assert.equal(o.failures.length, 1);
  assert.equal(releaseParser(p), true);
});

test('a parse error reaches parserExecuted', async (t) => {
  const { client, server } = await pair(t);
  const o = new Recorder();
  attachSocket(parser(o), server);
  client.write('GET / HTTP/1.1\r\ncontent-length: 1\r\ntransfer-encoding: chunked\r\n\r\n');
  await until(() => o.reads.some((x) => x.r instanceof Error), 'the parse error');
  const e = o.reads.find((x) => x.r instanceof Error)!.r as LlhttpError;
  assert.match(e.code, /^HPE_/);
});

// Listener filters on a live socket (protocol sniffing): read the first bytes in paused mode, run the tls and http
// inspectors, then unshift every byte back so the chosen network handler reads the stream from its start.
import type { Socket } from 'node:net';
import { MAX_INSPECT_BYTES, inspectHttp, inspectTls } from './inspect.js';

export interface SniffOptions {
  tlsInspector: boolean;
  httpInspector: boolean;
  /** 0 = wait for the client indefinitely (Envoy's listener_filters_timeout 0s). */
  timeoutMs: number;
}

export interface SniffResult {
  transport: 'raw_buffer' | 'tls';
  sni?: string;
  alpn: string[];
  sniffed: 'http1' | 'h2c' | 'tls' | 'tcp';
  /** The client sent too little before the timeout (e.g. a server-first protocol). */
  timedOut: boolean;
}

/**
 * Inspects the first bytes of `socket` and calls `done` once, with the result or `null` when the connection ended
 * or failed before a decision (the caller destroys it). The socket is left with no listeners of ours and its bytes
 * unshifted; it resumes when the next owner attaches a 'data' listener or pipes it.
 */
export function sniff(socket: Socket, opts: SniffOptions, done: (r: SniffResult | null) => void): void {
  let buf: Buffer | undefined;
  let tlsDone = !opts.tlsInspector;
  let httpDone = !opts.httpInspector;
  const result: SniffResult = { transport: 'raw_buffer', alpn: [], sniffed: 'tcp', timedOut: false };
  let timer: NodeJS.Timeout | undefined;
  let finished = false;

  const cleanup = (): void => {
    finished = true;
    if (timer) clearTimeout(timer);
    socket.removeListener('readable', onReadable);
    socket.removeListener('end', onGone);
    socket.removeListener('close', onGone);
    socket.removeListener('error', onGone);
  };
  const finish = (): void => {
    cleanup();
    if (buf && buf.length > 0) socket.unshift(buf);
    done(result);
  };
  function onGone(): void {
    if (finished) return;
    cleanup();
    done(null);
  }
  const evaluate = (): boolean => {
    if (!buf) return false;
    if (!tlsDone) {
      const t = inspectTls(buf);
      if (t.kind === 'tls') {
        tlsDone = true;
        httpDone = true; // http_inspector skips connections whose transport is already known
        result.transport = 'tls';
        result.sniffed = 'tls';
        if (t.sni) result.sni = t.sni;
        result.alpn = t.alpn;
      } else if (t.kind === 'not-tls') {
        tlsDone = true;
      }
    }
    if (!httpDone) {
      const h = inspectHttp(buf);
      if (h.kind === 'http1') {
        httpDone = true;
        result.sniffed = 'http1';
        result.alpn = [h.alpn];
      } else if (h.kind === 'h2c') {
        httpDone = true;
        result.sniffed = 'h2c';
        result.alpn = ['h2c'];
      } else if (h.kind === 'not-http') {
        httpDone = true;
      }
    }
    if (tlsDone && httpDone) return true;
    // Never buffer more than an inspector would look at.
    if (buf.length >= MAX_INSPECT_BYTES) return true;
    return false;
  };
  function onReadable(): void {
    if (finished) return;
    let chunk: Buffer | null;
    while ((chunk = socket.read() as Buffer | null) !== null) buf = buf ? Buffer.concat([buf, chunk]) : chunk;
    if (evaluate()) finish();
  }

  if (tlsDone && httpDone) {
    done(result);
    return;
  }
  socket.on('readable', onReadable);
  socket.once('end', onGone);
  socket.once('close', onGone);
  socket.once('error', onGone);
  if (opts.timeoutMs > 0) {
    timer = setTimeout(() => {
      if (finished) return;
      result.timedOut = true;
      finish();
    }, opts.timeoutMs);
  }
}

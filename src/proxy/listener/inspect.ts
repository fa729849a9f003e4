// Pure protocol detectors for the listener filters: Envoy's tls_inspector (ClientHello → SNI + ALPN) and
// http_inspector (HTTP/1.x request line → ALPN http/1.0 | http/1.1, HTTP/2 prior-knowledge preface → h2c).
// https://www.envoyproxy.io/docs/envoy/latest/configuration/listeners/listener_filters/tls_inspector
// https://www.envoyproxy.io/docs/envoy/latest/configuration/listeners/listener_filters/http_inspector

/** Most bytes a listener filter looks at before giving up (Envoy's tls_inspector reads up to 64 KiB). */
export const MAX_INSPECT_BYTES = 64 * 1024;

export type TlsInspection =
  | { kind: 'need-more' }
  | { kind: 'not-tls' }
  | { kind: 'tls'; sni?: string; alpn: string[] };

/**
 * Looks for a TLS ClientHello at the start of `buf`. Handshake fragments spread over several TLS records are joined.
 * A malformed hello after a valid record header is still TLS (no SNI/ALPN), like Envoy, which reports the transport.
 */
export function inspectTls(buf: Buffer): TlsInspection {
  if (buf.length === 0) return { kind: 'need-more' };
  if (buf[0] !== 0x16) return { kind: 'not-tls' };
  if (buf.length >= 2 && buf[1] !== 0x03) return { kind: 'not-tls' };
  if (buf.length >= 3 && buf[2] > 0x04) return { kind: 'not-tls' };
  // Gather the handshake message from consecutive handshake records.
  const parts: Buffer[] = [];
  let have = 0;
  let off = 0;
  let need = -1;
  for (;;) {
    if (buf.length < off + 5) return buf.length >= MAX_INSPECT_BYTES ? { kind: 'tls', alpn: [] } : { kind: 'need-more' };
    if (buf[off] !== 0x16 || buf[off + 1] !== 0x03) return { kind: 'tls', alpn: [] };
    const len = buf.readUInt16BE(off + 3);
    if (off === 0 && len === 0) return { kind: 'not-tls' };
    const end = off + 5 + len;
    if (buf.length < end) {
      if (buf.length >= MAX_INSPECT_BYTES) return { kind: 'tls', alpn: [] };
      return { kind: 'need-more' };
    }
    parts.push(buf.subarray(off + 5, end));
    have += len;
    off = end;
    if (need < 0 && have >= 4) {
      const first = parts.length === 1 ? parts[0] : Buffer.concat(parts);
      if (first[0] !== 0x01) return { kind: 'tls', alpn: [] }; // not a ClientHello
      need = 4 + ((first[1] << 16) | (first[2] << 8) | first[3]);
    }
    if (need >= 0 && have >= need) break;
    if (off >= MAX_INSPECT_BYTES) return { kind: 'tls', alpn: [] };
  }
  const msg = parts.length === 1 ? parts[0] : Buffer.concat(parts);
  return parseClientHello(msg.subarray(4, need));
}

/** Parses a ClientHello body (after the 4-byte handshake header). */
function parseClientHello(b: Buffer): TlsInspection {
  const out: { kind: 'tls'; sni?: string; alpn: string[] } = { kind: 'tls', alpn: [] };
  let p = 2 + 32; // legacy_version + random
  if (b.length < p + 1) return out;
  p += 1 + b[p]; // session id
  if (b.length < p + 2) return out;
  p += 2 + b.readUInt16BE(p); // cipher suites
  if (b.length < p + 1) return out;
  p += 1 + b[p]; // compression methods
  if (b.length < p + 2) return out;
  const extEnd = Math.min(b.length, p + 2 + b.readUInt16BE(p));
  p += 2;
  while (p + 4 <= extEnd) {
    const type = b.readUInt16BE(p);
    const len = b.readUInt16BE(p + 2);
    const data = b.subarray(p + 4, Math.min(extEnd, p + 4 + len));
    p += 4 + len;
    if (type === 0 && data.length >= 2) {
      // server_name: list of (type, len, name); host_name is type 0.
      let q = 2;
      while (q + 3 <= data.length) {
        const nameType = data[q];
        const nameLen = data.readUInt16BE(q + 1);
        if (nameType === 0 && q + 3 + nameLen <= data.length) {
          out.sni = data.subarray(q + 3, q + 3 + nameLen).toString('latin1').toLowerCase();
          break;
        }
        q += 3 + nameLen;
      }
    } else if (type === 16 && data.length >= 2) {
      // application_layer_protocol_negotiation: list of length-prefixed protocol names.
      let q = 2;
      while (q < data.length) {
        const l = data[q];
        if (q + 1 + l > data.length) break;
        out.alpn.push(data.subarray(q + 1, q + 1 + l).toString('latin1'));
        q += 1 + l;
      }
    }
  }
  return out;
}

export type HttpInspection =
  | { kind: 'need-more' }
  | { kind: 'not-http' }
  | { kind: 'http1'; alpn: 'http/1.0' | 'http/1.1' }
  | { kind: 'h2c' };

export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** HTTP methods http_inspector accepts (http-parser's list). */
const METHODS = [
  'DELETE', 'GET', 'HEAD', 'POST', 'PUT', 'CONNECT', 'OPTIONS', 'TRACE', 'COPY', 'LOCK', 'MKCOL', 'MOVE', 'PROPFIND',
  'PROPPATCH', 'SEARCH', 'UNLOCK', 'BIND', 'REBIND', 'UNBIND', 'ACL', 'REPORT', 'MKACTIVITY', 'CHECKOUT', 'MERGE',
  'M-SEARCH', 'NOTIFY', 'SUBSCRIBE', 'UNSUBSCRIBE', 'PATCH', 'PURGE', 'MKCALENDAR', 'LINK', 'UNLINK', 'SOURCE', 'QUERY',
];
const METHOD_SET = new Set(METHODS);
const MAX_METHOD = Math.max(...METHODS.map((m) => m.length));
/** Longest request line we wait for before calling the bytes "not HTTP". */
export const MAX_REQUEST_LINE = 16 * 1024;

/** Classifies the first bytes of a plaintext connection. */
export function inspectHttp(buf: Buffer): HttpInspection {
  if (buf.length === 0) return { kind: 'need-more' };
  // HTTP/2 with prior knowledge.
  const n = Math.min(buf.length, H2_PREFACE.length);
  if (buf.compare(H2_PREFACE, 0, n, 0, n) === 0) return n === H2_PREFACE.length ? { kind: 'h2c' } : { kind: 'need-more' };
  const sp = buf.indexOf(0x20);
  const methodEnd = sp < 0 ? Math.min(buf.length, MAX_METHOD + 1) : sp;
  const method = buf.toString('latin1', 0, methodEnd);
  if (sp < 0) {
    if (method.length > MAX_METHOD) return { kind: 'not-http' };
    return METHODS.some((m) => m.startsWith(method)) ? { kind: 'need-more' } : { kind: 'not-http' };
  }
  if (!METHOD_SET.has(method)) return { kind: 'not-http' };
  const lf = buf.indexOf(0x0a, sp);
  if (lf < 0) return buf.length > MAX_REQUEST_LINE ? { kind: 'not-http' } : { kind: 'need-more' };
  const lineEnd = lf > 0 && buf[lf - 1] === 0x0d ? lf - 1 : lf;
  const line = buf.toString('latin1', sp + 1, lineEnd);
  const lastSp = line.lastIndexOf(' ');
  if (lastSp <= 0) return { kind: 'not-http' }; // HTTP/0.9 and garbage
  const version = line.slice(lastSp + 1);
  if (version === 'HTTP/1.1') return { kind: 'http1', alpn: 'http/1.1' };
  if (version === 'HTTP/1.0') return { kind: 'http1', alpn: 'http/1.0' };
  return { kind: 'not-http' };
}

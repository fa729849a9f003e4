// Builders for decoder tests: Envoy resources as the codec's plain objects (nested Any as {'@type', ...}).
import { encode } from '../../../xds/codec.js';
import type { Decoded } from '../types.js';
import type { DecodeContext } from './util.js';

export const T = {
  hcm: 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  tcp: 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
  router: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
  fault: 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
  cors: 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors',
  corsPolicy: 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy',
  localRateLimit: 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
  rbacHttp: 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC',
  rbacNetwork: 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC',
  tlsInspector: 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
  httpInspector: 'type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector',
  originalDst: 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst',
  downstreamTls: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
  upstreamTls: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
  fileLog: 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
  httpOptions: 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
  previousHosts: 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate',
} as const;

/** An Any of a type the proto root does not load (encoded as raw type_url + value). */
export function opaqueAny(typeUrl: string, value: Uint8Array = new Uint8Array([10, 1, 120])): { type_url: string; value: Uint8Array } {
  return { type_url: typeUrl, value };
}

export const files: Record<string, string> = {
  '/etc/certs/cert.pem': 'CERT-PEM',
  '/etc/certs/key.pem': 'KEY-PEM',
  '/etc/certs/ca.pem': 'CA-PEM',
};

/** A DecodeContext whose files are `files`; other paths fail like a missing file. */
export const testCtx: DecodeContext = {
  readFile(p: string): string {
    const f = files[p];
    if (f === undefined) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
    return f;
  },
};

export function enc(typeUrl: string, obj: object): Uint8Array {
  return encode(typeUrl, obj);
}

/** The value of a successful decode (fails the test with the errors otherwise). */
export function ok<T>(d: Decoded<T>): T {
  if (!d.ok) throw new Error(`expected a successful decode, got:\n${d.errors.join('\n')}`);
  return d.value;
}

/** The errors of a failed decode. */
export function errs<T>(d: Decoded<T>): string[] {
  if (d.ok) throw new Error('expected decode errors, got a value');
  return d.errors;
}

export function hcmFilter(fields: Record<string, unknown>): Record<string, unknown> {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: { '@type': T.hcm, stat_prefix: 'http', http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': T.router } }], ...fields },
  };
}

export function tcpFilter(fields: Record<string, unknown>): Record<string, unknown> {
  return { name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': T.tcp, stat_prefix: 'tcp', ...fields } };
}

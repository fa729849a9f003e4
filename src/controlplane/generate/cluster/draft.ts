// A cluster under construction plus its pending HttpProtocolOptions (Istio's clusterWrapper), and finalisation.
import type { Protocol } from '../../model/types.js';
import { HTTP_PROTOCOL_OPTIONS_KEY, HTTP_PROTOCOL_OPTIONS_TYPE, type Obj } from './util.js';

export interface ClusterDraft {
  c: Obj;
  /** envoy.extensions.upstreams.http.v3.HttpProtocolOptions fields, packed into typed_extension_protocol_options at build. */
  http?: Obj;
}

export function httpOptions(d: ClusterDraft): Obj {
  d.http ??= {};
  return d.http;
}

/** Istio's setH2Options: explicit HTTP/2 upstream unless upstream_http_protocol_options was already set. */
export function setH2(d: ClusterDraft): void {
  const o = httpOptions(d);
  if (o.upstream_http_protocol_options === undefined) {
    delete o.use_downstream_protocol_config;
    o.explicit_http_config = { http2_protocol_options: {} };
  }
}

/** Use the downstream protocol (HTTP/1.1 in, HTTP/1.1 out; h2 in, h2 out). */
export function setUseDownstream(d: ClusterDraft): void {
  const o = httpOptions(d);
  delete o.explicit_http_config;
  o.use_downstream_protocol_config = { http_protocol_options: {}, http2_protocol_options: {} };
}

export function isHttp2(d: ClusterDraft): boolean {
  const e = d.http?.explicit_http_config as Obj | undefined;
  return e?.http2_protocol_options !== undefined;
}

export function isHttp2Protocol(p: Protocol): boolean {
  return p === 'HTTP2' || p === 'GRPC' || p === 'GRPC-WEB';
}

export function isHttpProtocol(p: Protocol): boolean {
  return p === 'HTTP' || p === 'HTTP_PROXY' || isHttp2Protocol(p);
}

/** Packs the pending HttpProtocolOptions (defaulting to explicit HTTP/1.1, as Envoy requires one) and returns the cluster. */
export function finish(d: ClusterDraft): Obj {
  if (d.http) {
    const o = d.http;
    if (o.explicit_http_config === undefined && o.use_downstream_protocol_config === undefined && o.auto_config === undefined) {
      o.explicit_http_config = { http_protocol_options: {} };
    }
    d.c.typed_extension_protocol_options = { [HTTP_PROTOCOL_OPTIONS_KEY]: { '@type': HTTP_PROTOCOL_OPTIONS_TYPE, ...o } };
  }
  return d.c;
}

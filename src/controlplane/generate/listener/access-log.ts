// Mesh-wide access logging (meshConfig.accessLogFile / accessLogEncoding / accessLogFormat): istiod adds a file access
// log to every HTTP connection manager and TCP proxy of sidecars and gateways when it is set.
// https://istio.io/latest/docs/tasks/observability/logs/access-log/
import type { MeshConfig } from '../../model/types.js';
import { toStruct } from '../../../xds/codec.js';
import { ISTIO_TEXT_FORMAT } from '../../../xds/access-log-format.js';

type Obj = Record<string, unknown>;

const HCM = 'envoy.filters.network.http_connection_manager';
const TCP = 'envoy.filters.network.tcp_proxy';

export { ISTIO_TEXT_FORMAT };

/** Istio's default JSON access log fields (accessLogEncoding JSON). */
const ISTIO_JSON_FORMAT: Record<string, string> = {
  start_time: '%START_TIME%',
  method: '%REQ(:METHOD)%',
  path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
  protocol: '%PROTOCOL%',
  response_code: '%RESPONSE_CODE%',
  response_flags: '%RESPONSE_FLAGS%',
  response_code_details: '%RESPONSE_CODE_DETAILS%',
  connection_termination_details: '%CONNECTION_TERMINATION_DETAILS%',
  upstream_transport_failure_reason: '%UPSTREAM_TRANSPORT_FAILURE_REASON%',
  bytes_received: '%BYTES_RECEIVED%',
  bytes_sent: '%BYTES_SENT%',
  duration: '%DURATION%',
  upstream_service_time: '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%',
  x_forwarded_for: '%REQ(X-FORWARDED-FOR)%',
  user_agent: '%REQ(USER-AGENT)%',
  request_id: '%REQ(X-REQUEST-ID)%',
  authority: '%REQ(:AUTHORITY)%',
  upstream_host: '%UPSTREAM_HOST%',
  upstream_cluster: '%UPSTREAM_CLUSTER%',
  upstream_local_address: '%UPSTREAM_LOCAL_ADDRESS%',
  downstream_local_address: '%DOWNSTREAM_LOCAL_ADDRESS%',
  downstream_remote_address: '%DOWNSTREAM_REMOTE_ADDRESS%',
  requested_server_name: '%REQUESTED_SERVER_NAME%',
  route_name: '%ROUTE_NAME%',
};

/** The Envoy AccessLog entry meshConfig asks for, or undefined when access logging is off. */
export function meshAccessLog(mesh: MeshConfig | undefined): Obj | undefined {
  const path = mesh?.accessLogFile;
  if (!path) return undefined;
  const logFormat =
    mesh.accessLogEncoding === 'JSON'
      ? { json_format: toStruct(ISTIO_JSON_FORMAT) }
      : { text_format_source: { inline_string: mesh.accessLogFormat ? ensureNewline(mesh.accessLogFormat) : ISTIO_TEXT_FORMAT } };
  return {
    name: 'envoy.access_loggers.file',
    typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog', path, log_format: logFormat },
  };
}

function ensureNewline(f: string): string {
  return f.endsWith('\n') ? f : f + '\n';
}

/** Adds the mesh access log to every HCM and tcp_proxy of the listeners that has none (returns new objects). */
export function withMeshAccessLog(listeners: Obj[], mesh: MeshConfig | undefined): Obj[] {
  const entry = meshAccessLog(mesh);
  if (!entry) return listeners;
  const patchChain = (fc: Obj): Obj => ({
    ...fc,
    filters: ((fc.filters as Obj[] | undefined) ?? []).map((f) => {
      const tc = f.typed_config as Obj | undefined;
      if ((f.name !== HCM && f.name !== TCP) || !tc || tc.access_log !== undefined) return f;
      return { ...f, typed_config: { ...tc, access_log: [entry] } };
    }),
  });
  return listeners.map((l) => {
    const out: Obj = { ...l, filter_chains: ((l.filter_chains as Obj[] | undefined) ?? []).map(patchChain) };
    if (l.default_filter_chain) out.default_filter_chain = patchChain(l.default_filter_chain as Obj);
    return out;
  });
}

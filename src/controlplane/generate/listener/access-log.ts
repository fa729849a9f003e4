// Access logging on every HTTP connection manager and TCP proxy of sidecars and gateways, as istiod builds it: from the
// Telemetry API (accessLogging, per listener class) or, when no Telemetry applies, meshConfig.accessLogFile.
// https://istio.io/latest/docs/tasks/observability/logs/access-log/ and .../logs/telemetry-api/
import { BUILTIN_ENVOY_PROVIDER } from '../../model/telemetry.js';
import type { ExtensionProvider, MeshConfig, Proxy, PushContext, TelemetryMode } from '../../model/types.js';
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

/** A FileAccessLog AccessLog entry. */
function fileAccessLog(path: string, logFormat: Obj): Obj {
  return {
    name: 'envoy.access_loggers.file',
    typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog', path, log_format: logFormat },
  };
}

/** log_format from meshConfig.accessLogEncoding / accessLogFormat (Istio's FileAccessLogFromMeshConfig). */
function meshLogFormat(mesh: MeshConfig | undefined): Obj {
  return mesh?.accessLogEncoding === 'JSON'
    ? { json_format: toStruct(ISTIO_JSON_FORMAT) }
    : { text_format_source: { inline_string: mesh?.accessLogFormat ? ensureNewline(mesh.accessLogFormat) : ISTIO_TEXT_FORMAT } };
}

/** The Envoy AccessLog entry meshConfig asks for, or undefined when access logging is off. */
export function meshAccessLog(mesh: MeshConfig | undefined): Obj | undefined {
  const path = mesh?.accessLogFile;
  if (!path) return undefined;
  return fileAccessLog(path, meshLogFormat(mesh));
}

/**
 * The AccessLog entry of an envoyFileAccessLog provider (Istio's telemetryAccessLog): the built-in `envoy` provider
 * without a logFormat follows meshConfig's encoding and format; others use logFormat text (TEXT), labels (JSON; empty
 * labels = Istio's JSON fields) or, without one, Istio's TEXT format.
 */
export function providerAccessLog(p: ExtensionProvider, mesh: MeshConfig | undefined): Obj | undefined {
  const f = p.envoyFileAccessLog;
  if (!f) return undefined;
  const path = f.path || '/dev/stdout';
  if (p.name === BUILTIN_ENVOY_PROVIDER.name && !f.logFormat) return fileAccessLog(path, meshLogFormat(mesh));
  const labels = f.logFormat?.labels;
  if (labels !== undefined) return fileAccessLog(path, { json_format: toStruct(Object.keys(labels).length > 0 ? labels : ISTIO_JSON_FORMAT) });
  const text = f.logFormat?.text;
  return fileAccessLog(path, { text_format_source: { inline_string: text ? ensureNewline(text) : ISTIO_TEXT_FORMAT } });
}

/**
 * The access logs for one listener class of a proxy (Istio's AccessLogBuilder): the enabled Telemetry providers, or
 * meshConfig.accessLogFile when no Telemetry applies. A Telemetry that disables every provider means no access log.
 * Telemetry filter expressions (CEL) are not sent: the proxy has no CEL evaluator, and validation warns about them.
 */
export function accessLogsFor(proxy: Proxy, push: PushContext, mode: TelemetryMode): Obj[] {
  const cfgs = push.accessLogging(proxy, mode);
  if (cfgs.length === 0) {
    const m = meshAccessLog(push.mesh);
    return m ? [m] : [];
  }
  const out: Obj[] = [];
  for (const c of cfgs) {
    if (c.disabled) continue;
    const al = providerAccessLog(c.provider, push.mesh);
    if (al) out.push(al);
  }
  return out;
}

function ensureNewline(f: string): string {
  return f.endsWith('\n') ? f : f + '\n';
}

/** Adds `logs` to every HCM and tcp_proxy of the listeners that has none (returns new objects). */
export function withAccessLogs(listeners: Obj[], logs: readonly Obj[]): Obj[] {
  if (logs.length === 0) return listeners;
  const patchChain = (fc: Obj): Obj => ({
    ...fc,
    filters: ((fc.filters as Obj[] | undefined) ?? []).map((f) => {
      const tc = f.typed_config as Obj | undefined;
      if ((f.name !== HCM && f.name !== TCP) || !tc || tc.access_log !== undefined) return f;
      return { ...f, typed_config: { ...tc, access_log: [...logs] } };
    }),
  });
  return listeners.map((l) => {
    const out: Obj = { ...l, filter_chains: ((l.filter_chains as Obj[] | undefined) ?? []).map(patchChain) };
    if (l.default_filter_chain) out.default_filter_chain = patchChain(l.default_filter_chain as Obj);
    return out;
  });
}

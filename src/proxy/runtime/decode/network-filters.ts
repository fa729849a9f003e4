// A filter chain's network filters → its terminal filter config: HttpConnectionManager (HCM) or TcpProxy. Filters the
// proxy cannot run are refused (an ignored rbac or unknown filter would silently change behaviour).
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto
import type { HttpConnectionManagerConfig, HttpFilter, NetworkFilter, TcpProxyConfig } from '../types.js';
import { accessLogs } from './access-log.js';
import { HttpFilterType, decodeFault, decodeLocalRateLimit } from './http-filters.js';
import { routeTableFromObject } from './route.js';
import type { DecodeContext, Problems, Rec } from './util.js';
import { at, cidrs, durMs, enumStr, list, msg, num, rec, str, unpackAny, wrappedBool, wrappedNum } from './util.js';

export const NetworkFilterType = {
  Hcm: 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  TcpProxy: 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
} as const;

/** Envoy's defaults for HCM timeouts and limits. */
export const HCM_DEFAULTS = {
  streamIdleTimeoutMs: 300_000,
  idleTimeoutMs: 3_600_000,
  maxRequestHeadersKb: 60,
  maxHeadersCount: 100,
} as const;
/** tcp_proxy idle_timeout default (1 h); 0 disables. */
export const TCP_IDLE_TIMEOUT_MS = 3_600_000;

function httpFilters(items: Rec[], path: string, p: Problems): HttpFilter[] {
  const out: HttpFilter[] = [];
  if (items.length === 0) p.add(path, 'at least the router filter is required');
  items.forEach((f, i) => {
    const fp = `${path}[${i}]`;
    const name = str(f, 'name') ?? '';
    const optional = f.is_optional === true;
    if (f.config_discovery !== undefined) {
      if (optional) out.push({ type: 'unknown_optional', name });
      else p.add(at(fp, 'config_discovery'), 'extension config discovery is not supported');
      return;
    }
    const a = unpackAny(rec(f.typed_config));
    if (a?.error) {
      p.add(at(fp, 'typed_config'), a.error);
      return;
    }
    const type = a?.type ?? '';
    const fields = a?.fields ?? {};
    const last = i === items.length - 1;
    if (type === HttpFilterType.Router) {
      if (!last) p.add(fp, `terminal filter ${name} must be the last filter`);
      out.push({ type: 'router', name });
      return;
    }
    if (last) p.add(fp, `non-terminal filter ${name} is the last filter (the router must be last)`);
    if (type === HttpFilterType.Fault && a?.fields) {
      const cfg = decodeFault(fields, at(fp, 'typed_config'), p);
      out.push({ type: 'fault', name, config: cfg.delay || cfg.abort ? cfg : undefined });
    } else if (type === HttpFilterType.Cors) {
      out.push({ type: 'cors', name });
    } else if (type === HttpFilterType.LocalRateLimit && a?.fields) {
      out.push({ type: 'local_ratelimit', name, config: decodeLocalRateLimit(fields, at(fp, 'typed_config'), p) });
    } else if (optional) {
      out.push({ type: 'unknown_optional', name });
    } else {
      p.add(at(fp, 'typed_config'), a ? `unsupported HTTP filter type ${type}` : `HTTP filter ${name || '(unnamed)'} has no typed_config`);
    }
  });
  return out;
}

function hcm(h: Rec, path: string, p: Problems, ctx: DecodeContext): HttpConnectionManagerConfig {
  const statPrefix = str(h, 'stat_prefix') ?? '';
  if (!statPrefix) p.add(at(path, 'stat_prefix'), 'stat_prefix is required');
  const codec = enumStr(h, 'codec_type', 'AUTO');
  if (codec !== 'AUTO' && codec !== 'HTTP1' && codec !== 'HTTP2') p.add(at(path, 'codec_type'), `codec ${codec} is not supported`);
  const common = msg(h, 'common_http_protocol_options') ?? {};
  const http1 = msg(h, 'http_protocol_options') ?? {};
  const out: HttpConnectionManagerConfig = {
    type: 'http',
    statPrefix,
    httpFilters: httpFilters(list(h, 'http_filters'), at(path, 'http_filters'), p),
    codecType: codec as HttpConnectionManagerConfig['codecType'],
    generateRequestId: wrappedBool(h, 'generate_request_id') ?? true,
    useRemoteAddress: wrappedBool(h, 'use_remote_address') ?? false,
    xffNumTrustedHops: num(h, 'xff_num_trusted_hops') ?? 0,
    skipXffAppend: h.skip_xff_append === true,
    streamIdleTimeoutMs: durMs(h, 'stream_idle_timeout') ?? HCM_DEFAULTS.streamIdleTimeoutMs,
    requestTimeoutMs: durMs(h, 'request_timeout') ?? 0,
    requestHeadersTimeoutMs: durMs(h, 'request_headers_timeout') ?? 0,
    idleTimeoutMs: durMs(common, 'idle_timeout') ?? HCM_DEFAULTS.idleTimeoutMs,
    maxRequestHeadersKb: wrappedNum(h, 'max_request_headers_kb') ?? HCM_DEFAULTS.maxRequestHeadersKb,
    maxHeadersCount: wrappedNum(common, 'max_headers_count') ?? HCM_DEFAULTS.maxHeadersCount,
    accessLog: accessLogs(list(h, 'access_log'), at(path, 'access_log'), p, ctx),
    upgradeTypes: [],
    normalizePath: wrappedBool(h, 'normalize_path') ?? false,
    mergeSlashes: h.merge_slashes === true,
    // Istio's HTTP_PROXY egress port: HCM with http_protocol_options.allow_absolute_url (see runtime/README.md).
    httpProxyMode: wrappedBool(http1, 'allow_absolute_url') === true,
  };
  const maxKb = out.maxRequestHeadersKb;
  if (maxKb < 1 || maxKb > 8192) p.add(at(path, 'max_request_headers_kb'), `${maxKb} is not in [1, 8192]`);
  const iac = msg(h, 'internal_address_config');
  if (iac) out.internalAddressConfig = { unixSockets: iac.unix_sockets === true, cidrRanges: cidrs(list(iac, 'cidr_ranges'), at(path, 'internal_address_config.cidr_ranges'), p) };
  const fcc = str(h, 'forward_client_cert_details');
  if (fcc !== undefined) out.forwardClientCertDetails = fcc;
  const server = str(h, 'server_name');
  if (server !== undefined) out.serverName = server;
  list(h, 'upgrade_configs').forEach((u) => {
    if (wrappedBool(u, 'enabled') === false) return;
    const t = (str(u, 'upgrade_type') ?? '').toLowerCase();
    if (t) out.upgradeTypes.push(t);
  });
  const rds = msg(h, 'rds');
  const inline = msg(h, 'route_config');
  if (rds) {
    const name = str(rds, 'route_config_name') ?? '';
    if (!name) p.add(at(path, 'rds.route_config_name'), 'route_config_name is required');
    const src = msg(rds, 'config_source');
    if (src && !msg(src, 'ads') && !msg(src, 'self')) p.add(at(path, 'rds.config_source'), 'only ADS config sources are supported');
    out.rdsName = name;
  } else if (inline) {
    out.routeConfig = routeTableFromObject(inline, at(path, 'route_config'), p, ctx);
  } else if (msg(h, 'scoped_routes')) {
    p.add(at(path, 'scoped_routes'), 'scoped routes are not supported');
  } else {
    p.add(path, 'neither rds nor route_config is set');
  }
  return out;
}

function tcpProxy(t: Rec, path: string, p: Problems, ctx: DecodeContext): TcpProxyConfig {
  const statPrefix = str(t, 'stat_prefix') ?? '';
  if (!statPrefix) p.add(at(path, 'stat_prefix'), 'stat_prefix is required');
  const out: TcpProxyConfig = {
    type: 'tcp',
    statPrefix,
    idleTimeoutMs: durMs(t, 'idle_timeout') ?? TCP_IDLE_TIMEOUT_MS,
    accessLog: accessLogs(list(t, 'access_log'), at(path, 'access_log'), p, ctx),
    maxConnectAttempts: wrappedNum(t, 'max_connect_attempts') ?? 1,
  };
  if (out.maxConnectAttempts < 1) p.add(at(path, 'max_connect_attempts'), 'must be at least 1');
  const cluster = str(t, 'cluster');
  const wc = msg(t, 'weighted_clusters');
  if (cluster !== undefined) {
    if (!cluster) p.add(at(path, 'cluster'), 'cluster name is required');
    out.cluster = cluster;
  } else if (wc) {
    const clusters = list(wc, 'clusters').map((c, i) => {
      const name = str(c, 'name') ?? '';
      if (!name) p.add(`${at(path, 'weighted_clusters.clusters')}[${i}].name`, 'cluster name is required');
      return { name, weight: num(c, 'weight') ?? 0 };
    });
    if (clusters.length === 0 || clusters.every((c) => c.weight === 0)) p.add(at(path, 'weighted_clusters'), 'needs at least one cluster with a weight');
    out.weightedClusters = clusters;
  } else {
    p.add(path, 'neither cluster nor weighted_clusters is set');
  }
  for (const k of ['tunneling_config', 'on_demand']) if (t[k] !== undefined) p.add(at(path, k), 'not supported by the proxy');
  return out;
}

/** The filters of one filter chain → its terminal filter (exactly one HCM or tcp_proxy, last). */
export function terminalFilter(filters: Rec[], path: string, p: Problems, ctx: DecodeContext): NetworkFilter | undefined {
  if (filters.length === 0) {
    p.add(path, 'no network filters (an HCM or tcp_proxy is required)');
    return undefined;
  }
  let terminal: NetworkFilter | undefined;
  filters.forEach((f, i) => {
    const fp = `${path}[${i}]`;
    const name = str(f, 'name') ?? '';
    if (f.config_discovery !== undefined) {
      p.add(at(fp, 'config_discovery'), 'extension config discovery is not supported');
      return;
    }
    const a = unpackAny(rec(f.typed_config));
    if (!a) {
      p.add(at(fp, 'typed_config'), `network filter ${name || '(unnamed)'} has no typed_config`);
      return;
    }
    if (a.error) {
      p.add(at(fp, 'typed_config'), a.error);
      return;
    }
    const isHcm = a.type === NetworkFilterType.Hcm;
    const isTcp = a.type === NetworkFilterType.TcpProxy;
    if ((!isHcm && !isTcp) || !a.fields) {
      p.add(at(fp, 'typed_config'), `unsupported network filter type ${a.type}`);
      return;
    }
    if (i !== filters.length - 1) {
      p.add(fp, `terminal filter ${name} must be the last filter`);
      return;
    }
    terminal = isHcm ? hcm(a.fields, at(fp, 'typed_config'), p, ctx) : tcpProxy(a.fields, at(fp, 'typed_config'), p, ctx);
  });
  return terminal;
}

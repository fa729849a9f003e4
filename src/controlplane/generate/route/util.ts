// Small builders shared by the route and listener generators: type URLs, durations, percentages, config metadata.
import type { Config } from '../../../api/config.js';
import { configPath } from '../cluster/policy.js';
import { parseDuration } from '../../../api/duration.js';
import { durationMs, toStruct } from '../../../xds/codec.js';
import type { Percent } from '../../../api/types/networking.js';

export type Obj = Record<string, unknown>;
export type ProtoDuration = { seconds: number; nanos: number };

export const TYPE = {
  HCM: 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  TcpProxy: 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
  Router: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
  Fault: 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
  Cors: 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors',
  CorsPolicy: 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy',
  TlsInspector: 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
  HttpInspector: 'type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector',
  OriginalDst: 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst',
  DownstreamTls: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
  PreviousHosts: 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate',
  PreviousPriorities: 'type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig',
} as const;

/** Well-known Envoy extension names as Istio writes them. */
export const NAME = {
  HCM: 'envoy.filters.network.http_connection_manager',
  TcpProxy: 'envoy.filters.network.tcp_proxy',
  Router: 'envoy.filters.http.router',
  Fault: 'envoy.filters.http.fault',
  Cors: 'envoy.filters.http.cors',
  TlsInspector: 'envoy.filters.listener.tls_inspector',
  HttpInspector: 'envoy.filters.listener.http_inspector',
  OriginalDst: 'envoy.filters.listener.original_dst',
  TlsTransport: 'envoy.transport_sockets.tls',
} as const;

/** Istio's virtual host / route names for the catch-all hosts (util.Passthrough, util.BlackHole). */
export const ALLOW_ANY = 'allow_any';
export const BLOCK_ALL = 'block_all';
/** Route name of the default route of a service without a VirtualService (istio_route.DefaultRouteName). */
export const DEFAULT_ROUTE_NAME = 'default';
/** Istio raises Envoy's 4 KiB direct-response body limit to 1 MiB. */
export const MAX_DIRECT_RESPONSE_BODY_BYTES = 1024 * 1024;

export const ZERO_DURATION: ProtoDuration = { seconds: 0, nanos: 0 };

/** An Istio duration string as google.protobuf.Duration; undefined when absent or invalid (validation rejects those). */
export function protoDuration(s: string | undefined): ProtoDuration | undefined {
  if (s === undefined) return undefined;
  const ms = parseDuration(s);
  return ms === undefined || ms < 0 ? undefined : durationMs(ms);
}

/** Istio Percent (0-100, fractional) → FractionalPercent per million (translatePercentToFractionalPercent). */
export function percentToFraction(p: Percent): Obj {
  return { numerator: Math.round((p.value ?? 0) * 10000), denominator: 'MILLION' };
}

/** Deprecated integer percentage → FractionalPercent per hundred (translateIntegerToFractionalPercent). */
export function integerToFraction(p: number): Obj {
  return { numerator: p, denominator: 'HUNDRED' };
}

/** envoy.config.core.v3.Metadata naming the Istio config a route came from (util.BuildConfigInfoMetadata). */
export function configMetadata(cfg: Config): Obj {
  return { filter_metadata: { istio: toStruct({ config: configPath(cfg) }) } };
}

/** `host:port`, the name Istio gives virtual hosts (util.DomainName). */
export function domainName(host: string, port: number): string {
  return `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}

/** ConfigSource pointing at the ADS stream. */
export function adsConfigSource(): Obj {
  return { ads: {}, initial_fetch_timeout: { seconds: 0, nanos: 0 }, resource_api_version: 'V3' };
}

/** A typed extension config entry `{name, typed_config: {'@type': url, ...}}`. */
export function typed(name: string, typeUrl: string, fields: Obj = {}): Obj {
  return { name, typed_config: { '@type': typeUrl, ...fields } };
}

/** Stable order for virtual hosts (util.SortVirtualHosts sorts by name). */
export function byName<T extends { name?: unknown }>(a: T, b: T): number {
  const x = typeof a.name === 'string' ? a.name : '';
  const y = typeof b.name === 'string' ? b.name : '';
  return x < y ? -1 : x > y ? 1 : 0;
}

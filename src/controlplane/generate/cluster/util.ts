// Small builders shared by the cluster and endpoint generators: proto durations from Istio strings, wrappers, addresses.
import { parseDuration } from '../../../api/duration.js';
import { durationMs } from '../../../xds/codec.js';
import { Tunables } from '../../../shared/tunables.js';

export type Obj = Record<string, unknown>;
export type ProtoDuration = { seconds: number; nanos: number };

/** Istio's meshConfig.connectTimeout default (10s). */
export const DEFAULT_CONNECT_TIMEOUT_MS = Tunables.connectTimeoutMs.default;
/** meshConfig.dnsRefreshRate default (60s). */
export const DNS_REFRESH_RATE_MS = 60_000;
/** Source address Istio binds inbound passthrough traffic to, so iptables does not loop it back (InboundPassthroughBindIpv4). */
export const INBOUND_PASSTHROUGH_BIND_IPV4 = '127.0.0.6';
export const LOCALHOST = '127.0.0.1';
export const MAX_UINT32 = 4294967295;
/** Envoy's largest Duration Istio uses to disable cleanup of inbound ORIGINAL_DST clusters (maxSecondsValue). */
export const MAX_DURATION_SECONDS = 9223372035;

export const HTTP_PROTOCOL_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
export const HTTP_PROTOCOL_OPTIONS_TYPE = 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
export const UPSTREAM_TLS_CONTEXT_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

/** An Istio duration string ("1s", "100ms") as a google.protobuf.Duration, or undefined when absent/invalid. */
export function duration(s: string | undefined): ProtoDuration | undefined {
  if (s === undefined) return undefined;
  const ms = parseDuration(s);
  return ms === undefined || ms < 0 ? undefined : durationMs(ms);
}

/** Whole seconds of a duration string (Istio truncates keepalive durations to seconds). */
export function seconds(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const ms = parseDuration(s);
  return ms === undefined || ms < 0 ? undefined : Math.floor(ms / 1000);
}

export function u32(value: number): { value: number } {
  return { value };
}

export function socketAddress(address: string, port: number): Obj {
  return { socket_address: { address, port_value: port } };
}

/** ConfigSource pointing at the ADS stream (Istio sets initial_fetch_timeout 0 so Envoy waits for it). */
export function adsConfigSource(): Obj {
  return { ads: {}, initial_fetch_timeout: { seconds: 0, nanos: 0 }, resource_api_version: 'V3' };
}

/** Region/zone/subzone of Istio's `region/zone/subzone` locality string. */
export function parseLocality(s: string): { region: string; zone: string; sub_zone: string } {
  const [region = '', zone = '', subZone = ''] = s.split('/');
  return { region, zone, sub_zone: subZone };
}

// Resource names proxyless gRPC clients ask for: listeners `host:port` (or `host`), server listeners
// `xds.istio.io/grpc/lds/inbound/IP:PORT`, routes `outbound|PORT||HOST` (Istio's grpcgen naming).
import { parseClusterName } from '../../../xds/types.js';
import type { Proxy } from '../../model/types.js';

/** Prefix of the listener names xDS-enabled gRPC servers request (grpcxds.ServerListenerNamePrefix). */
export const SERVER_LISTENER_PREFIX = 'xds.istio.io/grpc/lds/inbound/';

/** `host:port` → {host, port}; `[v6]:port` understood; a name without a valid port → {host}. */
export function splitHostPort(name: string): { host: string; port?: number } {
  if (name.startsWith('[')) {
    const end = name.indexOf(']');
    const host = name.slice(1, end);
    const rest = name.slice(end + 1);
    const port = rest.startsWith(':') ? Number(rest.slice(1)) : NaN;
    return Number.isInteger(port) && port > 0 ? { host, port } : { host };
  }
  const i = name.lastIndexOf(':');
  if (i < 0 || name.indexOf(':') !== i) return { host: name };
  const port = Number(name.slice(i + 1));
  return Number.isInteger(port) && port > 0 && /^\d+$/.test(name.slice(i + 1)) ? { host: name.slice(0, i), port } : { host: name };
}

export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The FQDN a short name stands for from the proxy's namespace (`foo` → `foo.NS.svc.DOMAIN`, `foo.NS` and `foo.NS.svc`
 * likewise), or undefined (Istio's tryFindFQDN).
 */
export function tryFindFQDN(name: string, proxy: Proxy): string | undefined {
  if (!name.includes('.')) return `${name}.${proxy.dnsDomain}`;
  for (const suffix of [proxy.namespace, `${proxy.namespace}.svc`]) {
    if (name.endsWith(`.${suffix}`) && proxy.dnsDomain.startsWith(suffix)) {
      return `${name.slice(0, -(suffix.length + 1))}.${proxy.dnsDomain}`;
    }
  }
  return undefined;
}

/** Host and port of a gRPC route configuration name: `outbound|PORT||HOST` (Istio) or `host:port`. */
export function parseRouteName(name: string, proxy: Proxy): { host: string; port: number } | undefined {
  const c = parseClusterName(name);
  if (c) return { host: c.host, port: c.port };
  const hp = splitHostPort(name);
  if (hp.port === undefined) return undefined;
  return { host: tryFindFQDN(hp.host, proxy) ?? hp.host, port: hp.port };
}

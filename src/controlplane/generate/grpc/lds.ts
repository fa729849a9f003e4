// Listeners for proxyless gRPC (istiod's grpcgen BuildListeners): each requested `host:port` gets an API listener whose
// HttpConnectionManager fetches RDS `outbound|PORT||HOST`; `xds.istio.io/grpc/lds/inbound/IP:PORT` gets a server
// listener (plaintext; mTLS and RBAC come with the security issue). grpc-js-xds NACKs listener filters, original-dst
// and any HTTP filter it does not implement, so the filter list is exactly fault + router.
import { clusterName } from '../../../xds/types.js';
import type { Proxy, PushContext } from '../../model/types.js';
import type { Obj } from '../route/util.js';
import { NAME, TYPE, typed } from '../route/util.js';
import { SERVER_LISTENER_PREFIX, joinHostPort, splitHostPort, tryFindFQDN } from './names.js';

const ADS = { ads: {}, resource_api_version: 'V3' };

interface Wanted {
  /** Names as requested (a request for `foo:80` must be answered under `foo:80`, not the FQDN). */
  requested: Set<string>;
  /** Ports asked for; empty = all ports of the service. */
  ports: Set<number>;
}

/** Istio's newListenerNameFilter: FQDN (and short name) → requested names and ports; undefined names = everything. */
function nameFilter(names: readonly string[], proxy: Proxy): Map<string, Wanted> {
  const filter = new Map<string, Wanted>();
  for (const name of names) {
    if (name.startsWith(SERVER_LISTENER_PREFIX)) continue;
    const { host, port } = splitHostPort(name);
    const keys = [host];
    const fqdn = tryFindFQDN(host, proxy);
    if (fqdn && fqdn !== host) keys.push(fqdn);
    for (const k of keys) {
      let w = filter.get(k);
      const fresh = !w;
      if (!w) {
        w = { requested: new Set(), ports: new Set() };
        filter.set(k, w);
      }
      w.requested.add(host);
      if (port !== undefined && (fresh || w.ports.size > 0)) w.ports.add(port);
      else if (port === undefined) w.ports.clear();
    }
  }
  return filter;
}

function apiListener(name: string, address: string, port: number, routeName: string): Obj {
  return {
    name,
    address: { socket_address: { address, port_value: port } },
    api_listener: {
      api_listener: {
        '@type': TYPE.HCM,
        http_filters: [typed(NAME.Fault, TYPE.Fault), typed(NAME.Router, TYPE.Router)],
        rds: { config_source: ADS, route_config_name: routeName },
      },
    },
  };
}

function outboundListeners(proxy: Proxy, push: PushContext, names: readonly string[] | undefined): Obj[] {
  const filter = names ? nameFilter(names, proxy) : undefined;
  const out: Obj[] = [];
  for (const svc of push.sidecarScope(proxy).services) {
    const w: Wanted | undefined = filter ? filter.get(svc.hostname) : { requested: new Set([svc.hostname]), ports: new Set() };
    if (!w) continue;
    const address = svc.addresses.find((a) => a && !a.includes('/')) ?? '0.0.0.0';
    for (const requested of [...w.requested].sort()) {
      for (const p of svc.ports) {
        if (w.ports.size > 0 && !w.ports.has(p.port)) continue;
        out.push(apiListener(joinHostPort(requested, p.port), address, p.port, clusterName('outbound', p.port, '', svc.hostname)));
      }
    }
  }
  return out;
}

/** Server-side listener for an xDS-enabled gRPC server: one plaintext chain, inline route with non_forwarding_action. */
function inboundListener(proxy: Proxy, push: PushContext, name: string): Obj | undefined {
  const { host, port } = splitHostPort(name.slice(SERVER_LISTENER_PREFIX.length));
  if (port === undefined) return undefined;
  if (!push.serviceInstances(proxy).some((si) => si.endpoint.port === port)) return undefined;
  return {
    name,
    address: { socket_address: { address: host, port_value: port } },
    filter_chains: [
      {
        name: 'inbound-plaintext',
        filters: [
          {
            name: 'inbound-hcmplaintext',
            typed_config: {
              '@type': TYPE.HCM,
              stat_prefix: 'inbound',
              route_config: {
                name: 'inbound',
                virtual_hosts: [{ name: 'inbound', domains: ['*'], routes: [{ match: { prefix: '/' }, non_forwarding_action: {} }] }],
              },
              http_filters: [typed(NAME.Router, TYPE.Router)],
            },
          },
        ],
      },
    ],
  };
}

/** Listeners for a proxyless gRPC node; `names` undefined (wildcard) lists every service port. */
export function grpcListeners(proxy: Proxy, push: PushContext, names: readonly string[] | undefined): Obj[] {
  const out = outboundListeners(proxy, push, names);
  for (const n of names ?? []) {
    if (!n.startsWith(SERVER_LISTENER_PREFIX)) continue;
    const l = inboundListener(proxy, push, n);
    if (l) out.push(l);
  }
  return out;
}

// LDS generator: sidecar (virtualOutbound, virtualInbound, per-port outbound, bound Sidecar listeners), router
// (Gateway servers) and proxyless gRPC (API listeners by requested name) — the way istiod builds them.
import { TypeUrl } from '../../../xds/types.js';
import type { Proxy, PushContext } from '../../model/types.js';
import { grpcListeners } from '../grpc/lds.js';
import type { Generator, GenerateRequest, Resource } from '../types.js';
import { gatewayListeners } from './gateway.js';
import { inboundListeners } from './inbound.js';
import { outboundListeners } from './outbound.js';
import { accessLogsFor, withAccessLogs } from './access-log.js';

type Obj = Record<string, unknown>;

/** All listeners of a proxy as plain objects (proto field names), in a stable order. */
export function buildListeners(proxy: Proxy, push: PushContext, names?: readonly string[]): Obj[] {
  if (proxy.isGrpc) return grpcListeners(proxy, push, names);
  // Istio's listener classes: gateways and sidecar outbound log as CLIENT, sidecar inbound as SERVER.
  if (proxy.type === 'router') return withAccessLogs(gatewayListeners(proxy, push), accessLogsFor(proxy, push, 'CLIENT'));
  const all = [
    ...withAccessLogs(outboundListeners(proxy, push), accessLogsFor(proxy, push, 'CLIENT')),
    ...withAccessLogs(inboundListeners(proxy, push), accessLogsFor(proxy, push, 'SERVER')),
  ];
  // Two Sidecar listeners on the same address and port: the first one wins, as Envoy cannot have both.
  const seen = new Set<string>();
  const unique = all.filter((l) => {
    const n = String(l.name);
    if (seen.has(n)) return false;
    seen.add(n);
    return true;
  });
  return unique;
}

/** RDS names the listeners refer to (HCM `rds.route_config_name`, including API listeners). */
export function routeNamesOf(listeners: readonly Obj[]): string[] {
  const names = new Set<string>();
  const visit = (hcm: unknown): void => {
    const rds = (hcm as { rds?: { route_config_name?: string } } | undefined)?.rds;
    if (rds?.route_config_name) names.add(rds.route_config_name);
  };
  for (const l of listeners) {
    visit((l.api_listener as Obj | undefined)?.api_listener);
    const chains = [...((l.filter_chains as Obj[] | undefined) ?? []), ...(l.default_filter_chain ? [l.default_filter_chain as Obj] : [])];
    for (const fc of chains) for (const f of (fc.filters as Obj[] | undefined) ?? []) visit(f.typed_config);
  }
  return [...names].sort();
}

export const listenerGenerator: Generator = {
  typeUrl: TypeUrl.Listener,
  generate(proxy: Proxy, push: PushContext, request: GenerateRequest): Resource[] {
    const listeners = buildListeners(proxy, push, request.names);
    let out = listeners.map((l) => ({ name: String(l.name), resource: l }));
    // Sidecars and routers are wildcard LDS subscribers; honour an explicit name list anyway.
    if (request.names && !proxy.isGrpc) {
      const wanted = new Set(request.names);
      out = out.filter((r) => wanted.has(r.name));
    }
    return out;
  },
};

// Inbound clusters `inbound|PORT||` for a sidecar's own workload ports, and the always-present PassthroughCluster,
// BlackHoleCluster and InboundPassthroughCluster (Istio's buildInboundClusters / cluster_builder.go).
import type { ConnectionPoolSettings, IstioIngressListener } from '../../../api/types/networking.js';
import type { Proxy, PushContext, Service, ServicePort, SidecarScope } from '../../model/types.js';
import { durationMs } from '../../../xds/codec.js';
import { ClusterName, clusterName } from '../../../xds/types.js';
import { portProtocol } from '../../registry/hosts.js';
import { applyConnectionPool, setUpstreamProtocol } from './connpool.js';
import { finish, type ClusterDraft } from './draft.js';
import { serviceMetadata, setIstioMetadata } from './metadata.js';
import { portLevelPolicy } from './policy.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS, HTTP_PROTOCOL_OPTIONS_KEY, HTTP_PROTOCOL_OPTIONS_TYPE, INBOUND_PASSTHROUGH_BIND_IPV4, LOCALHOST,
  MAX_DURATION_SECONDS, socketAddress, type Obj,
} from './util.js';

/** Istio's passthroughHttpProtocolOptions: 5 minute idle timeout, downstream protocol. */
function passthroughProtocolOptions(): Obj {
  return {
    [HTTP_PROTOCOL_OPTIONS_KEY]: {
      '@type': HTTP_PROTOCOL_OPTIONS_TYPE,
      common_http_protocol_options: { idle_timeout: durationMs(300_000) },
      use_downstream_protocol_config: { http_protocol_options: {}, http2_protocol_options: {} },
    },
  };
}

/** ORIGINAL_DST cluster catching traffic to unknown destinations (ALLOW_ANY). */
export function passthroughCluster(): Obj {
  const d: ClusterDraft = { c: { name: ClusterName.Passthrough, type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED' } };
  applyConnectionPool(d, {});
  d.c.typed_extension_protocol_options = passthroughProtocolOptions();
  return d.c;
}

/** STATIC cluster without endpoints: traffic to unresolved destinations fails here. */
export function blackHoleCluster(): Obj {
  return { name: ClusterName.BlackHole, type: 'STATIC', connect_timeout: durationMs(DEFAULT_CONNECT_TIMEOUT_MS), lb_policy: 'ROUND_ROBIN' };
}

/** Inbound passthrough: ORIGINAL_DST bound to 127.0.0.6 so iptables does not redirect it back to the proxy. */
export function inboundPassthroughCluster(): Obj {
  const c = passthroughCluster();
  c.name = ClusterName.InboundPassthrough;
  c.upstream_bind_config = { source_address: socketAddress(INBOUND_PASSTHROUGH_BIND_IPV4, 0).socket_address };
  return c;
}

interface Instance {
  service: Service;
  port: ServicePort;
}

/** Istio's buildInboundCluster: STATIC to `bind:targetPort`, or ORIGINAL_DST when there is no bind address. */
function inboundCluster(proxy: Proxy, push: PushContext, scope: SidecarScope, clusterPort: number, bind: string, targetPort: number, instances: Instance[], servicePort: ServicePort, dummy: boolean): Obj {
  const name = clusterName('inbound', clusterPort, '', '');
  const c: Obj = { name, type: bind ? 'STATIC' : 'ORIGINAL_DST', common_lb_config: {} };
  if (bind) {
    const address = bind.startsWith('unix://') ? { pipe: { path: bind.slice('unix://'.length) } } : socketAddress(bind, targetPort);
    c.load_assignment = { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address } }] }] };
  }
  const d: ClusterDraft = { c };
  setUpstreamProtocol(d, servicePort, true);
  const first = instances[0];
  if (first && !dummy && first.service.location !== 'MESH_EXTERNAL') {
    const seen = new Set<string>();
    const services: Obj[] = [];
    for (const i of instances) {
      if (i.port.port !== servicePort.port || seen.has(i.service.hostname)) continue;
      seen.add(i.service.hostname);
      services.push(serviceMetadata(i.service));
    }
    setIstioMetadata(c, { services });
  }
  if (!bind) c.cleanup_interval = { seconds: MAX_DURATION_SECONDS, nanos: 0 };
  // Connection pool: the DestinationRule's (receivers need the same capacity), overridden by the Sidecar's.
  let pool: ConnectionPoolSettings | undefined;
  if (first && !dummy) pool = portLevelPolicy(push.destinationRule(proxy, first.service.hostname)?.spec.trafficPolicy, servicePort.port)?.connectionPool;
  const sidecarPool = inboundConnectionPool(scope, clusterPort);
  applyConnectionPool(d, sidecarPool ?? pool ?? {});
  if (c.type === 'ORIGINAL_DST') c.lb_policy = 'CLUSTER_PROVIDED';
  if (bind && bind !== LOCALHOST && bind !== '::1' && !bind.startsWith('unix://')) {
    c.upstream_bind_config = { source_address: socketAddress(INBOUND_PASSTHROUGH_BIND_IPV4, 0).socket_address };
  }
  return finish(d);
}

/** Istio's SidecarScope.InboundConnectionPoolForPort: the ingress listener's pool for the port, else the Sidecar-wide one. */
function inboundConnectionPool(scope: SidecarScope, port: number): ConnectionPoolSettings | undefined {
  const sc = scope.config?.spec;
  if (!sc) return undefined;
  return sc.ingress?.find((i) => i.port.number === port)?.connectionPool ?? sc.inboundConnectionPool;
}

/** defaultEndpoint → bind address (Istio: 127.0.0.1 → localhost, 0.0.0.0 → the workload's IPv4, unix:// as is). */
function ingressBind(proxy: Proxy, ingress: IstioIngressListener): { bind: string; port: number } | undefined {
  const de = ingress.defaultEndpoint ?? '';
  if (de === '') return { bind: '', port: 0 };
  if (de.startsWith('unix://')) return { bind: de, port: 0 };
  const m = /^\[?([^\]]*)\]?:(\d+)$/.exec(de);
  if (!m) return undefined;
  const host = m[1];
  const port = Number(m[2]);
  if (host === '0.0.0.0') return { bind: proxy.ips.find((ip) => !ip.includes(':')) ?? LOCALHOST, port };
  if (host === '::') return { bind: proxy.ips.find((ip) => ip.includes(':')) ?? '::1', port };
  return { bind: host, port };
}

/**
 * Inbound clusters: one per Sidecar ingress listener when the Sidecar has any; otherwise one per workload target port
 * of the proxy's service instances, bound to 127.0.0.1 as Istio does (none in interception mode NONE, where the
 * Sidecar's ingress listeners must declare them). In local mode the app listens on its own loopback IP, so such
 * workloads declare a Sidecar ingress with defaultEndpoint instead.
 */
export function buildInboundClusters(proxy: Proxy, push: PushContext, scope: SidecarScope): Obj[] {
  const instances = push.serviceInstances(proxy);
  const ingress = scope.config?.spec.ingress ?? [];
  const out: Obj[] = [];
  if (ingress.length > 0) {
    for (const il of ingress) {
      const b = ingressBind(proxy, il);
      if (!b) continue;
      const match = instances.find((i) => i.endpoint.port === il.port.number);
      const servicePort: ServicePort = { name: il.port.name ?? '', port: il.port.number, protocol: portProtocol(il.port.name ?? '', il.port.protocol) };
      const list = match ? [{ service: match.service, port: servicePort }] : [];
      out.push(inboundCluster(proxy, push, scope, il.port.number, b.bind, b.port, list, servicePort, !match));
    }
    return out;
  }
  if (proxy.metadata.INTERCEPTION_MODE === 'NONE') return out;
  const byTarget = new Map<number, Instance[]>();
  for (const i of instances) {
    const list = byTarget.get(i.endpoint.port) ?? [];
    list.push({ service: i.service, port: i.port });
    byTarget.set(i.endpoint.port, list);
  }
  for (const target of [...byTarget.keys()].sort((a, b) => a - b)) {
    const list = byTarget.get(target) ?? [];
    const first = list[0];
    out.push(inboundCluster(proxy, push, scope, target, LOCALHOST, target, list, first.port, false));
  }
  return out;
}

// Sidecar inbound: `virtualInbound` (15006) with a filter chain per workload port (HCM with an inline route to
// `inbound|PORT||`, or tcp_proxy) and passthrough chains; Sidecar ingress listeners with captureMode NONE become
// listeners bound to `bind:port` (Istio's buildInboundListeners / buildSidecarInboundHTTPRouteConfig).
import { ClusterName, ListenerName, clusterName } from '../../../xds/types.js';
import type { Protocol, Proxy, PushContext } from '../../model/types.js';
import { parseProtocol } from '../../registry/hosts.js';
import { isHTTP } from '../route/egress.js';
import type { Obj } from '../route/util.js';
import { ZERO_DURATION, domainName } from '../route/util.js';
import { PLAINTEXT_HTTP_ALPNS, httpConnectionManager, httpInspector, originalDst, socketAddress, tcpProxy, tlsInspector } from './filters.js';
import { interceptionNone } from './outbound.js';

export const INBOUND_CAPTURE_PORT = 15006;

interface InboundPort {
  /** Port the chain matches (the workload port traffic was sent to). */
  port: number;
  protocol: Protocol;
  cluster: string;
  /** Trace operation / decorator (`host:port/*`). */
  operation: string;
  /** Listener bound to `bind:port` (captureMode NONE) instead of a chain on virtualInbound. */
  bind?: string;
}

/** Inbound route config for one port: a single `*` virtual host routing to the inbound cluster, no timeout. */
function inboundRouteConfig(cluster: string, port: number, operation: string): Obj {
  return {
    name: cluster,
    virtual_hosts: [
      {
        name: `inbound|http|${port}`,
        domains: ['*'],
        routes: [
          {
            name: 'default',
            match: { prefix: '/' },
            decorator: { operation },
            route: { cluster, timeout: ZERO_DURATION, max_stream_duration: { max_stream_duration: ZERO_DURATION, grpc_timeout_header_max: ZERO_DURATION } },
          },
        ],
      },
    ],
    validate_clusters: { value: false },
  };
}

function inboundHcm(ip: InboundPort, statPrefix: string): Obj {
  return httpConnectionManager({ statPrefix, class: 'sidecar-inbound', routeConfig: inboundRouteConfig(ip.cluster, ip.port, ip.operation) });
}

/** Filter chains for one inbound port; `match` is merged into each chain's filter_chain_match. */
function inboundChains(ip: InboundPort, match: Obj): Obj[] {
  const statPrefix = `inbound_0.0.0.0_${ip.port}`;
  const chain = (name: string, m: Obj, filters: Obj[]): Obj => (Object.keys(m).length > 0 ? { name, filter_chain_match: m, filters } : { name, filters });
  if (isHTTP(ip.protocol)) return [chain(ip.cluster, { ...match }, [inboundHcm(ip, statPrefix)])];
  const tcp = chain(ip.cluster, { ...match }, [tcpProxy(ip.cluster, ip.cluster)]);
  if (ip.protocol === 'UNSUPPORTED') {
    return [chain(`${ip.cluster}-http`, { ...match, application_protocols: PLAINTEXT_HTTP_ALPNS }, [inboundHcm(ip, statPrefix)]), tcp];
  }
  return [tcp];
}

/** The workload ports the proxy receives traffic on: Sidecar ingress listeners if any, else its service instances. */
function inboundPorts(proxy: Proxy, push: PushContext): InboundPort[] {
  const scope = push.sidecarScope(proxy);
  const ingress = scope.config?.spec.ingress;
  const none = interceptionNone(proxy);
  if (ingress && ingress.length > 0) {
    const instances = push.serviceInstances(proxy);
    return ingress.map((i) => {
      const port = i.port.number;
      const si = instances.find((x) => x.endpoint.port === port);
      const ip: InboundPort = {
        port,
        protocol: parseProtocol(i.port.protocol ?? ''),
        cluster: clusterName('inbound', port, '', ''),
        operation: si ? `${domainName(si.service.hostname, si.port.port)}/*` : `${proxy.workloadName}:${port}/*`,
      };
      if (i.captureMode === 'NONE' || none) ip.bind = i.bind ?? proxy.ips[0] ?? '0.0.0.0';
      return ip;
    });
  }
  if (none) return []; // without capture and without Sidecar ingress nothing reaches the proxy
  const byPort = new Map<number, InboundPort>();
  for (const si of push.serviceInstances(proxy)) {
    const port = si.endpoint.port;
    if (byPort.has(port) || si.port.protocol === 'UDP') continue;
    byPort.set(port, {
      port,
      protocol: si.port.protocol,
      cluster: clusterName('inbound', port, '', ''),
      operation: `${domainName(si.service.hostname, si.port.port)}/*`,
    });
  }
  return [...byPort.values()].sort((a, b) => a.port - b.port);
}

function passthroughChains(): Obj[] {
  const anyV4 = [{ address_prefix: '0.0.0.0', prefix_len: { value: 0 } }];
  const cluster = ClusterName.InboundPassthrough;
  const ip: InboundPort = { port: 0, protocol: 'HTTP', cluster, operation: 'inbound-passthrough' };
  return [
    { name: 'virtualInbound-catchall-http', filter_chain_match: { prefix_ranges: anyV4, application_protocols: PLAINTEXT_HTTP_ALPNS }, filters: [inboundHcm(ip, cluster)] },
    { name: 'virtualInbound-catchall-tcp', filter_chain_match: { prefix_ranges: anyV4 }, filters: [tcpProxy(cluster, cluster)] },
  ];
}

export function virtualInboundListener(chains: Obj[]): Obj {
  return {
    name: ListenerName.VirtualInbound,
    address: socketAddress('0.0.0.0', INBOUND_CAPTURE_PORT),
    traffic_direction: 'INBOUND',
    listener_filters: [originalDst(), tlsInspector(), httpInspector()],
    continue_on_listener_filters_timeout: true,
    listener_filters_timeout: { seconds: 0, nanos: 100_000_000 },
    filter_chains: [
      // Traffic sent to 15006 itself would loop.
      { name: 'virtualInbound-blackhole', filter_chain_match: { destination_port: { value: INBOUND_CAPTURE_PORT } }, filters: [tcpProxy(ClusterName.BlackHole, ClusterName.BlackHole)] },
      ...chains,
      ...passthroughChains(),
    ],
  };
}

/** virtualInbound (when the proxy captures traffic) plus bound listeners for captureMode NONE ingress ports. */
export function inboundListeners(proxy: Proxy, push: PushContext): Obj[] {
  const out: Obj[] = [];
  const captured: Obj[] = [];
  for (const ip of inboundPorts(proxy, push)) {
    if (ip.bind !== undefined) {
      const name = `${ip.bind}_${ip.port}`;
      const l: Obj = { name, address: socketAddress(ip.bind, ip.port), traffic_direction: 'INBOUND', filter_chains: inboundChains(ip, {}) };
      if (ip.protocol === 'UNSUPPORTED') {
        l.listener_filters = [tlsInspector(), httpInspector()];
        l.listener_filters_timeout = { seconds: 0, nanos: 100_000_000 };
        l.continue_on_listener_filters_timeout = true;
      }
      out.push(l);
    } else {
      captured.push(...inboundChains(ip, { destination_port: { value: ip.port } }));
    }
  }
  if (!interceptionNone(proxy)) out.unshift(virtualInboundListener(captured));
  return out;
}

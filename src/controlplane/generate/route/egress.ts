// A proxy's outbound view split by Sidecar egress listener (Istio's IstioEgressListenerWrapper): which services and
// VirtualServices each listener exposes, its port, bind address and capture mode. No Sidecar = one catch-all listener.
// https://istio.io/latest/docs/reference/config/networking/sidecar/#IstioEgressListener
import type { Config } from '../../../api/config.js';
import type { CaptureMode, VirtualService } from '../../../api/types/networking.js';
import type { Protocol, Proxy, PushContext, Service } from '../../model/types.js';
import { hostsOverlap, parseProtocol } from '../../registry/hosts.js';

export interface EgressListener {
  /** Explicit port of the listener; undefined for the catch-all listener (one outbound listener per service port). */
  port?: { number: number; protocol: Protocol; name: string };
  bind?: string;
  captureMode: CaptureMode;
  /** `namespace/dnsName` host patterns. */
  hosts: string[];
  services: Service[];
  virtualServices: Config<VirtualService>[];
}

interface HostPattern {
  namespace: string;
  host: string;
}

function parseHosts(hosts: readonly string[], sidecarNamespace: string): HostPattern[] {
  const out: HostPattern[] = [];
  for (const h of hosts) {
    const slash = h.indexOf('/');
    let ns = slash < 0 ? '*' : h.slice(0, slash);
    const host = slash < 0 ? h : h.slice(slash + 1);
    if (ns === '.') ns = sidecarNamespace;
    if (ns === '~') continue; // '~/' imports nothing
    out.push({ namespace: ns, host });
  }
  return out;
}

function nsMatches(pattern: string, namespace: string): boolean {
  return pattern === '*' || pattern === namespace;
}

/** Services and VirtualServices selected by a list of egress host patterns. */
function select(patterns: HostPattern[], services: readonly Service[], vss: readonly Config<VirtualService>[]): { services: Service[]; vss: Config<VirtualService>[] } {
  const svc = services.filter((s) => patterns.some((p) => nsMatches(p.namespace, s.namespace) && hostsOverlap(p.host, s.hostname)));
  const vs = vss.filter((v) => patterns.some((p) => nsMatches(p.namespace, v.meta.namespace) && (v.spec.hosts ?? []).some((h) => hostsOverlap(p.host, h))));
  return { services: svc, vss: vs };
}

/** The egress listeners of a proxy, explicit-port listeners first (in Sidecar order), then the catch-all if any. */
export function egressListeners(proxy: Proxy, push: PushContext): EgressListener[] {
  const scope = push.sidecarScope(proxy);
  const vss = push.virtualServices(proxy, 'mesh');
  const egress = scope.config?.spec.egress;
  if (!egress || egress.length === 0) {
    return [{ captureMode: 'DEFAULT', hosts: ['*/*'], services: [...scope.services], virtualServices: [...vss] }];
  }
  const ns = scope.config!.meta.namespace;
  const out: EgressListener[] = [];
  let catchAll: EgressListener | undefined;
  for (const e of egress) {
    const sel = select(parseHosts(e.hosts, ns), scope.services, vss);
    const l: EgressListener = {
      captureMode: e.captureMode ?? 'DEFAULT',
      hosts: e.hosts,
      services: sel.services,
      virtualServices: sel.vss,
    };
    if (e.bind) l.bind = e.bind;
    if (e.port?.number) {
      l.port = { number: e.port.number, protocol: parseProtocol(e.port.protocol ?? ''), name: e.port.name ?? '' };
      out.push(l);
    } else if (!catchAll) {
      catchAll = l;
    }
  }
  if (catchAll) out.push(catchAll);
  return out;
}

/** Istio's GetEgressListenerForRDS: the explicit listener on `port` (preferring one with a bind when asked), else the catch-all. */
export function egressListenerForPort(listeners: readonly EgressListener[], port: number): EgressListener | undefined {
  return listeners.find((l) => l.port?.number === port) ?? listeners.find((l) => l.port === undefined);
}

/** Whether a protocol is served by an HTTP connection manager, or sniffed (UNSUPPORTED = auto-detect), as Istio's IsHTTPOrSniffed. */
export function isHTTPOrSniffed(p: Protocol): boolean {
  return isHTTP(p) || p === 'UNSUPPORTED';
}

export function isHTTP(p: Protocol): boolean {
  return p === 'HTTP' || p === 'HTTP2' || p === 'GRPC' || p === 'GRPC-WEB';
}

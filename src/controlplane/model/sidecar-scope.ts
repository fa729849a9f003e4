// Which Sidecar applies to a proxy, and the services its egress hosts select (Istio's SidecarScope).
// https://istio.io/latest/docs/reference/config/networking/sidecar/
import { ROOT_NAMESPACE } from '../../api/config.js';
import type { Config } from '../../api/config.js';
import type { Sidecar } from '../../api/types/networking.js';
import { hostsOverlap, isVisible, selectorMatches } from '../registry/hosts.js';
import { byCreation } from './order.js';
import type { Proxy, Service, SidecarScope } from './types.js';

/** Sidecars indexed by namespace, split into selector and namespace-wide ones, each in Istio order. */
export class SidecarIndex {
  private readonly withSelector = new Map<string, Config<Sidecar>[]>();
  private readonly namespaceWide = new Map<string, Config<Sidecar>>();
  private readonly scopes = new Map<string, SidecarScope>();

  constructor(
    sidecars: readonly Config<Sidecar>[],
    private readonly services: readonly Service[],
    private readonly rootNamespace: string = ROOT_NAMESPACE,
  ) {
    for (const sc of [...sidecars].sort(byCreation)) {
      const ns = sc.meta.namespace;
      const sel = sc.spec.workloadSelector?.labels;
      if (sel && Object.keys(sel).length > 0) {
        const l = this.withSelector.get(ns) ?? [];
        l.push(sc);
        this.withSelector.set(ns, l);
      } else if (!this.namespaceWide.has(ns)) {
        // Istio allows one namespace-wide Sidecar; with several, the oldest wins.
        this.namespaceWide.set(ns, sc);
      }
    }
  }

  /**
   * The Sidecar in effect: one whose selector matches in the proxy's namespace, else namespace-wide, else root's.
   * Sidecar resources never apply to gateways (routers get Istio's default gateway scope).
   */
  sidecarFor(proxy: Proxy): Config<Sidecar> | undefined {
    if (proxy.type === 'router') return undefined;
    for (const sc of this.withSelector.get(proxy.namespace) ?? []) {
      if (selectorMatches(sc.spec.workloadSelector?.labels, proxy.labels)) return sc;
    }
    return this.namespaceWide.get(proxy.namespace) ?? this.namespaceWide.get(this.rootNamespace);
  }

  scope(proxy: Proxy): SidecarScope {
    const sc = this.sidecarFor(proxy);
    const memo = `${sc ? `${sc.meta.namespace}/${sc.meta.name}` : ''}|${proxy.namespace}`;
    let s = this.scopes.get(memo);
    if (!s) {
      s = this.compute(sc, proxy.namespace);
      this.scopes.set(memo, s);
    }
    return s;
  }

  private compute(sc: Config<Sidecar> | undefined, namespace: string): SidecarScope {
    const visible = this.services.filter((svc) => isVisible(svc.exportTo, svc.namespace, namespace));
    if (!sc) return { services: dedupeByHost(visible, namespace), outboundTrafficPolicy: 'ALLOW_ANY' };
    const egress = sc.spec.egress && sc.spec.egress.length > 0 ? sc.spec.egress : [{ hosts: ['*/*'] }];
    const hosts: { ns: string; host: string }[] = [];
    for (const l of egress) for (const h of l.hosts ?? []) hosts.push(parseEgressHost(h, namespace));
    const selected = visible.filter((svc) => hosts.some((h) => egressMatches(h, svc)));
    return {
      config: sc,
      services: dedupeByHost(selected, namespace),
      outboundTrafficPolicy: sc.spec.outboundTrafficPolicy?.mode ?? 'ALLOW_ANY',
    };
  }
}

/** `ns/host` (or bare `host`, meaning `*`/host): '.' is the proxy's namespace, '~' no namespace. */
export function parseEgressHost(h: string, proxyNamespace: string): { ns: string; host: string } {
  const slash = h.indexOf('/');
  if (slash < 0) return { ns: '*', host: h };
  const ns = h.slice(0, slash);
  return { ns: ns === '.' ? proxyNamespace : ns, host: h.slice(slash + 1) };
}

export function egressMatches(h: { ns: string; host: string }, svc: Service): boolean {
  if (h.ns === '~') return false;
  if (h.ns !== '*' && h.ns !== svc.namespace) return false;
  return h.host === '*' || hostsOverlap(h.host, svc.hostname);
}

/** One service per hostname: the proxy's own namespace first, else the first by namespace. */
function dedupeByHost(services: readonly Service[], namespace: string): Service[] {
  const out = new Map<string, Service>();
  for (const s of services) {
    const cur = out.get(s.hostname);
    if (!cur || (s.namespace === namespace && cur.namespace !== namespace)) out.set(s.hostname, s);
  }
  return [...out.values()];
}

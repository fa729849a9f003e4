// DestinationRule lookup with Istio's precedence and merging (pilot/pkg/model/destination_rule.go, push_context.go).
import { ROOT_NAMESPACE } from '../../api/config.js';
import type { Config } from '../../api/config.js';
import type { DestinationRule } from '../../api/types/networking.js';
import { expandHost, exportToSet, hostMatches, isVisible, selectorMatches } from '../registry/hosts.js';
import { byCreation, labelsKey } from './order.js';
import type { Proxy, Service } from './types.js';

interface IndexedRule {
  cfg: Config<DestinationRule>;
  /** spec.host expanded to an FQDN with the rule's namespace. */
  host: string;
  exportTo: ReadonlySet<string>;
  selector?: Record<string, string>;
}

/**
 * Lookup order for a proxy and a host, as istiod does it:
 *  1. the proxy's namespace: rules with a workloadSelector matching the proxy first, then rules without selector;
 *  2. the namespace of the service, rules exported to the proxy's namespace;
 *  3. the root namespace, rules exported to the proxy's namespace.
 * In each step the most specific host wins (exact over wildcard, then the longest wildcard). Several rules without
 * selector for that same host in the same namespace are merged like Istio: the oldest is the base, later ones add
 * subsets with new names and supply trafficPolicy when the base has none. Workload-selected rules are not merged
 * (the oldest matching one wins). Other namespaces' rules are not consulted.
 */
export class DestinationRuleIndex {
  private readonly byNs = new Map<string, IndexedRule[]>();
  private readonly memo = new Map<string, Config<DestinationRule> | null>();

  constructor(
    rules: readonly Config<DestinationRule>[],
    domainSuffix: string,
    private readonly serviceNamespace: (host: string, proxyNamespace: string) => Service | undefined,
    private readonly rootNamespace: string = ROOT_NAMESPACE,
  ) {
    for (const cfg of [...rules].sort(byCreation)) {
      const ns = cfg.meta.namespace;
      const r: IndexedRule = { cfg, host: expandHost(cfg.spec.host, ns, domainSuffix), exportTo: exportToSet(cfg.spec.exportTo, ns) };
      const sel = cfg.spec.workloadSelector?.labels;
      if (sel && Object.keys(sel).length > 0) r.selector = sel;
      const l = this.byNs.get(ns) ?? [];
      l.push(r);
      this.byNs.set(ns, l);
    }
  }

  lookup(proxy: Proxy, hostname: string): Config<DestinationRule> | undefined {
    const hasSelector = (this.byNs.get(proxy.namespace) ?? []).some((r) => r.selector);
    const memoKey = `${proxy.namespace}|${hasSelector ? labelsKey(proxy.labels) : ''}|${hostname}`;
    const cached = this.memo.get(memoKey);
    if (cached !== undefined) return cached ?? undefined;
    const found = this.compute(proxy, hostname);
    this.memo.set(memoKey, found ?? null);
    return found;
  }

  private compute(proxy: Proxy, hostname: string): Config<DestinationRule> | undefined {
    const own = this.byNs.get(proxy.namespace) ?? [];
    const selected = own.filter((r) => r.selector && selectorMatches(r.selector, proxy.labels));
    const bySelector = mostSpecific(selected, hostname);
    if (bySelector.length > 0) return withHost(bySelector[0]);
    const local = mostSpecific(own.filter((r) => !r.selector), hostname);
    if (local.length > 0) return merge(local);
    const svcNs = this.serviceNamespace(hostname, proxy.namespace)?.namespace;
    for (const ns of [svcNs, this.rootNamespace]) {
      if (ns === undefined || ns === proxy.namespace) continue;
      const exported = (this.byNs.get(ns) ?? []).filter((r) => !r.selector && isVisible(r.exportTo, ns, proxy.namespace));
      const m = mostSpecific(exported, hostname);
      if (m.length > 0) return merge(m);
    }
    return undefined;
  }
}

/** Rules whose host matches `hostname`, keeping only those with the most specific matching host, in order. */
function mostSpecific(rules: readonly IndexedRule[], hostname: string): IndexedRule[] {
  let best: string | undefined;
  for (const r of rules) {
    if (!hostMatches(r.host, hostname)) continue;
    if (best === undefined || moreSpecific(r.host, best)) best = r.host;
  }
  return best === undefined ? [] : rules.filter((r) => r.host === best);
}

function moreSpecific(a: string, b: string): boolean {
  const wa = a.startsWith('*');
  const wb = b.startsWith('*');
  if (wa !== wb) return !wa;
  return a.length > b.length;
}

function withHost(r: IndexedRule): Config<DestinationRule> {
  if (r.cfg.spec.host === r.host) return r.cfg;
  return { meta: r.cfg.meta, spec: { ...r.cfg.spec, host: r.host } };
}

function merge(rules: readonly IndexedRule[]): Config<DestinationRule> {
  const first = withHost(rules[0]);
  if (rules.length === 1) return first;
  const spec: DestinationRule = { ...first.spec, subsets: [...(first.spec.subsets ?? [])] };
  const names = new Set(spec.subsets!.map((s) => s.name));
  for (const r of rules.slice(1)) {
    for (const s of r.cfg.spec.subsets ?? []) {
      if (names.has(s.name)) continue;
      names.add(s.name);
      spec.subsets!.push(s);
    }
    if (!spec.trafficPolicy && r.cfg.spec.trafficPolicy) spec.trafficPolicy = r.cfg.spec.trafficPolicy;
  }
  if (spec.subsets!.length === 0) delete spec.subsets;
  return { meta: first.meta, spec };
}

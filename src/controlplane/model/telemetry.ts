// Which Telemetry access logging applies to a proxy (Istio's Telemetries.AccessLogging and mergeLogs): root namespace,
// then the proxy's namespace, then workload selectors, each level overriding the providers of the one before.
// https://istio.io/latest/docs/tasks/observability/telemetry/ and https://istio.io/latest/docs/reference/config/telemetry/
import type { Config } from '../../api/config.js';
import type { AccessLogging, Telemetry, WorkloadMode } from '../../api/types/telemetry.js';
import { logger } from '../../shared/log.js';
import { selectorMatches } from '../registry/hosts.js';
import { byCreation } from './order.js';
import type { ExtensionProvider, LoggingConfig, MeshConfig, Proxy, TelemetryMode } from './types.js';

const log = logger('telemetry');

/** Istio's built-in access-log provider (its default meshConfig.extensionProviders entry). */
export const BUILTIN_ENVOY_PROVIDER: ExtensionProvider = { name: 'envoy', envoyFileAccessLog: { path: '/dev/stdout' } };

/** meshConfig.extensionProviders with Istio's defaults: a user provider replaces the built-in one of the same name. */
export function extensionProviders(mesh: MeshConfig | undefined): ExtensionProvider[] {
  const user = mesh?.extensionProviders ?? [];
  return user.some((p) => p.name === BUILTIN_ENVOY_PROVIDER.name) ? [...user] : [BUILTIN_ENVOY_PROVIDER, ...user];
}

interface Spec {
  disabled: boolean;
  filter?: string;
}

function hasSelector(t: Config<Telemetry>): boolean {
  return Object.keys(t.spec.selector?.matchLabels ?? {}).length > 0;
}

function hasTargetRefs(t: Config<Telemetry>): boolean {
  return t.spec.targetRef !== undefined || (t.spec.targetRefs?.length ?? 0) > 0;
}

function matchMode(mode: WorkloadMode | undefined, want: TelemetryMode): boolean {
  return mode === undefined || mode === 'CLIENT_AND_SERVER' || mode === want;
}

const names = (a: AccessLogging): string[] => (a.providers ?? []).map((p) => p.name);

/**
 * Istio's mergeLogs: the providers named by the most specific level that names any (for this mode) are in scope; then
 * every entry, in order, switches its providers (or its parent's, when it names none) on, or off when `disabled`.
 */
export function mergeLogs(levels: readonly (readonly AccessLogging[])[], defaults: readonly string[], mode: TelemetryMode): Map<string, Spec> {
  const out = new Map<string, Spec>();
  if (levels.length === 0) {
    for (const d of defaults) out.set(d, { disabled: false });
    return out;
  }
  let scope: readonly string[] = defaults;
  const filters = new Map<string, string | undefined>();
  for (const level of levels) {
    const named = new Set<string>();
    for (const a of level) {
      if (!matchMode(a.match?.mode, mode)) continue;
      for (const n of names(a)) {
        named.add(n);
        filters.set(n, a.filter?.expression);
      }
    }
    if (named.size > 0) scope = [...named];
  }
  const inScope = new Set(scope);
  let parent: readonly string[] = defaults;
  for (const level of levels) {
    for (const a of level) {
      const own = names(a);
      const providers = own.length > 0 ? own : parent;
      parent = providers;
      for (const p of providers) {
        // A provider a more specific level replaced, or an entry for the other mode, changes nothing here.
        if (!inScope.has(p) || !matchMode(a.match?.mode, mode)) continue;
        const filter = filters.get(p);
        out.set(p, a.disabled ? { disabled: true } : filter !== undefined ? { disabled: false, filter } : { disabled: false });
      }
    }
  }
  return out;
}

/** Telemetry resources indexed once per snapshot; results memoized per (applicable Telemetries, mode). */
export class TelemetryIndex {
  private readonly namespaceWide = new Map<string, Config<Telemetry>>();
  private readonly withSelector = new Map<string, Config<Telemetry>[]>();
  private readonly providers: ExtensionProvider[];
  private readonly defaults: readonly string[];
  private readonly memo = new Map<string, readonly LoggingConfig[]>();

  constructor(
    telemetries: readonly Config<Telemetry>[],
    private readonly rootNamespace: string,
    mesh: MeshConfig | undefined,
  ) {
    for (const t of [...telemetries].sort(byCreation)) {
      const ns = t.meta.namespace;
      if (hasSelector(t)) {
        const l = this.withSelector.get(ns) ?? [];
        l.push(t);
        this.withSelector.set(ns, l);
      } else if (!hasTargetRefs(t) && !this.namespaceWide.has(ns)) {
        // One selector-less Telemetry per namespace is valid; with several, the oldest wins (Istio's order).
        this.namespaceWide.set(ns, t);
      }
      // targetRefs attach to Gateway API gateways and services (waypoints), which Isthmus proxies are not.
    }
    this.providers = extensionProviders(mesh);
    this.defaults = mesh?.defaultProviders?.accessLogging ?? [];
  }

  /** The Telemetries applying to a proxy, least specific first (root, namespace, then every matching selector). */
  applicable(proxy: Proxy): Config<Telemetry>[] {
    const out: Config<Telemetry>[] = [];
    const root = this.namespaceWide.get(this.rootNamespace);
    if (root) out.push(root);
    if (proxy.namespace !== this.rootNamespace) {
      const ns = this.namespaceWide.get(proxy.namespace);
      if (ns) out.push(ns);
    }
    for (const t of this.withSelector.get(proxy.namespace) ?? []) {
      if (selectorMatches(t.spec.selector?.matchLabels, proxy.labels)) out.push(t);
    }
    return out;
  }

  accessLogging(proxy: Proxy, mode: TelemetryMode): readonly LoggingConfig[] {
    const levels = this.applicable(proxy).filter((t) => (t.spec.accessLogging?.length ?? 0) > 0);
    if (levels.length === 0 && this.defaults.length === 0) return [];
    const key = `${mode}|${levels.map((t) => `${t.meta.namespace}/${t.meta.name}`).join(',')}`;
    let r = this.memo.get(key);
    if (!r) {
      r = this.compute(levels.map((t) => t.spec.accessLogging ?? []), mode);
      this.memo.set(key, r);
    }
    return r;
  }

  private compute(levels: readonly (readonly AccessLogging[])[], mode: TelemetryMode): LoggingConfig[] {
    const out: LoggingConfig[] = [];
    for (const [name, spec] of mergeLogs(levels, this.defaults, mode)) {
      const provider = this.provider(name);
      if (!provider) {
        log.debug('access log provider not found', { provider: name });
        continue;
      }
      // Providers of other kinds (metrics, tracing) produce no access log.
      if (!provider.envoyFileAccessLog) continue;
      out.push(spec.filter !== undefined ? { provider, disabled: spec.disabled, filter: spec.filter } : { provider, disabled: spec.disabled });
    }
    return out.sort((a, b) => (a.provider.name < b.provider.name ? -1 : a.provider.name > b.provider.name ? 1 : 0));
  }

  /** Istio matches provider names case-insensitively (strings.EqualFold). */
  private provider(name: string): ExtensionProvider | undefined {
    const lower = name.toLowerCase();
    return this.providers.find((p) => p.name.toLowerCase() === lower);
  }
}

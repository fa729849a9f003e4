// VirtualServices per gateway and namespace, with short names resolved (Istio's virtualServiceIndex and
// resolveVirtualServiceShortnames): hosts, destination hosts and gateway names are written out in full.
import type { Config } from '../../api/config.js';
import type { Destination, VirtualService } from '../../api/types/networking.js';
import { expandHost, exportToSet, isVisible } from '../registry/hosts.js';
import { mergeDelegates } from './delegate.js';
import { byCreation } from './order.js';

/** The name sidecars use for VirtualServices that apply to the mesh. */
export const MESH_GATEWAY = 'mesh';

/** `gw` → `<vsNamespace>/gw`, `./gw` likewise; `ns/gw` and `mesh` unchanged (Istio's resolveGatewayName). */
export function resolveGatewayName(name: string, namespace: string): string {
  if (name === MESH_GATEWAY) return name;
  if (name.startsWith('./')) return `${namespace}/${name.slice(2)}`;
  if (name.includes('/')) return name;
  // Istio also accepts `gw.ns` (deprecated short form): map it to `ns/gw`.
  const dot = name.indexOf('.');
  if (dot > 0) return `${name.slice(dot + 1).split('.')[0]}/${name.slice(0, dot)}`;
  return `${namespace}/${name}`;
}

function dest<D extends { destination: Destination }>(d: D, ns: string, suffix: string): D {
  return { ...d, destination: { ...d.destination, host: expandHost(d.destination.host, ns, suffix) } };
}

/** A copy of a VirtualService with hosts, destination hosts and gateway names resolved against its namespace. */
export function resolveVirtualService(cfg: Config<VirtualService>, domainSuffix: string): Config<VirtualService> {
  const ns = cfg.meta.namespace;
  const vs = cfg.spec;
  const gw = (l: string[] | undefined): string[] | undefined => l?.map((g) => resolveGatewayName(g, ns));
  const spec: VirtualService = { ...vs };
  spec.hosts = (vs.hosts ?? []).map((h) => expandHost(h, ns, domainSuffix));
  spec.gateways = vs.gateways && vs.gateways.length > 0 ? gw(vs.gateways) : [MESH_GATEWAY];
  if (vs.http) {
    spec.http = vs.http.map((r) => {
      const out = { ...r };
      if (r.route) out.route = r.route.map((d) => dest(d, ns, domainSuffix));
      if (r.mirror) out.mirror = { ...r.mirror, host: expandHost(r.mirror.host, ns, domainSuffix) };
      if (r.mirrors) out.mirrors = r.mirrors.map((m) => dest(m, ns, domainSuffix));
      if (r.match) out.match = r.match.map((m) => (m.gateways ? { ...m, gateways: gw(m.gateways) } : m));
      return out;
    });
  }
  if (vs.tcp) {
    spec.tcp = vs.tcp.map((r) => ({
      ...r,
      ...(r.route ? { route: r.route.map((d) => dest(d, ns, domainSuffix)) } : {}),
      ...(r.match ? { match: r.match.map((m) => (m.gateways ? { ...m, gateways: gw(m.gateways) } : m)) } : {}),
    }));
  }
  if (vs.tls) {
    spec.tls = vs.tls.map((r) => ({
      ...r,
      ...(r.route ? { route: r.route.map((d) => dest(d, ns, domainSuffix)) } : {}),
      match: r.match.map((m) => (m.gateways ? { ...m, gateways: gw(m.gateways) } : m)),
    }));
  }
  return { meta: cfg.meta, spec };
}

interface IndexedVs {
  cfg: Config<VirtualService>;
  exportTo: ReadonlySet<string>;
  gateways: ReadonlySet<string>;
}

/**
 * Root VirtualServices (those with hosts; delegates are only reachable through their parent) in Istio order
 * (creation time, then namespace/name), each resolved once, with delegate routes merged in.
 */
export class VirtualServiceIndex {
  private readonly all: IndexedVs[] = [];
  private readonly memo = new Map<string, readonly Config<VirtualService>[]>();
  /** Delegate VirtualServices (no hosts), by `ns/name`, resolved. */
  readonly delegates = new Map<string, Config<VirtualService>>();

  constructor(configs: readonly Config<VirtualService>[], domainSuffix: string) {
    for (const c of [...configs].sort(byCreation)) {
      const r = resolveVirtualService(c, domainSuffix);
      if (!c.spec.hosts || c.spec.hosts.length === 0) {
        this.delegates.set(`${c.meta.namespace}/${c.meta.name}`, r);
        continue;
      }
      this.all.push({ cfg: r, exportTo: exportToSet(c.spec.exportTo, c.meta.namespace), gateways: new Set(r.spec.gateways) });
    }
    const merged = mergeDelegates(
      this.all.map((v) => v.cfg),
      this.delegates,
    );
    merged.forEach((cfg, i) => {
      const v = this.all[i];
      if (v) v.cfg = cfg;
    });
  }

  /** VirtualServices bound to `gateway` (`mesh` or `ns/name`) and visible from `namespace`. */
  forGateway(namespace: string, gateway: string): readonly Config<VirtualService>[] {
    const key = `${namespace}|${gateway}`;
    let l = this.memo.get(key);
    if (!l) {
      l = this.all.filter((v) => v.gateways.has(gateway) && isVisible(v.exportTo, v.cfg.meta.namespace, namespace)).map((v) => v.cfg);
      this.memo.set(key, l);
    }
    return l;
  }
}

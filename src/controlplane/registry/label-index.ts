// Per-namespace index from one `key=value` label to the items carrying it, for fast selector lookups.

export class LabelIndex<T> {
  private readonly byNs = new Map<string, Map<string, Set<T>>>();

  add(ns: string, labels: Record<string, string>, item: T): void {
    let m = this.byNs.get(ns);
    if (!m) this.byNs.set(ns, (m = new Map()));
    for (const [k, v] of Object.entries(labels)) {
      const key = `${k}=${v}`;
      let s = m.get(key);
      if (!s) m.set(key, (s = new Set()));
      s.add(item);
    }
  }

  remove(ns: string, labels: Record<string, string>, item: T): void {
    const m = this.byNs.get(ns);
    if (!m) return;
    for (const [k, v] of Object.entries(labels)) {
      const key = `${k}=${v}`;
      const s = m.get(key);
      if (!s) continue;
      s.delete(item);
      if (s.size === 0) m.delete(key);
    }
    if (m.size === 0) this.byNs.delete(ns);
  }

  get(ns: string, k: string, v: string): ReadonlySet<T> {
    return this.byNs.get(ns)?.get(`${k}=${v}`) ?? EMPTY;
  }

  /** Items that may match `selector` (a superset: the caller still checks every label); undefined for an empty selector. */
  candidates(ns: string, selector: Record<string, string>): ReadonlySet<T> | undefined {
    let best: ReadonlySet<T> | undefined;
    for (const [k, v] of Object.entries(selector)) {
      const s = this.get(ns, k, v);
      if (!best || s.size < best.size) best = s;
      if (s.size === 0) break;
    }
    return best;
  }
}

const EMPTY: ReadonlySet<never> = new Set();

/** The one label an item with `selector` is indexed under (the first key in sort order), or undefined for an empty selector. */
export function firstLabel(selector: Record<string, string>): Record<string, string> | undefined {
  const keys = Object.keys(selector).sort();
  const k = keys[0];
  return k === undefined ? undefined : { [k]: selector[k] ?? '' };
}

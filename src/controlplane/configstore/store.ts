// In-memory store of valid Istio configs keyed by Kind/ns/name, fed per source (file) with replace-the-set semantics.
import { configKey } from '../../api/config.js';
import type { Config, Kind } from '../../api/config.js';
import { formatError } from '../../api/errors.js';
import type { ValidationError } from '../../api/errors.js';
import { logger } from '../../shared/log.js';

const log = logger('configstore');

export interface ConfigEvent {
  type: 'add' | 'update' | 'delete';
  kind: Kind;
  key: string;
  /** The new version (add/update) or the last version (delete). */
  config: Config;
}

/** One resource (or document) the store refused. */
export interface Rejection {
  /** The source (file) it came from. */
  source: string;
  /** `Kind/ns/name` when known. */
  key?: string;
  reason: 'invalid' | 'duplicate' | 'unparseable';
  /** Formatted error lines. */
  errors: string[];
  /** True when an earlier valid version of the resource stays in effect. */
  keptPrevious: boolean;
}

export interface SourceUpdate {
  /** The valid configs the source now holds (document order). */
  configs: readonly Config[];
  /** Resources that parsed but failed validation: rejected alone, their last valid version (if any) is kept. */
  rejected?: readonly Config[];
  /**
   * Errors found in the source. Those naming kind, namespace and name reject that resource alone; any other error
   * (YAML syntax, broken envelope) means part of the source is unreadable, so nothing it held before is deleted.
   */
  errors?: readonly ValidationError[];
}

export interface ConfigStoreOptions {
  /** Called for every rejected resource (wired to a metrics counter by main). */
  onRejected?: (r: Rejection) => void;
}

interface Effective {
  config: Config;
  source: string;
}

function errorKey(e: ValidationError): string | undefined {
  if (!e.kind || !e.name || !e.namespace) return undefined;
  return `${e.kind}/${e.namespace}/${e.name}`;
}

function sameContent(a: Config, b: Config): boolean {
  if (a === b) return true;
  if (a.meta.resourceVersion && a.meta.resourceVersion === b.meta.resourceVersion) return true;
  const strip = (c: Config): string => JSON.stringify([c.spec, c.meta.labels, c.meta.annotations, c.meta.version, c.meta.creationTimestamp]);
  return strip(a) === strip(b);
}

/**
 * Valid configs from any number of sources. Applying a source replaces that source's previous set. A key defined by
 * several sources resolves to the lexicographically first source (deterministic regardless of event order); the other
 * definitions are rejected as duplicates and take over if the winner disappears.
 */
export class ConfigStore {
  private readonly bySource = new Map<string, Map<string, Config>>();
  private readonly effective = new Map<string, Effective>();
  private readonly listeners = new Set<(ev: ConfigEvent) => void>();
  private readonly kindCache = new Map<Kind, Config[]>();
  private allCache: Config[] | undefined;
  private rev = 0;

  constructor(private readonly opts: ConfigStoreOptions = {}) {}

  /** Increases on every effective change. */
  get revision(): number {
    return this.rev;
  }

  /** Valid configs of a kind, sorted by namespace then name. */
  list<S>(kind: Kind): Config<S>[] {
    let l = this.kindCache.get(kind);
    if (!l) {
      l = [];
      for (const e of this.effective.values()) if (e.config.meta.kind === kind) l.push(e.config);
      l.sort(compareNsName);
      this.kindCache.set(kind, l);
    }
    return l.slice() as Config<S>[];
  }

  get(key: string): Config | undefined {
    return this.effective.get(key)?.config;
  }

  /** Source (file) a key's effective version comes from. */
  sourceOf(key: string): string | undefined {
    return this.effective.get(key)?.source;
  }

  /** Every valid config, sorted by key. */
  all(): Config[] {
    if (!this.allCache) {
      this.allCache = [...this.effective.values()].map((e) => e.config).sort((a, b) => cmp(configKey(a.meta), configKey(b.meta)));
    }
    return this.allCache.slice();
  }

  /** Sources currently holding configs. */
  sources(): string[] {
    return [...this.bySource.keys()].sort();
  }

  subscribe(fn: (ev: ConfigEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Replaces what `source` holds; returns the events emitted (also delivered to subscribers). */
  applySource(source: string, update: SourceUpdate): ConfigEvent[] {
    const prev = this.bySource.get(source) ?? new Map<string, Config>();
    const next = new Map<string, Config>();
    const invalid = new Map<string, string[]>();
    const unattributed: string[] = [];
    for (const c of update.rejected ?? []) invalid.set(configKey(c.meta), []);
    for (const e of update.errors ?? []) {
      const k = errorKey(e);
      if (k === undefined) unattributed.push(formatError(e));
      else {
        const l = invalid.get(k) ?? [];
        l.push(formatError(e));
        invalid.set(k, l);
      }
    }
    for (const c of update.configs) {
      const k = configKey(c.meta);
      if (invalid.has(k)) continue; // a resource with errors never enters, even if the loader also returned it
      if (next.has(k)) {
        this.reject({ source, key: k, reason: 'duplicate', errors: [`${k} is defined twice in ${source}; the first definition wins`], keptPrevious: true });
        continue;
      }
      next.set(k, c);
    }
    for (const [k, errs] of invalid) {
      const old = prev.get(k);
      if (old && !next.has(k)) next.set(k, old);
      this.reject({ source, key: k, reason: 'invalid', errors: errs.length > 0 ? errs : ['invalid'], keptPrevious: old !== undefined });
    }
    if (unattributed.length > 0) {
      // Part of the source could not be read (e.g. a YAML syntax error): never delete what may still be in it.
      let kept = false;
      for (const [k, old] of prev) {
        if (!next.has(k)) {
          next.set(k, old);
          kept = true;
        }
      }
      this.reject({ source, reason: 'unparseable', errors: unattributed, keptPrevious: kept });
    }
    if (next.size === 0) this.bySource.delete(source);
    else this.bySource.set(source, next);
    return this.recompute(new Set([...prev.keys(), ...next.keys()]), source);
  }

  /** Forgets everything `source` held (file deleted). */
  removeSource(source: string): ConfigEvent[] {
    const prev = this.bySource.get(source);
    if (!prev) return [];
    this.bySource.delete(source);
    return this.recompute(new Set(prev.keys()), source);
  }

  private reject(r: Rejection): void {
    log.warn(r.keptPrevious ? 'rejected config, keeping last valid version' : 'rejected config', {
      file: r.source,
      resource: r.key,
      reason: r.reason,
      errors: r.errors,
    });
    this.opts.onRejected?.(r);
  }

  private recompute(keys: Set<string>, changedSource: string): ConfigEvent[] {
    const events: ConfigEvent[] = [];
    for (const k of [...keys].sort()) {
      let winner: Effective | undefined;
      const losers: string[] = [];
      for (const [src, m] of this.bySource) {
        const c = m.get(k);
        if (!c) continue;
        if (!winner || src < winner.source) {
          if (winner) losers.push(winner.source);
          winner = { config: c, source: src };
        } else losers.push(src);
      }
      // Report a duplicate when the source being applied is involved (as winner or loser).
      if (winner && (losers.includes(changedSource) || (winner.source === changedSource && losers.length > 0))) {
        for (const loser of losers.includes(changedSource) ? [changedSource] : losers) {
          this.reject({
            source: loser,
            key: k,
            reason: 'duplicate',
            errors: [`${k} is also defined in ${winner.source}, which wins`],
            keptPrevious: true,
          });
        }
      }
      const cur = this.effective.get(k);
      if (!winner) {
        if (cur) {
          this.effective.delete(k);
          events.push({ type: 'delete', kind: cur.config.meta.kind, key: k, config: cur.config });
        }
        continue;
      }
      this.effective.set(k, winner);
      if (!cur) events.push({ type: 'add', kind: winner.config.meta.kind, key: k, config: winner.config });
      else if (!sameContent(cur.config, winner.config)) events.push({ type: 'update', kind: winner.config.meta.kind, key: k, config: winner.config });
    }
    if (events.length > 0) {
      this.rev++;
      this.allCache = undefined;
      for (const ev of events) this.kindCache.delete(ev.kind);
      for (const ev of events) for (const fn of this.listeners) fn(ev);
    }
    return events;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareNsName(a: Config, b: Config): number {
  return cmp(a.meta.namespace, b.meta.namespace) || cmp(a.meta.name, b.meta.name);
}

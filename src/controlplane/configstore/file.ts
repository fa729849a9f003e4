// File config source: loads *.yaml/*.yml/*.json under directories into the ConfigStore and follows changes
// (one inotify watch per directory — Node 20's recursive fs.watch on Linux misses events in renamed subtrees).
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';
import { CONFIG_EXTENSIONS, listConfigFiles, loadFile } from '../../api/load.js';
import type { LoadResult } from '../../api/load.js';
import { formatError } from '../../api/errors.js';
import { ErrorCode, MeshError } from '../../shared/errors.js';
import { logger } from '../../shared/log.js';
import type { ConfigStore } from './store.js';

const log = logger('configstore');

export interface FileConfigSourceOptions {
  /** Coalescing window for bursts of events on one path (editors write several times), ms. Default 20. */
  settleMs?: number;
  /** Loader (default: api/load.ts loadFile). */
  load?: (path: string) => Promise<Pick<LoadResult, 'configs' | 'rejected' | 'errors'> & Partial<Pick<LoadResult, 'warnings'>>>;
}

function isConfigFile(p: string): boolean {
  return !basename(p).startsWith('.') && CONFIG_EXTENSIONS.includes(extname(p).toLowerCase());
}

/** Watches directories recursively; every config file is one store source (its path). */
export class FileConfigSource {
  private readonly roots: string[];
  private readonly settleMs: number;
  private readonly load: NonNullable<FileConfigSourceOptions['load']>;
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly queued = new Set<string>();
  /** Files whose configs are in the store. */
  private readonly known = new Set<string>();
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    dirs: readonly string[],
    private readonly store: ConfigStore,
    opts: FileConfigSourceOptions = {},
  ) {
    this.roots = dirs.map((d) => resolve(d));
    this.settleMs = opts.settleMs ?? 20;
    this.load = opts.load ?? loadFile;
  }

  /** Loads everything once and starts watching; resolves when the initial load is in the store. */
  async start(): Promise<void> {
    for (const root of this.roots) {
      const st = await stat(root).catch(() => undefined);
      if (!st?.isDirectory()) throw new MeshError(ErrorCode.NotFound, `config directory ${root} does not exist or is not a directory`);
    }
    for (const root of this.roots) this.enqueue(root);
    await this.idle();
    log.info('config loaded', { dirs: this.roots, files: this.known.size, configs: this.store.all().length });
  }

  /** Resolves when every scheduled reload has been applied (settle timers included). */
  async idle(): Promise<void> {
    while (this.timers.size > 0 || this.queued.size > 0) {
      if (this.timers.size > 0) await new Promise((r) => setTimeout(r, this.settleMs));
      await this.queue;
    }
    await this.queue;
  }

  /** Stops watching; the store keeps what was loaded. */
  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  /** Files currently loaded, sorted. */
  files(): string[] {
    return [...this.known].sort();
  }

  private schedule(path: string): void {
    if (this.closed) return;
    const t = this.timers.get(path);
    if (t) clearTimeout(t);
    this.timers.set(
      path,
      setTimeout(() => {
        this.timers.delete(path);
        this.enqueue(path);
      }, this.settleMs),
    );
  }

  private enqueue(path: string): void {
    if (this.closed || this.queued.has(path)) return;
    this.queued.add(path);
    this.queue = this.queue
      .then(async () => {
        this.queued.delete(path);
        if (!this.closed) await this.reconcile(path);
      })
      .catch((err: unknown) => log.error('reloading config failed', { path, error: err instanceof Error ? err.message : String(err) }));
  }

  private onEvent(dir: string, filename: string | Buffer | null): void {
    if (filename === null) {
      this.schedule(dir);
      return;
    }
    const name = filename.toString();
    const p = join(dir, name);
    // Hidden entries: editor temp files, or a Kubernetes ConfigMap mount swapping its `..data` link; re-read the
    // directory's files (unchanged content yields no store events).
    if (name.startsWith('.')) {
      for (const f of this.known) if (dirname(f) === dir) this.schedule(f);
      return;
    }
    this.schedule(p);
  }

  /** Brings the store in line with what is on disk at `path` (a file, a directory, or nothing any more). */
  private async reconcile(path: string): Promise<void> {
    const st = await stat(path).catch(() => undefined);
    if (st?.isDirectory()) {
      await this.watchTree(path);
      const files = new Set(await listConfigFiles(path).catch(() => [] as string[]));
      for (const f of [...this.known]) if (isUnder(f, path) && !files.has(f)) this.remove(f);
      for (const f of [...files].sort()) await this.loadOne(f);
      return;
    }
    if (st?.isFile() && isConfigFile(path)) {
      await this.loadOne(path);
      return;
    }
    // Gone (or no longer a config file): forget it and anything that was under it.
    if (this.known.has(path)) this.remove(path);
    for (const f of [...this.known]) if (isUnder(f, path)) this.remove(f);
    for (const [d, w] of this.watchers) {
      if (d === path || isUnder(d, path)) {
        w.close();
        this.watchers.delete(d);
      }
    }
  }

  private async loadOne(file: string): Promise<void> {
    const r = await this.load(file);
    if (this.closed) return;
    this.store.applySource(file, { configs: r.configs, rejected: r.rejected, errors: r.errors });
    // What Istio accepts but flags (deprecated fields, unreachable rules, ...) is logged, never rejected.
    for (const w of r.warnings ?? []) log.warn('config warning', { warning: formatError(w) });
    this.known.add(file);
  }

  private remove(file: string): void {
    this.known.delete(file);
    this.store.removeSource(file);
  }

  private async watchTree(dir: string): Promise<void> {
    if (this.closed) return;
    if (!this.watchers.has(dir)) {
      try {
        const w = watch(dir, { persistent: false }, (_ev, filename) => this.onEvent(dir, filename));
        w.on('error', (err) => {
          // The directory went away; its parent's watcher reports that and reconciles.
          log.debug('watch error', { dir, error: err.message });
          w.close();
          if (this.watchers.get(dir) === w) this.watchers.delete(dir);
        });
        this.watchers.set(dir, w);
      } catch (err) {
        log.warn('cannot watch directory', { dir, error: err instanceof Error ? err.message : String(err) });
        return;
      }
    }
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (e.isDirectory() && !e.name.startsWith('.')) await this.watchTree(join(dir, e.name));
    }
  }
}

function isUnder(p: string, dir: string): boolean {
  return p.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

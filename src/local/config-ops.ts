// `apply` and `delete` on a running mesh's config directory: validate everything first (nothing changes on error),
// then write or remove one file per resource, `<kind>.<namespace>.<name>.yaml`, as kubectl would create/delete objects.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import type { Config } from '../api/config.js';
import { configKey } from '../api/config.js';
import type { ValidationError } from '../api/errors.js';
import type { SkippedDocument } from '../api/load.js';
import { loadPaths } from '../api/load.js';
import { isObj } from './fields.js';
import { writeAtomic } from './state.js';

export type ApplyAction = 'created' | 'configured' | 'unchanged';
export type DeleteAction = 'deleted' | 'not found';

export interface ChangeItem<A> {
  key: string;
  /** kubectl-style name: `virtualservice.networking.istio.io/reviews`. */
  display: string;
  file: string;
  action: A;
  /** New file content (apply). */
  text?: string;
}

export interface ChangePlan<A> {
  items: ChangeItem<A>[];
  errors: ValidationError[];
  warnings: ValidationError[];
  skipped: SkippedDocument[];
}

export const resourceFile = (dir: string, c: Config): string => join(dir, `${c.meta.kind.toLowerCase()}.${c.meta.namespace}.${c.meta.name}.yaml`);
const display = (c: Config): string => `${c.meta.kind.toLowerCase()}.${c.meta.group}/${c.meta.name}`;

/** The resource objects of a file as written (raw, nulls kept), by document index; List items flattened. */
function rawDocuments(file: string): Map<number, unknown[]> {
  const out = new Map<number, unknown[]>();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return out;
  }
  parseAllDocuments(text).forEach((doc, i) => {
    let v: unknown;
    try {
      v = doc.toJS({ maxAliasCount: 100 });
    } catch {
      return;
    }
    if (Array.isArray(v)) out.set(i, v);
    else if (isObj(v) && Array.isArray(v.items) && typeof v.kind === 'string' && v.kind.endsWith('List')) out.set(i, v.items as unknown[]);
    else out.set(i, [v]);
  });
  return out;
}

/** The raw object of a loaded config, with its namespace filled in; falls back to the typed config. */
function rawObject(c: Config, cache: Map<string, Map<number, unknown[]>>): Record<string, unknown> {
  const file = c.meta.source?.file;
  const index = c.meta.source?.index;
  let found: Record<string, unknown> | undefined;
  if (file !== undefined && index !== undefined) {
    let docs = cache.get(file);
    if (!docs) cache.set(file, (docs = rawDocuments(file)));
    found = (docs.get(index) ?? []).filter(isObj).find((o) => {
      const m = isObj(o.metadata) ? o.metadata : {};
      return o.kind === c.meta.kind && (m.name ?? '') === c.meta.name && ((m.namespace as string | undefined) || 'default') === c.meta.namespace;
    });
  }
  const base: Record<string, unknown> = found ? { ...found } : { apiVersion: `${c.meta.group}/${c.meta.version}`, kind: c.meta.kind, spec: c.spec };
  const meta: Record<string, unknown> = isObj(base.metadata) ? { ...base.metadata } : { name: c.meta.name };
  meta.namespace = c.meta.namespace;
  if (!found) {
    if (Object.keys(c.meta.labels).length > 0) meta.labels = c.meta.labels;
    if (Object.keys(c.meta.annotations).length > 0) meta.annotations = c.meta.annotations;
  }
  delete base.status;
  return { apiVersion: base.apiVersion, kind: base.kind, metadata: meta, ...Object.fromEntries(Object.entries(base).filter(([k]) => !['apiVersion', 'kind', 'metadata'].includes(k))) };
}

/** The YAML body of a file without its leading comment lines (what decides "unchanged"). */
function body(text: string): string {
  return text.replace(/^(#[^\n]*\n)+/, '');
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Validates `paths` and works out what applying them changes in `appliedDir`. Resources generated from the mesh
 * file (`managed` keys) cannot be overwritten. Errors leave `items` empty.
 */
export async function planApply(paths: readonly string[], appliedDir: string, managed: ReadonlySet<string>): Promise<ChangePlan<ApplyAction>> {
  const r = await loadPaths(paths);
  const plan: ChangePlan<ApplyAction> = { items: [], errors: [...r.errors], warnings: r.warnings, skipped: r.skipped };
  for (const c of r.configs) {
    if (managed.has(configKey(c.meta))) {
      plan.errors.push({ ...(c.meta.source?.file !== undefined ? { file: c.meta.source.file } : {}), kind: c.meta.kind, namespace: c.meta.namespace, name: c.meta.name, path: '', message: 'this resource is generated from the mesh file (workload registration); change the mesh file instead' });
    }
  }
  if (r.configs.length === 0 && r.errors.length === 0) plan.errors.push({ path: '', message: `no Istio resources found in ${paths.join(', ')}` });
  if (plan.errors.length > 0) return plan;
  const cache = new Map<string, Map<number, unknown[]>>();
  const byKey = new Map<string, ChangeItem<ApplyAction>>();
  for (const c of r.configs) {
    const file = resourceFile(appliedDir, c);
    const source = c.meta.source?.file ?? 'stdin';
    const text = `# isthmus apply -f ${source}\n${stringify(rawObject(c, cache), { lineWidth: 0 })}`;
    const old = readText(file);
    const action: ApplyAction = old === undefined ? 'created' : body(old) === body(text) ? 'unchanged' : 'configured';
    // The same resource twice in the input: the later one wins, as with kubectl apply.
    byKey.set(configKey(c.meta), { key: configKey(c.meta), display: display(c), file, action, text });
  }
  plan.items = [...byKey.values()];
  return plan;
}

export function commitApply(plan: ChangePlan<ApplyAction>): void {
  for (const it of plan.items) if (it.action !== 'unchanged' && it.text !== undefined) writeAtomic(it.file, it.text);
}

/**
 * Works out what deleting the resources named in `paths` removes. Only envelope errors (no kind, no name, bad YAML)
 * stop a delete: a resource whose spec would be rejected can still be named for deletion.
 */
export async function planDelete(paths: readonly string[], appliedDir: string, managed: ReadonlySet<string>): Promise<ChangePlan<DeleteAction>> {
  const r = await loadPaths(paths);
  const rejected = new Set(r.rejected.map((c) => configKey(c.meta)));
  const errors = r.errors.filter((e) => !(e.kind !== undefined && e.name !== undefined && rejected.has(`${e.kind}/${e.namespace ?? 'default'}/${e.name}`) && e.path.startsWith('spec')));
  const plan: ChangePlan<DeleteAction> = { items: [], errors, warnings: [], skipped: r.skipped };
  // In input order (valid and rejected resources come back in separate lists).
  const fileOrder = (c: Config): number => r.files.indexOf(c.meta.source?.file ?? '');
  const all = [...r.configs, ...r.rejected].sort((x, y) => fileOrder(x) - fileOrder(y) || (x.meta.source?.index ?? 0) - (y.meta.source?.index ?? 0));
  for (const c of all) {
    if (managed.has(configKey(c.meta))) {
      plan.errors.push({ kind: c.meta.kind, namespace: c.meta.namespace, name: c.meta.name, path: '', message: 'this resource is generated from the mesh file (workload registration); change the mesh file instead' });
    }
  }
  if (all.length === 0 && plan.errors.length === 0) plan.errors.push({ path: '', message: `no Istio resources found in ${paths.join(', ')}` });
  if (plan.errors.length > 0) return plan;
  const byKey = new Map<string, ChangeItem<DeleteAction>>();
  for (const c of all) {
    const file = resourceFile(appliedDir, c);
    byKey.set(configKey(c.meta), { key: configKey(c.meta), display: display(c), file, action: readText(file) === undefined ? 'not found' : 'deleted' });
  }
  plan.items = [...byKey.values()];
  return plan;
}

export function commitDelete(plan: ChangePlan<DeleteAction>): void {
  for (const it of plan.items) if (it.action === 'deleted') rmSync(it.file, { force: true });
}

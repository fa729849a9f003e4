// Loads Istio resources from YAML/JSON text, files and directories: envelope checks, typed Config, validation.
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Node } from 'yaml';
import { KINDS, DEFAULT_NAMESPACE, type Config, type ConfigMeta, type Kind } from './config.js';
import { joinPath, type ValidationError } from './errors.js';
import { contentHash } from './hash.js';
import { checkConfig } from './validate/index.js';
import { lineOf } from './yamlpos.js';

/** A document that is not an Istio resource (a Kubernetes Service, Deployment...): ignored, not an error. */
export interface SkippedDocument {
  file: string;
  index: number;
  apiVersion?: string;
  kind?: string;
  name?: string;
  reason: string;
}

export interface LoadResult {
  /** Valid resources. */
  configs: Config[];
  /** Resources whose envelope parsed but that failed validation (their errors are in `errors`). */
  rejected: Config[];
  errors: ValidationError[];
  /** Accepted but flagged (deprecated fields, likely mistakes); never rejects a resource. */
  warnings: ValidationError[];
  skipped: SkippedDocument[];
  /** Files read (loadPaths/loadFile); empty for parseDocuments. */
  files: string[];
}

const ISTIO_GROUPS = new Set(Object.values(KINDS).map((k) => k.group));
/** Real Istio kinds in our groups that Isthmus does not implement: skipped with a note rather than rejected. */
const UNSUPPORTED_ISTIO_KINDS = new Set(['networking.istio.io/ProxyConfig']);
const KIND_BY_GROUP = new Map<string, Map<string, Kind>>();
for (const [kind, def] of Object.entries(KINDS) as [Kind, (typeof KINDS)[Kind]][]) {
  let m = KIND_BY_GROUP.get(def.group);
  if (!m) KIND_BY_GROUP.set(def.group, (m = new Map()));
  m.set(kind, kind);
}

function emptyResult(): LoadResult {
  return { configs: [], rejected: [], errors: [], warnings: [], skipped: [], files: [] };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringMap(v: unknown, path: string, errors: { path: string; message: string }[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (v === undefined || v === null) return out;
  if (!isObject(v)) {
    errors.push({ path, message: 'expected map of strings' });
    return out;
  }
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === 'string') out[k] = x;
    else if (x === null) out[k] = '';
    else errors.push({ path: joinPath(path, k), message: `expected string, got ${typeof x}` });
  }
  return out;
}

interface DocCtx {
  file: string;
  index: number;
  /** Line of the document (or List item) start. */
  line?: number;
  /** The YAML node of this object, to map field paths to lines. */
  node?: Node | null;
  lc?: LineCounter;
}

function lineFor(ctx: DocCtx, path: string): number | undefined {
  if (ctx.node && ctx.lc) return lineOf(ctx.node, path, ctx.lc) ?? ctx.line;
  return ctx.line;
}

function docError(ctx: DocCtx, path: string, message: string, extra: Partial<ValidationError> = {}): ValidationError {
  const line = lineFor(ctx, path);
  return { file: ctx.file, index: ctx.index, ...(line !== undefined ? { line } : {}), ...extra, path, message };
}

/** The item nodes of a YAML sequence (List `items`, or a top-level JSON array). */
function itemNodes(node: Node | null | undefined): (Node | null)[] {
  if (isSeq(node)) return node.items as (Node | null)[];
  if (isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && p.key.value === 'items');
    if (isSeq(pair?.value)) return pair.value.items as (Node | null)[];
  }
  return [];
}

function childCtx(ctx: DocCtx, node: Node | null | undefined): DocCtx {
  const line = node?.range && ctx.lc ? ctx.lc.linePos(node.range[0]).line : ctx.line;
  return { ...ctx, node: node ?? null, ...(line !== undefined ? { line } : {}) };
}

/** Turns one parsed object (a resource or a List) into configs, errors and skipped entries. */
function loadObject(obj: unknown, ctx: DocCtx, out: LoadResult, inList = false): void {
  if (obj === null || obj === undefined) return; // empty document
  if (!isObject(obj)) {
    out.errors.push(docError(ctx, '', `expected a resource object, got ${Array.isArray(obj) ? 'list' : typeof obj}`));
    return;
  }
  const apiVersion = obj['apiVersion'];
  const kindV = obj['kind'];
  const metaV = obj['metadata'];
  const nameHint = isObject(metaV) && typeof metaV['name'] === 'string' ? metaV['name'] : undefined;
  if (!inList && (kindV === 'List' || (typeof kindV === 'string' && kindV.endsWith('List') && Array.isArray(obj['items'])))) {
    const items = obj['items'];
    if (!Array.isArray(items)) {
      out.errors.push(docError(ctx, 'items', 'a List needs an items list'));
      return;
    }
    const seq = itemNodes(ctx.node);
    items.forEach((item, i) => loadObject(item, childCtx(ctx, seq[i]), out, true));
    return;
  }
  if (typeof apiVersion !== 'string' || apiVersion === '') {
    out.errors.push(docError(ctx, 'apiVersion', 'apiVersion is required', { ...(typeof kindV === 'string' ? { kind: kindV } : {}), ...(nameHint ? { name: nameHint } : {}) }));
    return;
  }
  if (typeof kindV !== 'string' || kindV === '') {
    out.errors.push(docError(ctx, 'kind', 'kind is required', nameHint ? { name: nameHint } : {}));
    return;
  }
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  if (!ISTIO_GROUPS.has(group)) {
    out.skipped.push({ file: ctx.file, index: ctx.index, apiVersion, kind: kindV, ...(nameHint ? { name: nameHint } : {}), reason: 'not an Istio resource' });
    return;
  }
  const kind = KIND_BY_GROUP.get(group)?.get(kindV);
  if (!kind && UNSUPPORTED_ISTIO_KINDS.has(`${group}/${kindV}`)) {
    out.skipped.push({ file: ctx.file, index: ctx.index, apiVersion, kind: kindV, ...(nameHint ? { name: nameHint } : {}), reason: 'Istio kind not supported by Isthmus' });
    return;
  }
  if (!kind) {
    out.errors.push(docError(ctx, 'kind', `unknown kind ${JSON.stringify(kindV)} in ${group}`, { kind: kindV, ...(nameHint ? { name: nameHint } : {}) }));
    return;
  }
  if (!KINDS[kind].versions.includes(version)) {
    out.errors.push(
      docError(ctx, 'apiVersion', `${kind} is not served at ${apiVersion} (versions: ${KINDS[kind].versions.map((v) => `${group}/${v}`).join(', ')})`, {
        kind,
        ...(nameHint ? { name: nameHint } : {}),
      }),
    );
    return;
  }
  const envErrors: { path: string; message: string }[] = [];
  for (const k of Object.keys(obj)) {
    if (!['apiVersion', 'kind', 'metadata', 'spec', 'status'].includes(k)) envErrors.push({ path: k, message: 'unknown field' });
  }
  const meta = isObject(metaV) ? metaV : {};
  if (metaV !== undefined && metaV !== null && !isObject(metaV)) envErrors.push({ path: 'metadata', message: 'expected object' });
  const name = typeof meta['name'] === 'string' ? meta['name'] : '';
  if (meta['name'] !== undefined && typeof meta['name'] !== 'string') envErrors.push({ path: 'metadata.name', message: 'expected string' });
  const nsV = meta['namespace'];
  const namespace = typeof nsV === 'string' && nsV !== '' ? nsV : DEFAULT_NAMESPACE;
  if (nsV !== undefined && nsV !== null && typeof nsV !== 'string') envErrors.push({ path: 'metadata.namespace', message: 'expected string' });
  const labels = stringMap(meta['labels'], 'metadata.labels', envErrors);
  const annotations = stringMap(meta['annotations'], 'metadata.annotations', envErrors);
  const specV = obj['spec'];
  // Nulls stay in the raw spec (a Struct may hold them); the schema check drops null fields from the typed copy.
  const spec = specV === undefined || specV === null ? {} : specV;
  const m: ConfigMeta = {
    kind,
    group,
    version,
    name,
    namespace,
    labels,
    annotations,
    resourceVersion: contentHash({ apiVersion, kind, name, namespace, labels, annotations, spec }),
    ...(typeof meta['creationTimestamp'] === 'string' ? { creationTimestamp: meta['creationTimestamp'] } : {}),
    source: { file: ctx.file, index: ctx.index },
  };
  const config: Config = { meta: m, spec };
  const checked = checkConfig(config);
  const errors: ValidationError[] = [
    ...envErrors.map((e) => ({ file: ctx.file, index: ctx.index, kind, namespace, name, path: e.path, message: e.message })),
    ...checked.errors,
  ];
  for (const e of [...errors, ...checked.warnings]) {
    const line = lineFor(ctx, e.path);
    if (line !== undefined) e.line = line;
  }
  // Report in source order (schema and semantic checks run in separate passes).
  const byLine = (a: ValidationError, b: ValidationError): number => (a.line ?? 0) - (b.line ?? 0);
  errors.sort(byLine);
  checked.warnings.sort(byLine);
  out.warnings.push(...checked.warnings);
  if (errors.length > 0) {
    out.rejected.push(config);
    out.errors.push(...errors);
  } else {
    out.configs.push({ meta: m, spec: checked.spec });
  }
}

/** Parses a multi-document YAML (or JSON) text; never throws. Errors carry `file`, document index and line. */
export function parseDocuments(text: string, file: string): LoadResult {
  const out = emptyResult();
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [];
  list.forEach((doc, index) => {
    const start = doc.contents?.range?.[0] ?? doc.range[0];
    const ctx: DocCtx = { file, index, line: lc.linePos(start).line, node: doc.contents, lc };
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const line = e.linePos?.[0]?.line ?? ctx.line;
        const message = `YAML syntax error: ${e.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? e.code}`;
        out.errors.push({ file, index, ...(line !== undefined ? { line } : {}), path: '', message });
      }
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      out.errors.push(docError(ctx, '', `YAML error: ${e instanceof Error ? e.message : String(e)}`));
      return;
    }
    if (Array.isArray(value)) {
      const seq = itemNodes(doc.contents);
      value.forEach((item, i) => loadObject(item, childCtx(ctx, seq[i]), out, true));
      return;
    }
    loadObject(value, ctx, out);
  });
  return out;
}

/** Reads and parses one file. An unreadable file yields one error (no throw). */
export async function loadFile(path: string): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const r = emptyResult();
    r.errors.push({ file: path, path: '', message: `cannot read file: ${(e as NodeJS.ErrnoException).code ?? String(e)}` });
    return r;
  }
  const r = parseDocuments(text, path);
  r.files.push(path);
  return r;
}

export const CONFIG_EXTENSIONS: readonly string[] = ['.yaml', '.yml', '.json'];

/** Lists config files under `path` (recursively, sorted; hidden entries skipped), or `path` itself when a file. */
export async function listConfigFiles(path: string): Promise<string[]> {
  const st = await stat(path);
  if (!st.isDirectory()) return [path];
  const out: string[] = [];
  const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = join(path, e.name);
    if (e.isDirectory()) out.push(...(await listConfigFiles(p)));
    else if (e.isFile() && CONFIG_EXTENSIONS.includes(extname(e.name).toLowerCase())) out.push(p);
  }
  return out;
}

/** Loads files and directories (recursing into *.yaml, *.yml, *.json), merging the results in path order. */
export async function loadPaths(paths: readonly string[]): Promise<LoadResult> {
  const out = emptyResult();
  for (const p of paths) {
    let files: string[];
    try {
      files = await listConfigFiles(p);
    } catch (e) {
      out.errors.push({ file: p, path: '', message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}` });
      continue;
    }
    for (const f of files) {
      const r = await loadFile(f);
      out.configs.push(...r.configs);
      out.rejected.push(...r.rejected);
      out.errors.push(...r.errors);
      out.warnings.push(...r.warnings);
      out.skipped.push(...r.skipped);
      out.files.push(...r.files);
    }
  }
  return out;
}

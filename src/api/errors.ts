// Validation errors with file, resource and field path, a collector that builds paths, and the one-line formatter.

export interface ValidationError {
  file?: string;
  /** 0-based index of the YAML document in the file. */
  index?: number;
  /** 1-based line in the file (YAML syntax errors, and resources whose document start is known). */
  line?: number;
  kind?: string;
  namespace?: string;
  name?: string;
  /** Field path inside the resource, e.g. `spec.http[0].timeout`; empty for document-level errors. */
  path: string;
  message: string;
}

/**
 * One line per error: `file[:line]: Kind namespace/name: path: message`, e.g.
 * `samples/bad.yaml:14: VirtualService default/reviews: spec.http[0].route: weights must sum to 100, got 90`.
 * Parts that are unknown are left out (a YAML syntax error has no resource, a run-time resource no file).
 */
export function formatError(e: ValidationError): string {
  const parts: string[] = [];
  if (e.file !== undefined) {
    if (e.line !== undefined) parts.push(`${e.file}:${e.line}`);
    else if (e.index !== undefined && e.name === undefined) parts.push(`${e.file}[document ${e.index}]`);
    else parts.push(e.file);
  }
  if (e.kind !== undefined || e.name !== undefined) {
    const name = e.name === undefined ? undefined : e.name === '' ? '<unnamed>' : e.name;
    const id = name === undefined ? '' : e.namespace === undefined ? name : `${e.namespace}/${name}`;
    parts.push([e.kind, id].filter((s) => s).join(' '));
  }
  if (e.path) parts.push(e.path);
  parts.push(e.message);
  return parts.join(': ');
}

/** `base.field`, `base[3]`, `base["a.b"]` for map keys that are not identifiers. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return base ? `${base}.${key}` : key;
  return `${base}[${JSON.stringify(key)}]`;
}

/** `base.rel` for a literal relative path such as `port.number` (use joinPath for map keys and indexes). */
export function sub(base: string, rel: string): string {
  return base ? `${base}.${rel}` : rel;
}

export interface PathMessage {
  path: string;
  message: string;
}

/**
 * Collects `{path, message}` pairs; validators call `add` for every problem and never throw. Warnings (`warn`) are
 * what Istio accepts but flags (deprecated fields, likely mistakes): they never reject a resource.
 */
export class ErrorList {
  readonly items: PathMessage[] = [];
  readonly warnings: PathMessage[] = [];
  add(path: string, message: string): void {
    this.items.push({ path, message });
  }
  warn(path: string, message: string): void {
    this.warnings.push({ path, message });
  }
  get length(): number {
    return this.items.length;
  }
}

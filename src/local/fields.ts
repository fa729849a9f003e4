// Small typed readers for hand-written config (mesh.yaml): each reads one field, records an error with its path when
// the value has the wrong shape, and returns a default, so a whole file is checked and every error reported at once.
import { joinPath } from '../api/errors.js';

export interface FieldError {
  path: string;
  message: string;
}

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Collects errors; `at(path)` reads fields of the object found at `path`. */
export class Reader {
  readonly errors: FieldError[] = [];

  add(path: string, message: string): void {
    this.errors.push({ path, message });
  }

  /** The object at `path` (undefined/null → empty object); unknown keys are errors (they are usually typos). */
  object(v: unknown, path: string, known: readonly string[]): Obj {
    if (v === undefined || v === null) return {};
    if (!isObj(v)) {
      this.add(path, `expected an object, got ${describe(v)}`);
      return {};
    }
    for (const k of Object.keys(v)) {
      if (!known.includes(k)) this.add(joinPath(path, k), `unknown field (known: ${known.join(', ')})`);
    }
    return v;
  }

  list(o: Obj, key: string, path: string): unknown[] {
    const v = o[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.add(joinPath(path, key), `expected a list, got ${describe(v)}`);
      return [];
    }
    return v;
  }

  string(o: Obj, key: string, path: string, dflt: string, opts: { required?: boolean; pattern?: RegExp; hint?: string } = {}): string {
    const v = o[key];
    const p = joinPath(path, key);
    if (v === undefined || v === null || v === '') {
      if (opts.required) this.add(p, 'required');
      return dflt;
    }
    if (typeof v !== 'string') {
      this.add(p, `expected a string, got ${describe(v)}`);
      return dflt;
    }
    if (opts.pattern && !opts.pattern.test(v)) {
      this.add(p, `${JSON.stringify(v)} is not valid${opts.hint ? `: ${opts.hint}` : ''}`);
      return dflt;
    }
    return v;
  }

  int(o: Obj, key: string, path: string, dflt: number, min: number, max: number): number {
    const v = o[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.add(joinPath(path, key), `expected an integer ${min}-${max}, got ${describe(v)}`);
      return dflt;
    }
    return v;
  }

  optionalInt(o: Obj, key: string, path: string, min: number, max: number): number | undefined {
    if (o[key] === undefined || o[key] === null) return undefined;
    const n = this.int(o, key, path, Number.NaN, min, max);
    return Number.isNaN(n) ? undefined : n;
  }

  bool(o: Obj, key: string, path: string, dflt: boolean): boolean {
    const v = o[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'boolean') {
      this.add(joinPath(path, key), `expected true or false, got ${describe(v)}`);
      return dflt;
    }
    return v;
  }

  oneOf<T extends string>(o: Obj, key: string, path: string, dflt: T, values: readonly T[]): T {
    const v = o[key];
    if (v === undefined || v === null) return dflt;
    const s = typeof v === 'string' ? values.find((x) => x.toLowerCase() === v.toLowerCase()) : undefined;
    if (s === undefined) {
      this.add(joinPath(path, key), `expected one of ${values.join(', ')}, got ${describe(v)}`);
      return dflt;
    }
    return s;
  }

  /** A map of strings; numbers and booleans are accepted and stringified (env: {PORT: 80}). */
  stringMap(o: Obj, key: string, path: string, opts: { keyPattern?: RegExp; keyHint?: string; scalars?: boolean } = {}): Record<string, string> {
    const v = o[key];
    const p = joinPath(path, key);
    const out: Record<string, string> = {};
    if (v === undefined || v === null) return out;
    if (!isObj(v)) {
      this.add(p, `expected a map of strings, got ${describe(v)}`);
      return out;
    }
    for (const [k, x] of Object.entries(v)) {
      if (opts.keyPattern && !opts.keyPattern.test(k)) this.add(joinPath(p, k), `invalid key${opts.keyHint ? `: ${opts.keyHint}` : ''}`);
      if (typeof x === 'string') out[k] = x;
      else if (opts.scalars && (typeof x === 'number' || typeof x === 'boolean')) out[k] = String(x);
      else this.add(joinPath(p, k), `expected a string, got ${describe(x)}`);
    }
    return out;
  }

  /** A non-empty list of strings (argv). */
  argv(o: Obj, key: string, path: string, required: boolean): string[] {
    const v = o[key];
    const p = joinPath(path, key);
    if (v === undefined || v === null) {
      if (required) this.add(p, 'required (the program and its arguments, e.g. [node, app.js])');
      return [];
    }
    if (typeof v === 'string') {
      this.add(p, 'expected a list of strings (argv), e.g. [node, app.js, --port, "8080"]; shell strings are not split');
      return [];
    }
    if (!Array.isArray(v) || v.length === 0) {
      this.add(p, `expected a non-empty list of strings, got ${describe(v)}`);
      return [];
    }
    const out: string[] = [];
    v.forEach((x, i) => {
      if (typeof x === 'string') out.push(x);
      else if (typeof x === 'number') out.push(String(x));
      else this.add(joinPath(p, i), `expected a string, got ${describe(x)}`);
    });
    return out;
  }
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return typeof v;
}

/** DNS-1123 label (Kubernetes names of namespaces, services, workloads). */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const DNS_LABEL_HINT = 'lower-case letters, digits and "-", at most 63 characters, starting and ending with a letter or digit';
/** Kubernetes label keys (optional DNS prefix + name) and values. */
export const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
export const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

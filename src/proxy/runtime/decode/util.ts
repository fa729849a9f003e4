// Shared helpers of the xDS decoders: narrowing the JSON view of a resource (codec.ts JSON_VIEW: snake_case names, enums
// and 64-bit ints as strings, wrappers as {value}, Any expanded as {'@type', ...}), field paths, and problem collection.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { decodeToObject, durationToMs, encode, fromStruct } from '../../../xds/codec.js';
import { fromProtoJson } from '../../../xds/json.js';
import { protoRoot } from '../../../xds/proto.js';

export type Rec = Record<string, unknown>;

/** What decoders may need from the outside world (injectable for tests). */
export interface DecodeContext {
  /** Reads a DataSource `filename` (certificates, direct response bodies); throws when unreadable. */
  readFile(path: string): string;
}

export const defaultDecodeContext: DecodeContext = { readFile: (p) => readFileSync(p, 'utf8') };

/** Collects problems of one resource, each as `<kind> <name>: <path>: <message>`. */
export class Problems {
  readonly list: string[] = [];
  constructor(private readonly prefix: string) {}
  add(path: string, message: string): void {
    this.list.push(path ? `${this.prefix}: ${path}: ${message}` : `${this.prefix}: ${message}`);
  }
  get ok(): boolean {
    return this.list.length === 0;
  }
}

/** `a.b` / `b` field path join. */
export function at(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

export function rec(v: unknown): Rec | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : undefined;
}

/** A sub-message (absent → undefined). */
export function msg(o: Rec, k: string): Rec | undefined {
  return rec(o[k]);
}

export function str(o: Rec, k: string): string | undefined {
  const v = o[k];
  return typeof v === 'string' ? v : undefined;
}

/** A repeated message field (absent → []). */
export function list(o: Rec, k: string): Rec[] {
  const v = o[k];
  return Array.isArray(v) ? v.map((x) => rec(x) ?? {}) : [];
}

export function strs(o: Rec, k: string): string[] {
  const v = o[k];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** A scalar number field (uint32 as number, 64-bit as string); absent → undefined. */
export function num(o: Rec, k: string): number | undefined {
  return toNum(o[k]);
}

export function nums(o: Rec, k: string): number[] {
  const v = o[k];
  return Array.isArray(v) ? v.map(toNum).filter((x): x is number => x !== undefined) : [];
}

function toNum(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

export function bool(o: Rec, k: string): boolean {
  return o[k] === true;
}

/** A wrapper field (UInt32Value, UInt64Value, BoolValue...): absent → undefined; present without value → zero value. */
export function wrappedNum(o: Rec, k: string): number | undefined {
  const w = rec(o[k]);
  if (!w) return undefined;
  return toNum(w.value) ?? 0;
}

export function wrappedBool(o: Rec, k: string): boolean | undefined {
  const w = rec(o[k]);
  if (!w) return undefined;
  return w.value === true;
}

/** A google.protobuf.Duration field in ms; absent → undefined. */
export function durMs(o: Rec, k: string): number | undefined {
  return durationToMs(o[k]);
}

export function enumStr(o: Rec, k: string, dflt: string): string {
  const v = o[k];
  return typeof v === 'string' ? v : dflt;
}

/** The message name of a type URL (`type.googleapis.com/a.b.C` → `a.b.C`). */
export function typeName(url: string): string {
  return url.slice(url.lastIndexOf('/') + 1);
}

const TYPED_STRUCT = new Set(['udpa.type.v1.TypedStruct', 'xds.type.v3.TypedStruct']);

/**
 * The message inside an expanded Any: its type name and fields. An Any whose type is not loaded comes back as
 * {type_url, value}: its fields are unknown (undefined). A TypedStruct is converted into the message it describes.
 */
export function unpackAny(any: Rec | undefined): { type: string; fields: Rec | undefined; error?: string } | undefined {
  if (!any) return undefined;
  const t = any['@type'];
  if (typeof t === 'string') {
    const { ['@type']: _drop, ...fields } = any;
    const type = typeName(t);
    if (TYPED_STRUCT.has(type)) return fromTypedStruct(fields);
    return { type, fields };
  }
  const url = any.type_url;
  // A type that is not loaded: with an empty value it is the empty message; otherwise its fields are unknown.
  if (typeof url === 'string') return { type: typeName(url), fields: any.value === '' || any.value === undefined ? {} : undefined };
  return undefined;
}

function fromTypedStruct(ts: Rec): { type: string; fields: Rec | undefined; error?: string } {
  const url = str(ts, 'type_url') ?? '';
  const type = typeName(url);
  try {
    protoRoot().lookupType(type);
  } catch {
    return { type, fields: undefined };
  }
  const errors: string[] = [];
  const obj = fromProtoJson(type, fromStruct(ts.value), '', errors);
  if (errors.length > 0) return { type, fields: undefined, error: `TypedStruct value: ${errors.join('; ')}` };
  try {
    return { type, fields: decodeToObject(url, encode(url, obj)) };
  } catch (e) {
    return { type, fields: undefined, error: `TypedStruct value: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** The plain form of a Metadata's filter_metadata (Struct per namespace). */
export function filterMetadata(o: Rec, k = 'metadata'): Record<string, unknown> | undefined {
  const fm = rec(rec(o[k])?.filter_metadata);
  if (!fm) return undefined;
  const out: Record<string, unknown> = {};
  for (const [ns, s] of Object.entries(fm)) out[ns] = fromStruct(s);
  return out;
}

/** FractionalPercent → 0..1 (absent → undefined). */
export function fractionOf(fp: Rec | undefined): number | undefined {
  if (!fp) return undefined;
  const n = toNum(fp.numerator) ?? 0;
  const d = enumStr(fp, 'denominator', 'HUNDRED');
  const den = d === 'MILLION' ? 1_000_000 : d === 'TEN_THOUSAND' ? 10_000 : 100;
  return Math.min(1, n / den);
}

/** RuntimeFractionalPercent's default_value → 0..1 (absent → undefined). */
export function runtimeFraction(o: Rec, k: string): number | undefined {
  const rf = msg(o, k);
  if (!rf) return undefined;
  return fractionOf(msg(rf, 'default_value')) ?? 0;
}

/** A short stable hash of resource bytes (unchanged bytes → unchanged hash). */
export function bytesHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64url').slice(0, 22);
}

/** Decodes bytes into the JSON view, or the reason it failed. */
export function decodeView(typeUrl: string, bytes: Uint8Array): { obj: Rec } | { error: string } {
  try {
    return { obj: decodeToObject(typeUrl, bytes) };
  } catch (e) {
    return { error: `cannot decode ${typeName(typeUrl)}: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** A DataSource (filename | inline_string | inline_bytes | environment_variable is refused) → text. */
export function dataSource(ds: Rec | undefined, path: string, p: Problems, ctx: DecodeContext): string | undefined {
  if (!ds) return undefined;
  const file = str(ds, 'filename');
  if (file !== undefined) {
    try {
      return ctx.readFile(file);
    } catch (e) {
      p.add(at(path, 'filename'), `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  }
  const s = str(ds, 'inline_string');
  if (s !== undefined) return s;
  const b = str(ds, 'inline_bytes');
  if (b !== undefined) return Buffer.from(b, 'base64').toString('utf8');
  if (ds.environment_variable !== undefined) {
    p.add(at(path, 'environment_variable'), 'environment variable data sources are not supported');
    return undefined;
  }
  return '';
}

/** Envoy CidrRange list (`address_prefix`, `prefix_len`) with each invalid entry reported at its path. */
export function cidrs(items: Rec[], path: string, p: Problems): { address: string; prefixLen: number }[] {
  return items.map((c, i) => {
    const cp = `${path}[${i}]`;
    const address = str(c, 'address_prefix') ?? '';
    const family = isIP(address);
    const prefixLen = wrappedNum(c, 'prefix_len') ?? 0;
    if (family === 0) p.add(at(cp, 'address_prefix'), `"${address}" is not an IP address`);
    else if (prefixLen > (family === 4 ? 32 : 128)) p.add(at(cp, 'prefix_len'), `${prefixLen} is too long for ${address}`);
    return { address, prefixLen };
  });
}

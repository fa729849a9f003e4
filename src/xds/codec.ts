// Encode/decode of xDS resources as google.protobuf.Any, JSON views for debug/golden output, and a strict
// field checker (protobufjs's fromObject silently drops unknown fields; this catches misspelled ones).
import './protobuf-load.js';
import protobuf from 'protobufjs/light.js';
import { messageType, protoRoot } from './proto.js';

export interface AnyMessage {
  type_url: string;
  value: Uint8Array;
}

/** Encodes a plain object (proto field names, nested Any as {'@type': url, ...}) into the bytes of `typeUrl`. */
export function encode(typeUrl: string, obj: object): Uint8Array {
  const t = messageType(typeUrl);
  return t.encode(t.fromObject(obj)).finish();
}

export function pack(typeUrl: string, obj: object): AnyMessage {
  return { type_url: typeUrl, value: encode(typeUrl, obj) };
}

/** Decodes bytes of `typeUrl` into a plain object with proto field names, enums as strings, Any expanded. */
export function decodeToObject(typeUrl: string, bytes: Uint8Array): Record<string, unknown> {
  const t = messageType(typeUrl);
  return t.toObject(t.decode(bytes), JSON_VIEW);
}

export const JSON_VIEW: protobuf.IConversionOptions = { json: true, enums: String, longs: String, bytes: String, defaults: false };

/** Canonical JSON view of a resource: encode then decode, so what you see is what goes on the wire. */
export function wireView(typeUrl: string, obj: object): Record<string, unknown> {
  return { '@type': typeUrl, ...decodeToObject(typeUrl, encode(typeUrl, obj)) };
}

/** Returns every field of `obj` that is not a field of `typeUrl` (recursively, through Any), with its path. */
export function unknownFields(typeUrl: string, obj: unknown): string[] {
  const errors: string[] = [];
  checkMessage(messageType(typeUrl), obj, '', errors);
  return errors;
}

function checkMessage(type: protobuf.Type, obj: unknown, path: string, errors: string[]): void {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    errors.push(`${path || '.'}: expected a ${type.fullName.slice(1)} object`);
    return;
  }
  const full = type.fullName.slice(1);
  if (full === 'google.protobuf.Any') {
    const rec = obj as Record<string, unknown>;
    const url = rec['@type'];
    if (typeof url === 'string') {
      let inner: protobuf.Type;
      try {
        inner = messageType(url);
      } catch {
        errors.push(`${path}.@type: unknown message type ${url}`);
        return;
      }
      const { ['@type']: _t, ...rest } = rec;
      checkMessage(inner, rest, path, errors);
      return;
    }
  }
  if (full === 'google.protobuf.Struct' || full === 'google.protobuf.Value' || full === 'google.protobuf.ListValue') return;
  const oneofSeen = new Map<string, string>();
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    const f = type.fields[k];
    const p = `${path}.${k}`;
    if (!f) {
      errors.push(`${p}: no such field in ${full}`);
      continue;
    }
    if (v === undefined || v === null) continue;
    if (f.partOf) {
      const prev = oneofSeen.get(f.partOf.name);
      if (prev) errors.push(`${p}: oneof ${f.partOf.name} already set by ${prev}`);
      oneofSeen.set(f.partOf.name, k);
    }
    f.resolve();
    const rt = f.resolvedType;
    if (!(rt instanceof protobuf.Type)) continue;
    if (f.map) {
      for (const [mk, mv] of Object.entries(v as Record<string, unknown>)) checkMessage(rt, mv, `${p}[${mk}]`, errors);
    } else if (f.repeated) {
      if (!Array.isArray(v)) errors.push(`${p}: expected a list`);
      else v.forEach((item, i) => checkMessage(rt, item, `${p}[${i}]`, errors));
    } else {
      checkMessage(rt, v, p, errors);
    }
  }
}

/** google.protobuf.Duration from milliseconds. */
export function durationMs(ms: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

/** Milliseconds from a decoded google.protobuf.Duration ({seconds, nanos} or JSON "1.5s"). */
export function durationToMs(d: unknown): number | undefined {
  if (d === undefined || d === null) return undefined;
  if (typeof d === 'string') {
    const m = /^(-?\d+(?:\.\d+)?)s$/.exec(d);
    return m ? Number(m[1]) * 1000 : undefined;
  }
  const o = d as { seconds?: number | string; nanos?: number };
  return Number(o.seconds ?? 0) * 1000 + (o.nanos ?? 0) / 1e6;
}

// protobufjs ships google.protobuf.Struct/Value with camelCase field names (its bundled common protos).
type StructValue = { nullValue: 'NULL_VALUE' } | { numberValue: number } | { stringValue: string } | { boolValue: boolean } | { structValue: { fields: Record<string, StructValue> } } | { listValue: { values: StructValue[] } };

/** google.protobuf.Struct from a plain JSON object. */
export function toStruct(obj: Record<string, unknown>): { fields: Record<string, StructValue> } {
  const fields: Record<string, StructValue> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) fields[k] = toValue(v);
  return { fields };
}

function toValue(v: unknown): StructValue {
  if (v === null) return { nullValue: 'NULL_VALUE' };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(toValue) } };
  return { structValue: toStruct(v as Record<string, unknown>) };
}

/** Plain JSON from a decoded google.protobuf.Struct (JSON view or object view). */
export function fromStruct(s: unknown): Record<string, unknown> {
  if (!s || typeof s !== 'object') return {};
  const fields = (s as { fields?: Record<string, unknown> }).fields;
  if (!fields) return s as Record<string, unknown>; // JSON view is already plain
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = fromValue(v);
  return out;
}

function fromValue(v: unknown): unknown {
  const o = v as Record<string, unknown>;
  if ('stringValue' in o) return o.stringValue;
  if ('numberValue' in o) return o.numberValue;
  if ('boolValue' in o) return o.boolValue;
  if ('structValue' in o) return fromStruct(o.structValue);
  if ('listValue' in o) return ((o.listValue as { values?: unknown[] }).values ?? []).map(fromValue);
  return null;
}

export { protoRoot };

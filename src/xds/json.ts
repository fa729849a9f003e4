// Proto3 JSON (as users write Envoy config in EnvoyFilter patches: camelCase or snake_case keys, "1s" durations,
// bare numbers for wrapper types, plain JSON for Struct) → the plain-object form codec.ts encodes.
// https://protobuf.dev/programming-guides/proto3/#json
import './protobuf-load.js';
import protobuf from 'protobufjs/light.js';
import { messageType } from './proto.js';
import { toStruct } from './codec.js';

const WRAPPERS = new Set([
  'google.protobuf.DoubleValue', 'google.protobuf.FloatValue', 'google.protobuf.Int64Value', 'google.protobuf.UInt64Value',
  'google.protobuf.Int32Value', 'google.protobuf.UInt32Value', 'google.protobuf.BoolValue', 'google.protobuf.StringValue',
  'google.protobuf.BytesValue',
]);

function snake(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Parses a proto3 JSON duration ("1.5s"; also Go-style "100ms", "2m" as Istio users write) into {seconds, nanos}. */
export function parseJsonDuration(s: string): { seconds: number; nanos: number } | undefined {
  const m = /^(-?\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)$/.exec(s.trim());
  if (!m) return undefined;
  const mult: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  const total = Number(m[1]) * mult[m[2]];
  const seconds = Math.trunc(total);
  return { seconds, nanos: Math.round((total - seconds) * 1e9) };
}

/**
 * Converts `value` (proto3 JSON for message `typeName`) into the codec's object form. Every problem is appended to
 * `errors` with its path; the result holds whatever could be converted.
 */
export function fromProtoJson(typeName: string, value: unknown, path = '', errors: string[] = []): Record<string, unknown> {
  return convertMessage(messageType(typeName), value, path, errors) as Record<string, unknown>;
}

function convertMessage(type: protobuf.Type, value: unknown, path: string, errors: string[]): unknown {
  const full = type.fullName.slice(1);
  if (full === 'google.protobuf.Duration') {
    if (typeof value === 'string') {
      const d = parseJsonDuration(value);
      if (!d) errors.push(`${path || '.'}: invalid duration "${value}"`);
      return d ?? { seconds: 0, nanos: 0 };
    }
    return value;
  }
  if (WRAPPERS.has(full)) {
    if (value !== null && typeof value === 'object' && 'value' in value) return value;
    return { value };
  }
  if (full === 'google.protobuf.Struct') {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const v = value as Record<string, unknown>;
      return 'fields' in v && typeof v.fields === 'object' ? v : toStruct(v);
    }
    errors.push(`${path || '.'}: expected an object for google.protobuf.Struct`);
    return { fields: {} };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    errors.push(`${path || '.'}: expected an object for ${full}`);
    return {};
  }
  const rec = value as Record<string, unknown>;
  if (full === 'google.protobuf.Any') {
    const url = rec['@type'];
    if (typeof url !== 'string') return rec;
    let inner: protobuf.Type;
    try {
      inner = messageType(url);
    } catch {
      errors.push(`${path}.@type: unknown message type ${url}`);
      return rec;
    }
    const { ['@type']: _t, ...rest } = rec;
    return { '@type': url, ...(convertMessage(inner, rest, path, errors) as object) };
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rec)) {
    const name = type.fields[k] ? k : snake(k);
    const f = type.fields[name];
    const p = `${path}.${k}`;
    if (!f) {
      errors.push(`${p}: no such field in ${full}`);
      continue;
    }
    f.resolve();
    const rt = f.resolvedType;
    if (!(rt instanceof protobuf.Type) || v === null || v === undefined) {
      out[name] = v;
    } else if (f.map) {
      const m: Record<string, unknown> = {};
      for (const [mk, mv] of Object.entries(v as Record<string, unknown>)) m[mk] = convertMessage(rt, mv, `${p}[${mk}]`, errors);
      out[name] = m;
    } else if (f.repeated) {
      if (!Array.isArray(v)) errors.push(`${p}: expected a list`);
      else out[name] = v.map((item, i) => convertMessage(rt, item, `${p}[${i}]`, errors));
    } else {
      out[name] = convertMessage(rt, v, p, errors);
    }
  }
  return out;
}

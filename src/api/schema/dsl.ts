// A small declarative schema language for Istio resource specs: scalar types, enums, lists, maps, nested messages.

export type Schema =
  | { readonly t: 'string'; readonly enum?: readonly string[] }
  | { readonly t: 'int'; readonly min?: number; readonly max?: number }
  | { readonly t: 'number' }
  | { readonly t: 'bool' }
  | { readonly t: 'duration' }
  | { readonly t: 'list'; readonly of: Schema }
  | { readonly t: 'map'; readonly of: Schema }
  | {
      readonly t: 'msg';
      readonly name: string;
      readonly fields: Readonly<Record<string, Field>>;
      /** Groups of fields of which at most one may be set (protobuf oneofs). */
      readonly oneofs?: readonly (readonly string[])[];
    }
  /** A google.protobuf.Struct / free-form JSON value (EnvoyFilter patch values). */
  | { readonly t: 'struct' }
  /** A message defined later (for recursive or forward references). */
  | { readonly t: 'ref'; readonly get: () => Schema };

export interface Field {
  readonly schema: Schema;
  readonly required?: boolean;
  /** Documented as deprecated; still accepted. */
  readonly deprecated?: boolean;
}

export type FieldSpec = Schema | Field;

function isField(f: FieldSpec): f is Field {
  return (f as Field).schema !== undefined;
}

export const str: Schema = { t: 'string' };
export const bool: Schema = { t: 'bool' };
export const num: Schema = { t: 'number' };
export const dur: Schema = { t: 'duration' };
export const struct: Schema = { t: 'struct' };
/** Protobuf int32/int64. */
export const int: Schema = { t: 'int' };
/** Protobuf uint32/uint64 (also google.protobuf.UInt32Value, which YAML writes as a bare number). */
export const uint: Schema = { t: 'int', min: 0 };
export const port: Schema = { t: 'int', min: 0, max: 4294967295 };

export function oneOfStr(...values: string[]): Schema {
  return { t: 'string', enum: values };
}
export function list(of: Schema): Schema {
  return { t: 'list', of };
}
export function map(of: Schema): Schema {
  return { t: 'map', of };
}
export function msg(name: string, fields: Record<string, FieldSpec>, oneofs?: readonly (readonly string[])[]): Schema {
  const out: Record<string, Field> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = isField(v) ? v : { schema: v };
  return oneofs ? { t: 'msg', name, fields: out, oneofs } : { t: 'msg', name, fields: out };
}
export function ref(get: () => Schema): Schema {
  return { t: 'ref', get };
}
export function required(schema: Schema): Field {
  return { schema, required: true };
}
export function deprecated(schema: Schema): Field {
  return { schema, deprecated: true };
}

/** Common shapes shared by several kinds. */
export const labels = map(str);
export const stringMatch = msg('StringMatch', { exact: str, prefix: str, regex: str }, [['exact', 'prefix', 'regex']]);
/** networking.istio.io WorkloadSelector (Sidecar, EnvoyFilter, ServiceEntry, DestinationRule). */
export const networkingSelector = msg('WorkloadSelector', { labels });
/** istio.type.v1beta1.WorkloadSelector (security and telemetry kinds). */
export const matchLabelsSelector = msg('WorkloadSelector', { matchLabels: labels });
export const policyTargetRef = msg('PolicyTargetReference', { group: str, kind: required(str), name: required(str), namespace: str });

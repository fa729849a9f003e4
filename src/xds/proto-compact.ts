// Shrinks a parsed protobufjs Root to what the mesh uses, as JSON that protobufjs loads back into a Root.
//
// The parsed Root holds every type of the files PROTO_FILES import (validation rules, annotations, descriptor.proto...),
// every option with its value, and, through names and option values that are slices of the file text, the text of
// every .proto file. The types PROTO_FILES declare and the types their fields reach (502 of 624), without comments and
// annotation options, take 3.3 MB of heap instead of 5.9 MB when loaded from this JSON (measured after a full GC),
// and load in ≈ 80 ms instead of ≈ 270 ms of parsing.
import './protobuf-load.js';
import protobuf from 'protobufjs/light.js';

/** Options protobufjs itself reads when it resolves and codes messages; the others are annotations for other tools. */
const RUNTIME_OPTIONS = new Set(['packed', 'default', 'proto3_optional', 'allow_alias', 'features']);

interface ReflectionJson {
  nested?: Record<string, ReflectionJson>;
  fields?: Record<string, ReflectionJson>;
  oneofs?: Record<string, ReflectionJson>;
  values?: unknown;
  extend?: string;
  options?: Record<string, unknown>;
  valuesOptions?: unknown;
  reserved?: unknown;
  comment?: unknown;
  comments?: unknown;
}

/** True when `o` was declared in one of `files` (paths relative to an include directory). */
function declaredIn(o: protobuf.ReflectionObject, files: readonly string[]): boolean {
  const f = o.filename?.replaceAll('\\', '/');
  return typeof f === 'string' && files.some((p) => f === p || f.endsWith(`/${p}`));
}

/** Full names of the types declared in `files` and of every type they reach (fields, nesting, enclosing types). */
function reachableTypes(root: protobuf.Root, files: readonly string[]): Set<string> {
  const stack: protobuf.ReflectionObject[] = [];
  const collect = (ns: protobuf.NamespaceBase): void => {
    for (const o of ns.nestedArray) {
      if ((o instanceof protobuf.Type || o instanceof protobuf.Enum) && declaredIn(o, files)) stack.push(o);
      if (o instanceof protobuf.Namespace) collect(o);
    }
  };
  collect(root);
  const keep = new Set<string>();
  for (let o = stack.pop(); o; o = stack.pop()) {
    if (keep.has(o.fullName)) continue;
    keep.add(o.fullName);
    if (o.parent instanceof protobuf.Type) stack.push(o.parent);
    if (!(o instanceof protobuf.Type)) continue;
    for (const f of o.fieldsArray) if (f.resolvedType) stack.push(f.resolvedType);
    for (const n of o.nestedArray) if (n instanceof protobuf.Type || n instanceof protobuf.Enum) stack.push(n);
  }
  return keep;
}

function stripOptions(j: ReflectionJson): void {
  if (j.options) {
    for (const k of Object.keys(j.options)) if (!RUNTIME_OPTIONS.has(k)) delete j.options[k];
    if (Object.keys(j.options).length === 0) delete j.options;
  }
  delete j.valuesOptions;
  delete j.reserved;
  delete j.comment;
  delete j.comments;
}

/** Drops unreachable types, extensions (they all extend descriptor options) and annotations; `path` is j's full name. */
function prune(j: ReflectionJson, path: string, keep: ReadonlySet<string>): void {
  stripOptions(j);
  for (const f of Object.values(j.fields ?? {})) stripOptions(f);
  for (const o of Object.values(j.oneofs ?? {})) stripOptions(o);
  if (!j.nested) return;
  for (const [name, child] of Object.entries(j.nested)) {
    const full = `${path}.${name}`;
    const isType = child.fields !== undefined || child.values !== undefined;
    if (child.extend !== undefined || (isType && !keep.has(full))) {
      delete j.nested[name];
      continue;
    }
    prune(child, full, keep);
    if (!isType && child.nested !== undefined && Object.keys(child.nested).length === 0) delete j.nested[name];
  }
}

/** The JSON text of `parsed` (a resolved Root loaded from .proto files) reduced to the types `files` declare or reach. */
export function compactJson(parsed: protobuf.Root, files: readonly string[]): string {
  const json = parsed.toJSON() as ReflectionJson;
  prune(json, '', reachableTypes(parsed, files));
  return JSON.stringify(json);
}

/** A resolved Root from compactJson's text (fresh strings: nothing refers to the .proto file texts). */
export function rootFromJson(text: string): protobuf.Root {
  const root = protobuf.Root.fromJSON(JSON.parse(text) as protobuf.INamespace);
  root.resolveAll();
  const each = (ns: protobuf.NamespaceBase): void => {
    for (const o of ns.nestedArray) {
      if (o instanceof protobuf.Type) (o as { setup: () => protobuf.Type }).setup = lazySetup;
      if (o instanceof protobuf.Namespace) each(o);
    }
  };
  each(root);
  return root;
}

// ------------------------------------------------------------------ coders generated on first use
//
// protobufjs's Type.setup generates all five coders (encode, decode, verify, fromObject, toObject) of a type when any
// of them is first called, and V8 keeps each generated function's source text. A proxy only decodes and converts
// what it receives (verify, fromObject and encode of a Listener or Cluster are never called): generating each coder on
// its first call saves ≈ 0.5 MB of idle RSS per proxy (the bench config sets up 52 types) and ≈ 2 MB in discovery.

type Coder = (...args: unknown[]) => unknown;
type CoderName = 'encode' | 'decode' | 'verify' | 'fromObject' | 'toObject';
type Coders = Record<CoderName, Coder>;

/** Installed as each Type's setup (what protobufjs's prototype coders call on first use); same scope as protobufjs's. */
function lazySetup(this: protobuf.Type): protobuf.Type {
  const { util } = protobuf;
  const types = this.fieldsArray.map((f) => f.resolve().resolvedType);
  const make: Record<CoderName, () => Coder> = {
    encode: () => protobuf.encoder(this)({ Writer: protobuf.Writer, types, util }) as Coder,
    decode: () => protobuf.decoder(this)({ Reader: protobuf.Reader, types, util }) as Coder,
    verify: () => protobuf.verifier(this)({ types, util }) as Coder,
    fromObject: () => protobuf.converter.fromObject(this)({ types, util }) as Coder,
    toObject: () => protobuf.converter.toObject(this)({ types, util }) as Coder,
  };
  const install = (on: Coders, name: CoderName): void => {
    on[name] = function (this: unknown, ...args: unknown[]): unknown {
      const coder = make[name]();
      on[name] = coder;
      return coder.apply(this, args);
    };
  };
  const coders = this as unknown as Coders;
  for (const name of ['encode', 'decode', 'verify'] as const) install(coders, name);
  // Well-known types (Any) wrap the generated converters, which then live on an object below the type, as in setup.
  const wrapper = protobuf.wrappers[this.fullName];
  const originals = wrapper ? (Object.create(this) as Coders) : coders;
  install(originals, 'fromObject');
  install(originals, 'toObject');
  if (wrapper) {
    const self = originals as unknown as protobuf.Type;
    coders.fromObject = wrapper.fromObject ? (wrapper.fromObject.bind(self) as Coder) : (...a) => originals.fromObject.apply(self, a);
    coders.toObject = wrapper.toObject ? (wrapper.toObject.bind(self) as Coder) : (...a) => originals.toObject.apply(self, a);
  }
  return this;
}

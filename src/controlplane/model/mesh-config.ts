// Istio MeshConfig YAML (istiod's --meshConfig file, the `mesh` key of the istio ConfigMap) → the MeshConfig fields the
// control plane honours; every problem with its field path, fields Isthmus does not implement as warnings.
// https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/
import { parse } from 'yaml';
import type { EnvoyFileAccessLogProvider, ExtensionProvider, MeshConfig } from './types.js';

export interface MeshConfigResult {
  mesh: MeshConfig;
  /** `path: message`; a mesh config with errors must not be used. */
  errors: string[];
  warnings: string[];
}

/** Istio's other extension provider kinds: valid in a mesh config, but none of them is an access logger Isthmus runs. */
const OTHER_PROVIDER_KINDS = new Set([
  'envoyExtAuthzHttp', 'envoyExtAuthzGrpc', 'zipkin', 'lightstep', 'datadog', 'stackdriver', 'skywalking', 'opencensus',
  'opentelemetry', 'prometheus', 'envoyHttpAls', 'envoyTcpAls', 'envoyOtelAls', 'sds',
]);

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const at = (path: string, key: string): string => (path ? `${path}.${key}` : key);

class Reader {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];

  obj(v: unknown, path: string): Obj | undefined {
    if (v === undefined || v === null) return undefined;
    if (!isObj(v)) {
      this.errors.push(`${path}: expected an object`);
      return undefined;
    }
    return v;
  }

  str(o: Obj, key: string, path: string): string | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') {
      this.errors.push(`${at(path, key)}: expected a string`);
      return undefined;
    }
    return v;
  }

  strList(o: Obj, key: string, path: string): string[] | undefined {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
      this.errors.push(`${at(path, key)}: expected a list of strings`);
      return undefined;
    }
    return v as string[];
  }

  unknown(o: Obj, known: readonly string[], path: string, why: string): void {
    for (const k of Object.keys(o)) if (!known.includes(k)) this.warnings.push(`${at(path, k)}: ${why}`);
  }
}

function fileAccessLog(r: Reader, v: unknown, path: string): EnvoyFileAccessLogProvider {
  const out: EnvoyFileAccessLogProvider = {};
  const o = r.obj(v, path);
  if (!o) return out;
  r.unknown(o, ['path', 'logFormat'], path, 'not supported by isthmus, ignored');
  const p = r.str(o, 'path', path);
  if (p) out.path = p;
  const lfPath = `${path}.logFormat`;
  const lf = r.obj(o.logFormat, lfPath);
  if (!lf) return out;
  r.unknown(lf, ['text', 'labels'], lfPath, 'not supported by isthmus, ignored');
  if (lf.text !== undefined && lf.labels !== undefined) r.errors.push(`${lfPath}: only one of text or labels may be set`);
  const text = r.str(lf, 'text', lfPath);
  if (text !== undefined) out.logFormat = { text };
  const labels = r.obj(lf.labels, `${lfPath}.labels`);
  if (labels) {
    for (const [k, val] of Object.entries(labels)) {
      // The proxy renders flat JSON only; a nested field would make it reject the whole listener.
      if (typeof val !== 'string' && typeof val !== 'number' && typeof val !== 'boolean') r.errors.push(`${lfPath}.labels.${k}: nested JSON access log formats are not supported`);
    }
    out.logFormat = { labels };
  }
  return out;
}

function extensionProviders(r: Reader, v: unknown): ExtensionProvider[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    r.errors.push('extensionProviders: expected a list');
    return [];
  }
  const out: ExtensionProvider[] = [];
  const seen = new Set<string>();
  v.forEach((item, i) => {
    const path = `extensionProviders[${i}]`;
    const o = r.obj(item, path);
    if (!o) return;
    const name = r.str(o, 'name', path);
    if (!name) r.errors.push(`${path}.name: required`);
    else if (seen.has(name)) r.errors.push(`${path}.name: duplicate provider name ${JSON.stringify(name)}`);
    else seen.add(name);
    const kinds = Object.keys(o).filter((k) => k !== 'name');
    const known = kinds.filter((k) => k === 'envoyFileAccessLog' || OTHER_PROVIDER_KINDS.has(k));
    for (const k of kinds) if (!known.includes(k)) r.errors.push(`${path}.${k}: unknown provider kind`);
    if (known.length !== 1) {
      r.errors.push(`${path}: exactly one provider kind must be set, got ${known.length}`);
      return;
    }
    if (!name) return;
    if (known[0] === 'envoyFileAccessLog') out.push({ name, envoyFileAccessLog: fileAccessLog(r, o.envoyFileAccessLog, `${path}.envoyFileAccessLog`) });
    else if (known[0] === 'envoyHttpAls' || known[0] === 'envoyTcpAls' || known[0] === 'envoyOtelAls') {
      r.warnings.push(`${path}.${known[0]}: gRPC/OpenTelemetry access log services are not supported by isthmus; Telemetry naming ${JSON.stringify(name)} logs nothing`);
    }
  });
  return out;
}

/** Parses MeshConfig YAML; never throws. */
export function parseMeshConfig(text: string): MeshConfigResult {
  const r = new Reader();
  let doc: unknown;
  try {
    doc = parse(text) as unknown;
  } catch (e) {
    return { mesh: {}, errors: [`invalid YAML: ${e instanceof Error ? e.message : String(e)}`], warnings: [] };
  }
  const mesh: MeshConfig = {};
  const o = r.obj(doc, '(document)');
  if (!o) return { mesh, errors: r.errors, warnings: r.warnings };
  r.unknown(o, ['accessLogFile', 'accessLogEncoding', 'accessLogFormat', 'extensionProviders', 'defaultProviders'], '', 'not supported by isthmus, ignored');
  const file = r.str(o, 'accessLogFile', '');
  if (file !== undefined) mesh.accessLogFile = file;
  const enc = r.str(o, 'accessLogEncoding', '');
  if (enc !== undefined) {
    if (enc === 'TEXT' || enc === 'JSON') mesh.accessLogEncoding = enc;
    else r.errors.push(`accessLogEncoding: invalid value ${JSON.stringify(enc)}, must be one of TEXT, JSON`);
  }
  const format = r.str(o, 'accessLogFormat', '');
  if (format) mesh.accessLogFormat = format;
  const providers = extensionProviders(r, o.extensionProviders);
  if (providers.length > 0) mesh.extensionProviders = providers;
  const dp = r.obj(o.defaultProviders, 'defaultProviders');
  if (dp) {
    // metrics and tracing defaults are valid Istio config with nothing to do here.
    r.unknown(dp, ['accessLogging', 'metrics', 'tracing'], 'defaultProviders', 'unknown field, ignored');
    const al = r.strList(dp, 'accessLogging', 'defaultProviders');
    if (al && al.length > 0) mesh.defaultProviders = { accessLogging: al };
  }
  return { mesh, errors: r.errors, warnings: r.warnings };
}

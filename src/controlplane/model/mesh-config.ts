// Istio MeshConfig YAML (istiod's --meshConfig file, the `mesh` key of the istio ConfigMap) → the MeshConfig fields the
// control plane honours; every problem with its field path, top-level fields Isthmus does not implement as warnings.
// Structure is checked by the same schema checker as Istio resources (src/api/schema); Istio's rules follow.
// https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/
import { parse } from 'yaml';
import { ErrorList, formatError, joinPath } from '../../api/errors.js';
import { checkValue } from '../../api/schema/check.js';
import { list, map, msg, oneOfStr, str, struct, type FieldSpec } from '../../api/schema/dsl.js';
import type { EnvoyFileAccessLogProvider, ExtensionProvider, MeshConfig } from './types.js';

export interface MeshConfigResult {
  mesh: MeshConfig;
  /** `path: message`; a mesh config with errors must not be used. */
  errors: string[];
  warnings: string[];
}

/** Istio's other extension provider kinds: valid in a mesh config, but none of them is an access logger Isthmus runs. */
const OTHER_PROVIDER_KINDS = [
  'envoyExtAuthzHttp', 'envoyExtAuthzGrpc', 'zipkin', 'lightstep', 'datadog', 'stackdriver', 'skywalking', 'opencensus',
  'opentelemetry', 'prometheus', 'envoyHttpAls', 'envoyTcpAls', 'envoyOtelAls', 'sds',
];
const ACCESS_LOG_SERVICES = new Set(['envoyHttpAls', 'envoyTcpAls', 'envoyOtelAls']);

const provider = msg('ExtensionProvider', {
  name: str,
  // labels values are checked below: the proxy renders flat JSON only.
  envoyFileAccessLog: msg('EnvoyFileAccessLogProvider', { path: str, logFormat: msg('LogFormat', { text: str, labels: map(struct) }) }),
  ...Object.fromEntries(OTHER_PROVIDER_KINDS.map((k) => [k, struct])),
});

/** The MeshConfig fields Isthmus reads; any other top-level field is valid Istio config it ignores (a warning). */
const FIELDS: Record<string, FieldSpec> = {
  accessLogFile: str,
  accessLogEncoding: oneOfStr('TEXT', 'JSON'),
  accessLogFormat: str,
  // Items are checked one by one (provider), so that paths keep the file's indexes.
  extensionProviders: list(struct),
  // metrics and tracing defaults are valid Istio config with nothing to do here.
  defaultProviders: msg('DefaultProviders', { accessLogging: list(str), metrics: list(str), tracing: list(str) }),
};
const meshConfigSchema = msg('MeshConfig', FIELDS);

/** What the schema check leaves of a provider: known, well-typed fields only. */
interface CheckedProvider {
  name?: string;
  envoyFileAccessLog?: { path?: string; logFormat?: { text?: string; labels?: Record<string, unknown> } };
}

interface CheckedMesh {
  accessLogFile?: string;
  accessLogEncoding?: 'TEXT' | 'JSON';
  accessLogFormat?: string;
  defaultProviders?: { accessLogging?: string[] };
}

function extensionProviders(raw: unknown, errs: ErrorList): ExtensionProvider[] {
  const out: ExtensionProvider[] = [];
  if (!Array.isArray(raw)) return out;
  const seen = new Set<string>();
  raw.forEach((item, i) => {
    if (item === null || item === undefined) return; // reported by the list check
    const path = joinPath('extensionProviders', i);
    const p = checkValue(item, provider, path, errs) as (CheckedProvider & Record<string, unknown>) | undefined;
    if (!p) return;
    const name = p.name;
    if (!name) errs.add(joinPath(path, 'name'), 'required');
    else if (seen.has(name)) errs.add(joinPath(path, 'name'), `duplicate provider name ${JSON.stringify(name)}`);
    else seen.add(name);
    const kinds = Object.keys(p).filter((k) => k !== 'name');
    if (kinds.length !== 1) {
      errs.add(path, `exactly one provider kind must be set, got ${kinds.length}`);
      return;
    }
    const kind = kinds[0] ?? '';
    if (p.envoyFileAccessLog) {
      const envoyFileAccessLog = fileAccessLog(p.envoyFileAccessLog, joinPath(path, kind), errs);
      if (name) out.push({ name, envoyFileAccessLog });
    } else if (name && ACCESS_LOG_SERVICES.has(kind)) {
      errs.warn(joinPath(path, kind), `gRPC/OpenTelemetry access log services are not supported by isthmus; Telemetry naming ${JSON.stringify(name)} logs nothing`);
    }
  });
  return out;
}

function fileAccessLog(f: NonNullable<CheckedProvider['envoyFileAccessLog']>, path: string, errs: ErrorList): EnvoyFileAccessLogProvider {
  const out: EnvoyFileAccessLogProvider = {};
  if (f.path) out.path = f.path;
  const lf = f.logFormat;
  if (!lf) return out;
  const lfPath = joinPath(path, 'logFormat');
  if (lf.text !== undefined && lf.labels !== undefined) errs.add(lfPath, 'only one of text or labels may be set');
  if (lf.labels) {
    for (const [k, v] of Object.entries(lf.labels)) {
      // A nested field would make the proxy reject the whole listener.
      if (typeof v === 'object') errs.add(joinPath(joinPath(lfPath, 'labels'), k), 'nested JSON access log formats are not supported');
    }
    out.logFormat = { labels: lf.labels };
  } else if (lf.text !== undefined) out.logFormat = { text: lf.text };
  return out;
}

/** Parses MeshConfig YAML; never throws. */
export function parseMeshConfig(text: string): MeshConfigResult {
  let doc: unknown;
  try {
    doc = parse(text) as unknown;
  } catch (e) {
    return { mesh: {}, errors: [`invalid YAML: ${e instanceof Error ? e.message : String(e)}`], warnings: [] };
  }
  const errs = new ErrorList();
  const mesh: MeshConfig = {};
  const done = (): MeshConfigResult => ({ mesh, errors: errs.items.map(formatError), warnings: errs.warnings.map(formatError) });
  if (doc === null || doc === undefined) return done();
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    errs.add('(document)', 'expected an object');
    return done();
  }
  const known: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) {
    if (Object.hasOwn(FIELDS, k)) known[k] = v;
    else errs.warn(joinPath('', k), 'not supported by isthmus, ignored');
  }
  const m = (checkValue(known, meshConfigSchema, '', errs) ?? {}) as CheckedMesh;
  if (m.accessLogFile !== undefined) mesh.accessLogFile = m.accessLogFile;
  if (m.accessLogEncoding !== undefined) mesh.accessLogEncoding = m.accessLogEncoding;
  if (m.accessLogFormat) mesh.accessLogFormat = m.accessLogFormat;
  const providers = extensionProviders(known.extensionProviders, errs);
  if (providers.length > 0) mesh.extensionProviders = providers;
  const al = m.defaultProviders?.accessLogging;
  if (al && al.length > 0) mesh.defaultProviders = { accessLogging: al };
  return done();
}

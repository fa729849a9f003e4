// Access log configs of HCM and tcp_proxy: the file logger (and stdout/stderr stream loggers) with a text or JSON format.
// https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/access_loggers/file/v3/file.proto
import { fromStruct } from '../../../xds/codec.js';
import type { AccessLogConfig } from '../types.js';
import type { DecodeContext, Problems, Rec } from './util.js';
import { at, dataSource, list, msg, rec, str, unpackAny } from './util.js';

const FILE = 'envoy.extensions.access_loggers.file.v3.FileAccessLog';
const STDOUT = 'envoy.extensions.access_loggers.stream.v3.StdoutAccessLog';
const STDERR = 'envoy.extensions.access_loggers.stream.v3.StderrAccessLog';

function jsonFormat(s: unknown, path: string, p: Problems): Record<string, string> | undefined {
  const obj = fromStruct(s);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else p.add(`${path}[${k}]`, 'nested JSON access log formats are not supported');
  }
  return out;
}

/** SubstitutionFormatString (log_format) into format / json. */
function logFormat(lf: Rec, path: string, p: Problems, ctx: DecodeContext, out: AccessLogConfig): void {
  const text = str(lf, 'text_format') ?? dataSource(msg(lf, 'text_format_source'), at(path, 'text_format_source'), p, ctx);
  if (text !== undefined) out.format = text;
  if (lf.json_format !== undefined) {
    const j = jsonFormat(lf.json_format, at(path, 'json_format'), p);
    if (j) out.json = j;
  }
  if (list(lf, 'formatters').length > 0) p.add(at(path, 'formatters'), 'formatter extensions are not supported');
}

/** A list of envoy.config.accesslog.v3.AccessLog. */
export function accessLogs(items: Rec[], path: string, p: Problems, ctx: DecodeContext): AccessLogConfig[] {
  const out: AccessLogConfig[] = [];
  items.forEach((al, i) => {
    const ap = `${path}[${i}]`;
    const tp = at(ap, 'typed_config');
    const a = unpackAny(rec(al.typed_config));
    if (!a) {
      p.add(tp, 'access log needs a typed_config');
      return;
    }
    if (a.error) {
      p.add(tp, a.error);
      return;
    }
    if (a.type === STDOUT || a.type === STDERR) {
      const cfg: AccessLogConfig = { path: a.type === STDOUT ? '/dev/stdout' : '/dev/stderr' };
      if (!a.fields) p.add(tp, `${a.type} with a log_format cannot be decoded (its proto is not loaded)`);
      else if (msg(a.fields, 'log_format')) logFormat(msg(a.fields, 'log_format') ?? {}, at(tp, 'log_format'), p, ctx, cfg);
      out.push(cfg);
      return;
    }
    if (a.type !== FILE || !a.fields) {
      p.add(tp, `unsupported access logger type ${a.type}`);
      return;
    }
    const f = a.fields;
    const file = str(f, 'path') ?? '';
    if (!file) {
      p.add(at(tp, 'path'), 'path is required');
      return;
    }
    const cfg: AccessLogConfig = { path: file };
    const legacy = str(f, 'format');
    if (legacy !== undefined) cfg.format = legacy;
    if (f.json_format !== undefined) {
      const j = jsonFormat(f.json_format, at(tp, 'json_format'), p);
      if (j) cfg.json = j;
    }
    if (f.typed_json_format !== undefined) {
      const j = jsonFormat(f.typed_json_format, at(tp, 'typed_json_format'), p);
      if (j) cfg.json = j;
    }
    const lf = msg(f, 'log_format');
    if (lf) logFormat(lf, at(tp, 'log_format'), p, ctx, cfg);
    out.push(cfg);
  });
  return out;
}

// Istio's security.istio.io rules: PeerAuthentication, AuthorizationPolicy, RequestAuthentication.
// https://istio.io/latest/docs/reference/config/security/
import { joinPath, type ErrorList } from '../errors.js';
import type { AuthorizationPolicy, Operation, PeerAuthentication, RequestAuthentication, Source } from '../types/security.js';
import { cidrError, checkDurationAtLeast, each } from './common.js';
import { checkPolicyScope, checkSelectorLabels, headerNameError } from './rules.js';

export function validatePeerAuthentication(raw: unknown, errs: ErrorList): void {
  const pa = raw as PeerAuthentication;
  const emptySelector = !pa.selector || Object.keys(pa.selector.matchLabels ?? {}).length === 0;
  const ports = Object.keys(pa.portLevelMtls ?? {});
  if (emptySelector && ports.length > 0) errs.add('spec.portLevelMtls', 'mesh/namespace peer authentication cannot have port level mTLS');
  if (pa.portLevelMtls !== undefined && ports.length === 0) errs.add('spec.portLevelMtls', 'port level mTLS, if defined, must have at least one element');
  for (const k of ports) {
    if (!/^[0-9]+$/.test(k) || Number(k) < 1 || Number(k) > 65535) errs.add(joinPath('spec.portLevelMtls', k), 'port must be in range 1..65535');
  }
  if (pa.selector) checkSelectorLabels(pa.selector.matchLabels ?? {}, 'spec.selector.matchLabels', errs, 'peer authentication');
}

const SOURCE_FIELDS = [
  'principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals', 'namespaces', 'notNamespaces', 'ipBlocks', 'notIpBlocks',
  'remoteIpBlocks', 'notRemoteIpBlocks', 'serviceAccounts', 'notServiceAccounts',
] as const satisfies readonly (keyof Source)[];
const OPERATION_FIELDS = ['hosts', 'notHosts', 'ports', 'notPorts', 'methods', 'notMethods', 'paths', 'notPaths'] as const satisfies readonly (keyof Operation)[];

function ipErrors(values: string[] | undefined, path: string, errs: ErrorList): void {
  each(values, path, (v, p) => {
    if (cidrError(v)) errs.add(p, v.includes('/') ? `bad CIDR range (${v})` : `bad IP address (${v})`);
  });
}

function portErrors(values: string[] | undefined, path: string, errs: ErrorList): void {
  each(values, path, (v, p) => {
    if (!/^[0-9]+$/.test(v) || Number(v) > 65535) errs.add(p, `bad port (${v}): must be a number in 0..65535`);
  });
}

/** Template paths must not use named variables, `*` or `**` outside `{*}`/`{**}` (Istio's CheckValidPathTemplate). */
function pathTemplateError(path: string): boolean {
  if (!path.includes('{*}') && !path.includes('{**}')) return false;
  return /\/{\w+=\*[*]?\}|{\w*\}|\/\*[*]?|\*[*]?\//.test(path);
}

const WHEN_PLAIN = new Set(['source.namespace', 'source.principal', 'request.auth.principal', 'request.auth.audiences', 'request.auth.presenter', 'connection.sni']);

function mapKeyOk(key: string): boolean {
  const open = key.indexOf('[');
  return key.endsWith(']') && open > 0 && open < key.length - 2;
}

/** Istio's ValidateAttribute for `when` conditions; returns an error text or undefined. */
export function attributeError(key: string, values: string[]): string | undefined {
  if (values.some((v) => v === '')) return `empty value not allowed, found in ${key}`;
  if (key.startsWith('request.headers') || key.startsWith('request.auth.claims') || key.startsWith('experimental.envoy.filters.')) {
    return mapKeyOk(key) ? undefined : `bad key (${key}): should have format a[b]`;
  }
  if (key === 'source.ip' || key === 'remote.ip' || key === 'destination.ip') {
    for (const v of values) {
      if (cidrError(v)) return v.includes('/') ? `bad CIDR range (${v})` : `bad IP address (${v})`;
    }
    return undefined;
  }
  if (key === 'destination.port') {
    const bad = values.find((v) => !/^[0-9]+$/.test(v) || Number(v) > 65535);
    return bad === undefined ? undefined : `bad port (${bad})`;
  }
  if (WHEN_PLAIN.has(key)) return undefined;
  if (key === 'destination.namespace') return `attribute ${key} is replaced by the metadata.namespace`;
  if (key.startsWith('destination.labels')) return `attribute ${key} is replaced by the workload selector`;
  if (key === 'destination.name' || key === 'destination.user') return `deprecated attribute ${key}: only supported in v1alpha1`;
  return `unknown attribute: ${key}`;
}

export function validateAuthorizationPolicy(raw: unknown, errs: ErrorList): void {
  const ap = raw as AuthorizationPolicy;
  checkPolicyScope(ap, errs, 'authorization policy');
  const action = ap.action ?? 'ALLOW';
  const rules = ap.rules ?? [];
  if (action === 'CUSTOM') {
    if (rules.length === 0) {
      errs.add('spec.rules', 'CUSTOM action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request');
    } else if (!ap.provider?.name) errs.add('spec.provider.name', '`provider.name` must not be empty');
    rules.forEach((r, i) => {
      r.from?.forEach((f, j) => {
        for (const k of ['namespaces', 'notNamespaces', 'principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals'] as const) {
          if ((f.source?.[k]?.length ?? 0) > 0) errs.add(`spec.rules[${i}].from[${j}].source.${k}`, `From.${k[0]?.toUpperCase()}${k.slice(1)} is currently not supported with CUSTOM action`);
        }
      });
      r.when?.forEach((c, j) => {
        if (c.key === 'source.namespace' || c.key === 'source.principal' || c.key?.startsWith('request.auth.')) {
          errs.add(`spec.rules[${i}].when[${j}].key`, `${c.key} is currently not supported with CUSTOM action`);
        }
      });
    });
  }
  if (ap.provider && action !== 'CUSTOM') errs.add('spec.provider', `\`provider\` must not be with non CUSTOM action, found ${action}`);
  if (action === 'DENY' && rules.length === 0) {
    errs.add('spec.rules', 'DENY action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request');
  }
  rules.forEach((rule, i) => {
    const rp = `spec.rules[${i}]`;
    let tcpFrom = false;
    let tcpTo = false;
    let fromExists = false;
    let toExists = false;
    each(rule.from, joinPath(rp, 'from'), (f, fp) => {
      if (!f.source) {
        errs.add(joinPath(fp, 'source'), `\`from.source\` must not be nil, found at rule ${i}`);
        return;
      }
      fromExists = true;
      const src = f.source;
      const sp = joinPath(fp, 'source');
      if (SOURCE_FIELDS.every((k) => (src[k]?.length ?? 0) === 0)) errs.add(sp, `\`from.source\` must not be empty, found at rule ${i}`);
      for (const k of ['ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'] as const) ipErrors(src[k], joinPath(sp, k), errs);
      for (const k of SOURCE_FIELDS) {
        src[k]?.forEach((v, vi) => {
          if (v === '') errs.add(joinPath(joinPath(sp, k), vi), `empty value not allowed, found in ${k[0]?.toUpperCase()}${k.slice(1)}`);
        });
      }
      if (['principals', 'notPrincipals', 'ipBlocks', 'notIpBlocks', 'namespaces', 'notNamespaces', 'remoteIpBlocks', 'notRemoteIpBlocks', 'serviceAccounts', 'notServiceAccounts'].some((k) => src[k as keyof Source] !== undefined)) tcpFrom = true;
      if ((src.serviceAccounts?.length ?? 0) > 0 && (src.principals?.length ?? 0) > 0) errs.add(sp, 'cannot set serviceAccounts and principals together');
      if ((src.notServiceAccounts?.length ?? 0) > 0 && (src.notPrincipals?.length ?? 0) > 0) errs.add(sp, 'cannot set notServiceAccounts and notPrincipals together');
    });
    each(rule.to, joinPath(rp, 'to'), (t, tp) => {
      if (!t.operation) {
        errs.add(joinPath(tp, 'operation'), `\`to.operation\` must not be nil, found at rule ${i}`);
        return;
      }
      toExists = true;
      const op = t.operation;
      const op_ = joinPath(tp, 'operation');
      if (OPERATION_FIELDS.every((k) => (op[k]?.length ?? 0) === 0)) errs.add(op_, `\`to.operation\` must not be empty, found at rule ${i}`);
      portErrors(op.ports, joinPath(op_, 'ports'), errs);
      portErrors(op.notPorts, joinPath(op_, 'notPorts'), errs);
      for (const k of OPERATION_FIELDS) {
        op[k]?.forEach((v, vi) => {
          if (v === '') errs.add(joinPath(joinPath(op_, k), vi), `empty value not allowed, found in ${k[0]?.toUpperCase()}${k.slice(1)}`);
        });
      }
      for (const k of ['paths', 'notPaths'] as const) {
        op[k]?.forEach((v, vi) => {
          if (pathTemplateError(v)) errs.add(joinPath(joinPath(op_, k), vi), `invalid or unsupported path template, found in ${k[0]?.toUpperCase()}${k.slice(1)}`);
        });
      }
      if (op.ports !== undefined || op.notPorts !== undefined) tcpTo = true;
    });
    each(rule.when, joinPath(rp, 'when'), (c, cp) => {
      if (c.key === undefined) return; // reported by the schema (required)
      if (c.key === '') {
        errs.add(joinPath(cp, 'key'), '`key` must not be empty');
        return;
      }
      if ((c.values?.length ?? 0) === 0 && (c.notValues?.length ?? 0) === 0) {
        errs.add(cp, `at least one of \`values\` or \`notValues\` must be set for key ${c.key}`);
        return;
      }
      const ve = attributeError(c.key, c.values ?? []);
      if (ve) errs.add(joinPath(cp, c.values?.length ? 'values' : 'key'), `invalid \`value\` for \`key\` ${c.key}: ${ve}`);
      const ne = attributeError(c.key, c.notValues ?? []);
      if (ne && ne !== ve) errs.add(joinPath(cp, 'notValues'), `invalid \`notValue\` for \`key\` ${c.key}: ${ne}`);
    });
    if (((fromExists && !toExists && !tcpFrom) || (toExists && !tcpTo)) && action === 'DENY') {
      errs.warn(rp, 'configured AuthorizationPolicy will deny all traffic to TCP ports under its scope due to the use of only HTTP attributes in a DENY rule; it is recommended to explicitly specify the port');
    }
  });
}

function jwksUriError(uri: string): string | undefined {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return `invalid jwksUri ${JSON.stringify(uri)}`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `URI scheme ${JSON.stringify(u.protocol.replace(/:$/, ''))} is not supported`;
  return undefined;
}

function jwksError(jwks: string): string | undefined {
  let v: unknown;
  try {
    v = JSON.parse(jwks);
  } catch (e) {
    return `jwks parse error: ${e instanceof Error ? e.message : String(e)}`;
  }
  if (typeof v !== 'object' || v === null) return 'jwks parse error: expected a JSON object';
  const keys = (v as { keys?: unknown }).keys;
  const list = Array.isArray(keys) ? keys : [v];
  for (const k of list) {
    if (typeof k !== 'object' || k === null || typeof (k as { kty?: unknown }).kty !== 'string') return 'jwks parse error: every key needs a "kty"';
  }
  return undefined;
}

export function validateRequestAuthentication(raw: unknown, errs: ErrorList): void {
  const ra = raw as RequestAuthentication;
  checkPolicyScope(ra, errs, 'request authentication');
  each(ra.jwtRules, 'spec.jwtRules', (r, p) => {
    if (r.issuer === '') errs.add(joinPath(p, 'issuer'), 'issuer must be set');
    each(r.audiences, joinPath(p, 'audiences'), (a, ap) => {
      if (a === '') errs.add(ap, 'audience must be non-empty string');
    });
    if (r.jwksUri) {
      const e = jwksUriError(r.jwksUri);
      if (e) errs.add(joinPath(p, 'jwksUri'), e);
    }
    if (r.jwks) {
      const e = jwksError(r.jwks);
      if (e) errs.add(joinPath(p, 'jwks'), e);
    }
    if (r.jwks && r.jwksUri) errs.warn(p, 'both jwks and jwksUri are set; jwks is used and jwksUri is ignored');
    each(r.fromHeaders, joinPath(p, 'fromHeaders'), (h, hp) => {
      if (h.name === '') errs.add(joinPath(hp, 'name'), 'location header name must be non-empty string');
    });
    each(r.fromParams, joinPath(p, 'fromParams'), (v, vp) => {
      if (v === '') errs.add(vp, 'location query must be non-empty string');
    });
    each(r.fromCookies, joinPath(p, 'fromCookies'), (v, vp) => {
      if (v === '') errs.add(vp, 'cookie name must be non-empty string');
    });
    each(r.outputClaimToHeaders, joinPath(p, 'outputClaimToHeaders'), (c, cp) => {
      if (c.claim === '' || c.header === '') {
        errs.add(cp, 'outputClaimToHeaders header and claim value must be non-empty string');
        return;
      }
      const e = headerNameError(c.header);
      if (e) errs.add(joinPath(cp, 'header'), e);
    });
    if (r.outputPayloadToHeader !== undefined && r.outputPayloadToHeader !== '') {
      const e = headerNameError(r.outputPayloadToHeader);
      if (e) errs.add(joinPath(p, 'outputPayloadToHeader'), e);
    }
    checkDurationAtLeast(r.timeout, 1, joinPath(p, 'timeout'), errs);
  });
}

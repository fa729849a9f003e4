// Istio's reusable field rules: labels, selectors, targetRefs, exportTo, protocols, header names and values,
// gateway names, `namespace/host` entries and host matching (pkg/config/validation, pkg/config/host in Istio).
import { joinPath, type ErrorList } from '../errors.js';
import type { PolicyTargetReference } from '../types/networking.js';
import { isDNS1123Subdomain, isIPAddress, isIstioLabel as isDNS1123Label, wildcardDomainError, fqdnError } from './common.js';

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Kubernetes label key: `[prefix/]name`. */
export function isLabelKey(k: string): boolean {
  const parts = k.split('/');
  if (parts.length > 2) return false;
  const name = parts[parts.length - 1];
  if (parts.length === 2 && !isDNS1123Subdomain(parts[0])) return false;
  return name.length <= 63 && QUALIFIED_NAME.test(name);
}

export function isLabelValue(v: string): boolean {
  return v.length <= 63 && LABEL_VALUE.test(v);
}

/** Istio's labels.Instance.Validate. */
export function checkLabels(labels: Record<string, string> | undefined, path: string, errs: ErrorList): void {
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (!isLabelKey(k)) errs.add(joinPath(path, k), `invalid tag key: ${JSON.stringify(k)}`);
    if (!isLabelValue(v)) errs.add(joinPath(path, k), `invalid tag value: ${JSON.stringify(v)}`);
  }
}

/** Selector labels: no empty keys, no wildcards; an empty selector is a warning (it selects every workload). */
export function checkSelectorLabels(labels: Record<string, string> | undefined, path: string, errs: ErrorList, what: string): void {
  if (labels === undefined) return;
  for (const [k, v] of Object.entries(labels)) {
    if (k === '') errs.add(path, `empty key is not supported in selector: "${k}=${v}"`);
    if (k.includes('*') || v.includes('*')) errs.add(joinPath(path, k), `wildcard is not supported in selector: "${k}=${v}"`);
  }
  checkLabels(labels, path, errs);
  if (Object.keys(labels).length === 0) errs.warn(path, `workload selector specified without labels; ${what} applies to all workloads in the namespace`);
}

const TARGET_KINDS: readonly { group: string; kind: string }[] = [
  { group: '', kind: 'Service' },
  { group: 'networking.istio.io', kind: 'ServiceEntry' },
  { group: 'gateway.networking.k8s.io', kind: 'Gateway' },
];

export function checkTargetRef(ref: PolicyTargetReference | undefined, path: string, errs: ErrorList): void {
  if (!ref) return;
  if (ref.name === '') errs.add(joinPath(path, 'name'), 'targetRef name must be set');
  if (ref.namespace) errs.add(joinPath(path, 'namespace'), 'targetRef namespace must not be set; cross namespace referencing is not supported');
  const group = ref.group === 'core' ? '' : (ref.group ?? '');
  if (ref.kind !== undefined && !TARGET_KINDS.some((t) => t.group === group && t.kind === ref.kind)) {
    errs.add(path, `targetRef must be to one of Service, networking.istio.io/ServiceEntry, gateway.networking.k8s.io/Gateway but was ${group}/${ref.kind}`);
  }
}

/** selector / targetRef / targetRefs of security and telemetry policies: at most one, each well-formed. */
export function checkPolicyScope(
  spec: { selector?: { matchLabels?: Record<string, string> }; targetRef?: PolicyTargetReference; targetRefs?: PolicyTargetReference[] },
  errs: ErrorList,
  what: string,
): void {
  const set = [spec.selector !== undefined, spec.targetRef !== undefined, (spec.targetRefs?.length ?? 0) > 0].filter(Boolean).length;
  if (set > 1) errs.add('spec', 'only one of targetRefs or workloadSelector can be set');
  if (spec.selector) checkSelectorLabels(spec.selector.matchLabels ?? {}, 'spec.selector.matchLabels', errs, what);
  checkTargetRef(spec.targetRef, 'spec.targetRef', errs);
  spec.targetRefs?.forEach((r, i) => checkTargetRef(r, `spec.targetRefs[${i}]`, errs));
}

/** Istio's validateExportTo. */
export function checkExportTo(namespace: string, exportTo: string[] | undefined, path: string, errs: ErrorList, opts: { serviceEntry?: boolean; drWithSelector?: boolean } = {}): void {
  if (!exportTo || exportTo.length === 0) return;
  const seen = new Set<string>();
  exportTo.forEach((e, i) => {
    const key = e === '.' ? namespace : e;
    const p = joinPath(path, i);
    if (seen.has(key)) {
      errs.add(p, key !== e ? `duplicate entries in exportTo: . and current namespace ${namespace}` : `duplicate entries in exportTo for entry ${e}`);
      return;
    }
    if (e === '~' && opts.serviceEntry) {
      seen.add(key);
      return;
    }
    if (key !== '*' && !isDNS1123Label(key)) {
      errs.add(p, `only . or * or valid DNS 1123 label is allowed as exportTo entry, got ${JSON.stringify(e)}`);
      return;
    }
    seen.add(key);
  });
  if (opts.drWithSelector && seen.size > 0) {
    if (!seen.has(namespace)) errs.add(path, 'destination rule with workload selector cannot have exportTo beyond current namespace');
    else if (seen.size > 1) errs.add(path, 'destination rule with workload selector cannot have multiple entries in exportTo');
  }
  if (seen.has('*') && exportTo.length > 1) errs.add(path, 'cannot have both public (*) and non-public exportTo values for a resource');
  if (seen.has('~') && exportTo.length > 1) errs.add(path, 'cannot export service entry to no one (~) and someone');
}

/** Protocol names Istio knows (protocol.Parse, case-insensitive). */
export const PROTOCOLS = ['HTTP', 'HTTP2', 'HTTPS', 'GRPC', 'GRPC-WEB', 'TLS', 'TCP', 'UDP', 'MONGO', 'REDIS', 'MYSQL', 'HTTP_PROXY'] as const;

export function parseProtocol(p: string | undefined): string | undefined {
  const u = (p ?? '').toUpperCase();
  return (PROTOCOLS as readonly string[]).includes(u) ? u : undefined;
}
export function isHTTPProtocol(p: string | undefined): boolean {
  return ['HTTP', 'HTTP2', 'GRPC', 'GRPC-WEB', 'HTTP_PROXY'].includes(parseProtocol(p) ?? '');
}
export function isTLSProtocol(p: string | undefined): boolean {
  return ['HTTPS', 'TLS'].includes(parseProtocol(p) ?? '');
}

/** An empty protocol means "sniff"; anything else must be known. */
export function checkProtocol(p: string | undefined, path: string, errs: ErrorList): void {
  if (p !== undefined && p !== '' && !parseProtocol(p)) errs.add(path, `unsupported protocol: ${p}`);
}

export function checkPortName(name: string | undefined, path: string, errs: ErrorList): void {
  if (name !== undefined && !isDNS1123Label(name)) errs.add(path, `invalid port name: ${name}`);
}

const HEADER_NAME = /^[-_A-Za-z0-9]+$/;

/** Header names in matches (`@request.auth.claims.x` / `[x]` is JWT claim routing). */
export function headerNameError(name: string, allowClaims = false): string | undefined {
  if (name === '') return 'header name cannot be empty';
  if (allowClaims && isClaimRoute(name)) return undefined;
  if (!HEADER_NAME.test(name)) return `header name ${name} is not a valid header name`;
  return undefined;
}

export function isClaimRoute(name: string): boolean {
  return /^@request\.auth\.claims(\.[^.[\]]+)+$/.test(name) || /^@request\.auth\.claims(\[[^\]]+\])+$/.test(name);
}

/** Header names in request add/set (authority may be rewritten there, other pseudo headers not). */
export function headerSetNameError(name: string): string | undefined {
  if (name === '') return 'header name cannot be empty';
  const lower = name.toLowerCase();
  if ((name.startsWith(':') || lower === 'host') && lower !== ':authority' && lower !== 'host') return `invalid header ${JSON.stringify(name)}: header cannot have ":" prefix`;
  return undefined;
}

/** Header names in request remove and any response operation. */
export function headerOperationNameError(name: string): string | undefined {
  if (name === '') return 'header name cannot be empty';
  if (name.toLowerCase() === 'host') return `invalid header ${JSON.stringify(name)}: cannot set Host header`;
  if (name.startsWith(':')) return `invalid header ${JSON.stringify(name)}: header cannot have ":" prefix`;
  return undefined;
}

/** Envoy header value format: no control characters; `%` starts a `%VAR%` expression or is escaped as `%%`. */
export function headerValueError(value: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000A-\u001F\u007F]/.test(value)) return `header value configuration ${JSON.stringify(value)} is invalid: control characters are not allowed`;
  for (let i = 0; i < value.length; i++) {
    if (value[i] !== '%') continue;
    if (value[i + 1] === '%') {
      i++;
      continue;
    }
    const end = value.indexOf('%', i + 1);
    if (end < 0) return `header value configuration ${JSON.stringify(value)} is invalid: unterminated variable expression (write %% for a literal %)`;
    const name = value.slice(i + 1, end);
    if (!/^[A-Z][A-Z0-9_]*(\(.*\))?(:[0-9]+)?$/.test(name)) return `header value configuration ${JSON.stringify(value)} is invalid: bad variable %${name}%`;
    i = end;
  }
  return undefined;
}

/** VirtualService `gateways` entries: `ns/name`, `mesh`, or a legacy `name.ns` FQDN (warned). */
export function checkGatewayNames(names: string[] | undefined, path: string, errs: ErrorList): void {
  names?.forEach((g, i) => {
    const p = joinPath(path, i);
    const slash = g.indexOf('/');
    if (slash < 0) {
      if (g.includes('.')) {
        const parts = g.split('.');
        errs.warn(p, `using legacy gatewayName format ${JSON.stringify(g)}; prefer the <namespace>/<name> format: "${parts[1]}/${parts[0]}"`);
      }
      const e = fqdnError(g);
      if (e) errs.add(p, e);
      return;
    }
    const ns = g.slice(0, slash);
    const name = g.slice(slash + 1);
    if (ns === '' || name === '') errs.add(p, 'config namespace and gateway name cannot be empty');
    if (!isDNS1123Label(ns)) errs.add(p, `invalid value for namespace: ${JSON.stringify(ns)}`);
    if (!isDNS1123Label(name)) errs.add(p, `invalid value for gateway name: ${JSON.stringify(name)}`);
  });
}

function partialWildcardError(host: string): string | undefined {
  if (host.includes('*') && host.length !== 1 && !host.startsWith('*.')) return `partial wildcard ${JSON.stringify(host)} not allowed`;
  return undefined;
}

/** Sidecar egress hosts and Gateway server hosts: `namespace/dnsName` (Gateway also accepts a bare host or IP). */
export function namespaceHostErrors(hostname: string, isGateway: boolean): string[] {
  const out: string[] = [];
  const slash = hostname.indexOf('/');
  let host = hostname;
  if (slash < 0) {
    if (!isGateway) return ['host must be of form namespace/dnsName'];
  } else {
    const ns = hostname.slice(0, slash);
    host = hostname.slice(slash + 1);
    if (ns === '' || host === '') out.push('config namespace and dnsName in host entry cannot be empty');
    if (ns !== '*' && ns !== '.' && (isGateway || ns !== '~') && !isDNS1123Label(ns)) {
      out.push(`invalid namespace value ${JSON.stringify(ns)} in ${isGateway ? 'gateway' : 'sidecar'}`);
    }
  }
  if (host !== '*' && !host.includes('.')) out.push('short names (non FQDN) are not allowed');
  const e = wildcardDomainError(host);
  if (e && !(isGateway && isIPAddress(host))) out.push(e);
  const pw = partialWildcardError(host);
  if (pw) out.push(pw);
  return out;
}

/** Istio's host.Name.Matches: the two (possibly wildcard) hosts overlap. */
export function hostsMatch(a: string, b: string): boolean {
  const aw = a.startsWith('*');
  const bw = b.startsWith('*');
  if (aw && bw) return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
  if (aw) return b.endsWith(a.slice(1));
  if (bw) return a.endsWith(b.slice(1));
  return a === b;
}

/** Istio's host.Name.SubsetOf: every name `a` matches is matched by `b`. */
export function hostSubsetOf(a: string, b: string): boolean {
  if (a.startsWith('*')) return b.startsWith('*') && a.slice(1).endsWith(b.slice(1));
  if (b.startsWith('*')) return a.endsWith(b.slice(1));
  return a === b;
}

/** `unix:///path` or `unix://@abstract`. */
export function unixAddressError(addr: string): string | undefined {
  if (addr.length === 0) return 'unix address must not be empty';
  if (addr.startsWith('@')) return undefined;
  if (!addr.startsWith('/') || addr.endsWith('/')) return `${addr} is not an absolute path to a file`;
  return undefined;
}

export const UNIX_PREFIX = 'unix://';

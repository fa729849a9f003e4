// Host names, exportTo visibility, label selectors and port protocols, with Istio's rules.
import type { Protocol } from '../model/types.js';

/**
 * Expands a short host to an FQDN: a host without dots (`reviews`) in namespace `default` becomes
 * `reviews.default.svc.cluster.local`; hosts with dots, `*` and IP-like hosts are taken as written.
 * (Istio's ResolveShortnameToFQDN; a leading `*.` wildcard keeps its dots so it is never expanded.)
 */
export function expandHost(host: string, namespace: string, domainSuffix: string): string {
  if (host === '' || host === '*' || host.includes('.') || host.includes(':')) return host;
  return `${host}.${namespace}.svc.${domainSuffix}`;
}

/** True when `host` (possibly `*.example.com` or `*`) matches the concrete or wildcard `other` (Istio host.Name.Matches). */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  if (pattern === '*') return true;
  if (pattern.startsWith('*')) {
    const suffix = pattern.slice(1); // ".example.com"
    if (host.startsWith('*')) return host.slice(1).endsWith(suffix);
    return host.endsWith(suffix) && host.length > suffix.length;
  }
  return false;
}

/** Either matches the other (Istio host.Name.SubsetOf in both directions, as Sidecar egress uses it). */
export function hostsOverlap(a: string, b: string): boolean {
  return hostMatches(a, b) || hostMatches(b, a);
}

/** exportTo list → set: '.' becomes the own namespace, '*' stays, '~' yields an empty set; default is '*'. */
export function exportToSet(exportTo: readonly string[] | undefined, namespace: string): ReadonlySet<string> {
  if (!exportTo || exportTo.length === 0) return new Set(['*']);
  const s = new Set<string>();
  for (const e of exportTo) {
    if (e === '~') continue;
    s.add(e === '.' ? namespace : e);
  }
  return s;
}

/**
 * Visibility of a resource declared in `ownNamespace` with `exportTo` (from exportToSet) from `namespace`:
 * "*" exports everywhere, an empty set (exportTo "~") nowhere, "." (expanded) to the own namespace.
 */
export function isVisible(exportTo: ReadonlySet<string>, _ownNamespace: string, namespace: string): boolean {
  if (exportTo.size === 0) return false;
  // As istiod: the own namespace sees it only through "." (already expanded to it), never implicitly.
  return exportTo.has('*') || exportTo.has(namespace);
}

/** Label selector: every selector label present with the same value (an empty selector matches everything). */
export function selectorMatches(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

const PROTOCOLS: Record<string, Protocol> = {
  http: 'HTTP',
  http2: 'HTTP2',
  https: 'HTTPS',
  grpc: 'GRPC',
  'grpc-web': 'GRPC-WEB',
  tls: 'TLS',
  tcp: 'TCP',
  mongo: 'MONGO',
  redis: 'REDIS',
  mysql: 'MYSQL',
  udp: 'UDP',
  http_proxy: 'HTTP_PROXY',
};

/** Istio's protocol.Parse: case-insensitive, unknown → UNSUPPORTED (treated as "detect or TCP" by generators). */
export function parseProtocol(s: string): Protocol {
  return PROTOCOLS[s.toLowerCase()] ?? 'UNSUPPORTED';
}

/**
 * The protocol of a port: the declared protocol when given, otherwise inferred from the port name prefix as Istio does
 * for Kubernetes services (`http-foo` → HTTP, `grpc-web-x` → GRPC-WEB, `tcp` → TCP; anything else UNSUPPORTED).
 */
export function portProtocol(name: string, declared: string | undefined): Protocol {
  if (declared) return parseProtocol(declared);
  const n = name.toLowerCase();
  if (n === 'grpc-web' || n.startsWith('grpc-web-')) return 'GRPC-WEB';
  const dash = n.indexOf('-');
  return parseProtocol(dash < 0 ? n : n.slice(0, dash));
}

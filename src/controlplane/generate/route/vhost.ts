// Virtual host domains of a service as a client proxy sees it: FQDN, the short forms valid from the proxy's namespace
// and the service VIPs, each with and without the port (Istio's generateVirtualHostDomains / GenerateAltVirtualHosts).
import type { Proxy, Service } from '../../model/types.js';
import { domainName } from './util.js';

function withPort(host: string, port: number | undefined): string[] {
  return port === undefined ? [host] : [host, domainName(host, port)];
}

/** Kubernetes-style service host seen from a proxy in `proxyDomain` (`ns.svc.cluster.local`). */
function kubeAltHosts(hostname: string, port: number | undefined, proxyDomain: string): string[] {
  const id = proxyDomain.indexOf('.svc.');
  const ih = hostname.indexOf('.svc.');
  if (ih <= 0) return [];
  const ns = hostname.indexOf('.');
  if (ns + 1 >= hostname.length || ns + 1 > ih) return [];
  const name = hostname.slice(0, ns); // reviews
  const nameNs = hostname.slice(0, ih); // reviews.default
  if (hostname.slice(ns + 1, ih) === proxyDomain.slice(0, id)) {
    return [...withPort(name, port), ...withPort(`${nameNs}.svc`, port), ...withPort(nameNs, port)];
  }
  return [...withPort(nameNs, port), ...withPort(`${nameNs}.svc`, port)];
}

/** Non-Kubernetes domains: the unique part of the name and `unique.firstSharedLabel` (getUniqueAndSharedDNSDomain). */
function sharedSuffixAltHosts(hostname: string, port: number | undefined, proxyDomain: string): string[] {
  const h = hostname.split('.').reverse();
  const p = proxyDomain.split('.').reverse();
  let shared = 0;
  while (shared < Math.min(h.length, p.length) && h[shared] === p[shared]) shared++;
  if (shared === 0) return [];
  const unique = h.slice(shared).reverse();
  const sharedParts = h.slice(0, shared).reverse();
  if (unique.length === 0) return [];
  const out = withPort(unique.join('.'), port);
  if (unique.length === 2) out.push(...withPort(`${unique.join('.')}.${sharedParts[0]}`, port));
  return out;
}

/** Alternative names of `hostname` valid from a proxy in DNS domain `proxyDomain` (GenerateAltVirtualHosts). */
export function altVirtualHosts(hostname: string, port: number | undefined, proxyDomain: string): string[] {
  if (proxyDomain.includes('.svc.')) {
    const svcSuffix = proxyDomain.slice(proxyDomain.indexOf('.svc.'));
    return hostname.endsWith(svcSuffix) ? kubeAltHosts(hostname, port, proxyDomain) : [];
  }
  return sharedSuffixAltHosts(hostname, port, proxyDomain);
}

/**
 * Domains of a service's virtual host: FQDN, short forms and VIPs, with and without `:port` (`port` undefined → without).
 * Returns the domains and the generated alternative hosts (used to drop expansions that collide with real FQDNs).
 */
export function serviceDomains(svc: Service, port: number | undefined, proxy: Proxy): { domains: string[]; altHosts: string[] } {
  const alt = altVirtualHosts(svc.hostname, port, proxy.dnsDomain);
  const domains = [...withPort(svc.hostname, port), ...alt];
  for (const a of svc.addresses) {
    if (a && a !== '0.0.0.0' && !a.includes('/')) domains.push(...withPort(a, port));
  }
  return { domains, altHosts: alt };
}

/**
 * Removes domains already used by an earlier virtual host (case-insensitive), and expanded short names that collide
 * with a known FQDN (dedupeDomains). `used` is updated.
 */
export function dedupeDomains(domains: string[], used: Set<string>, altHosts: readonly string[], knownFQDN: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const d of domains) {
    const lower = d.toLowerCase();
    if (used.has(lower)) continue;
    if (altHosts.includes(d) && knownFQDN.has(d)) continue;
    out.push(d);
    used.add(lower);
  }
  return out;
}

// Istio's DestinationRule rules: host, subsets, traffic policies (load balancer, connection pool, outlier detection,
// TLS, port-level settings, tunnel), exportTo and workload selector.
// https://istio.io/latest/docs/reference/config/networking/destination-rule/
import { joinPath, sub, type ErrorList } from '../errors.js';
import type {
  ClientTLSSettings, ConnectionPoolSettings, DestinationRule, LoadBalancerSettings, LocalityLoadBalancerSetting, OutlierDetection, PortTrafficPolicy, TrafficPolicy,
} from '../types/networking.js';
import { checkDurationAtLeast, checkPort, each, fqdnError, isIPAddress, isIstioLabel, wildcardDomainError, type ValidateContext } from './common.js';
import { checkExportTo, checkLabels, checkSelectorLabels } from './rules.js';

const D = checkDurationAtLeast;

export function checkConnectionPool(cp: ConnectionPoolSettings | undefined, path: string, errs: ErrorList): void {
  if (!cp) return;
  if (!cp.http && !cp.tcp) errs.add(path, 'connection pool must have at least one field');
  const h = cp.http;
  if (h) {
    const p = joinPath(path, 'http');
    const neg: [keyof typeof h, string][] = [
      ['http1MaxPendingRequests', 'http1 max pending requests'],
      ['http2MaxRequests', 'http2 max requests'],
      ['maxRequestsPerConnection', 'max requests per connection'],
      ['maxRetries', 'max retries'],
      ['maxConcurrentStreams', 'max concurrent streams'],
    ];
    for (const [f, what] of neg) {
      const v = h[f];
      if (typeof v === 'number' && v < 0) errs.add(joinPath(p, f), `${what} must be non-negative`);
    }
    D(h.idleTimeout, 1, joinPath(p, 'idleTimeout'), errs);
    if (h.h2UpgradePolicy === 'UPGRADE' && h.useClientProtocol) errs.add(p, 'use client protocol must not be true when H2UpgradePolicy is UPGRADE');
  }
  const t = cp.tcp;
  if (t) {
    const p = joinPath(path, 'tcp');
    if (t.maxConnections !== undefined && t.maxConnections < 0) errs.add(joinPath(p, 'maxConnections'), 'max connections must be non-negative');
    D(t.connectTimeout, 1, joinPath(p, 'connectTimeout'), errs);
    D(t.maxConnectionDuration, 1, joinPath(p, 'maxConnectionDuration'), errs);
    D(t.idleTimeout, 1, joinPath(p, 'idleTimeout'), errs);
    D(t.tcpKeepalive?.time, 1, sub(p, 'tcpKeepalive.time'), errs);
    D(t.tcpKeepalive?.interval, 1, sub(p, 'tcpKeepalive.interval'), errs);
  }
}

function checkOutlier(o: OutlierDetection | undefined, path: string, errs: ErrorList): void {
  if (!o) return;
  D(o.baseEjectionTime, 1, joinPath(path, 'baseEjectionTime'), errs);
  D(o.interval, 1, joinPath(path, 'interval'), errs);
  if (!o.splitExternalLocalOriginErrors && (o.consecutiveLocalOriginFailures ?? 0) > 0) {
    errs.add(joinPath(path, 'consecutiveLocalOriginFailures'), 'outlier detection consecutive local origin failures is specified, but split external local origin errors is set to false');
  }
  for (const f of ['maxEjectionPercent', 'minHealthPercent'] as const) {
    const v = o[f];
    if (v !== undefined && (v < 0 || v > 100)) errs.add(joinPath(path, f), `percentage ${v} is not in range 0..100`);
  }
}

function isPrime(x: number): boolean {
  if (x !== 0 && x < 4) return true;
  if (x % 2 === 0) return false;
  for (let f = 3; f * f <= x; f += 2) if (x % f === 0) return false;
  return true;
}

function localityError(localities: string[]): string | undefined {
  const seen: string[] = [];
  for (const l of localities) {
    const stars = l.split('*').length - 1;
    if (stars > 1 || (stars === 1 && !l.endsWith('*'))) return `locality ${l} wildcard '*' number can not exceed 1 and must be in the end`;
    if (l.split('/').some((p) => p === '')) return `locality ${l} must not contain empty region/zone/subzone info`;
    const norm = l.endsWith('*') ? l.slice(0, -1) : l;
    for (const s of seen) {
      const sn = s.endsWith('*') ? s.slice(0, -1) : s;
      const cover = (a: string, b: string): boolean => a === '' || b === a || b.startsWith(a.endsWith('/') ? a : `${a}/`);
      if (cover(sn, norm) || cover(norm, sn)) return `locality ${l} overlap with previous specified ones`;
    }
    seen.push(l);
  }
  return undefined;
}

function checkLocalityLb(lb: LocalityLoadBalancerSetting | undefined, outlier: OutlierDetection | undefined, path: string, errs: ErrorList): void {
  if (!lb) return;
  const distribute = lb.distribute ?? [];
  const failover = lb.failover ?? [];
  if (distribute.length > 0 && failover.length > 0) {
    errs.add(path, "can not simultaneously specify 'distribute' and 'failover'");
    return;
  }
  const topo = ['topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'topology.istio.io/subzone'];
  if (failover.length > 0) {
    const bad = (lb.failoverPriority ?? []).find((l) => topo.includes(l));
    if (bad) errs.add(joinPath(path, 'failoverPriority'), `can not simultaneously set 'failover' and topology label '${bad}' in 'failover_priority'`);
  }
  each(distribute, joinPath(path, 'distribute'), (d, p) => {
    let total = 0;
    for (const [loc, w] of Object.entries(d.to ?? {})) {
      if (w <= 0 || w > 100) errs.add(joinPath(joinPath(p, 'to'), loc), 'locality weight must be in range [1, 100]');
      total += w;
    }
    if (total !== 100) errs.add(joinPath(p, 'to'), `total locality weight ${total} != 100`);
    const e = localityError(Object.keys(d.to ?? {}));
    if (e) errs.add(joinPath(p, 'to'), e);
  });
  const e = localityError(distribute.map((d) => d.from ?? ''));
  if (e) errs.add(joinPath(path, 'distribute'), e);
  if ((failover.length > 0 || (lb.failoverPriority?.length ?? 0) > 0) && !outlier) errs.warn(path, 'outlier detection policy must be provided for failover');
  each(failover, joinPath(path, 'failover'), (f, p) => {
    if (f.from === f.to) errs.add(p, 'locality lb failover settings must specify different regions');
    if (f.from?.includes('/') || f.to?.includes('/')) errs.add(p, 'locality lb failover only specify region');
    if (f.from?.includes('*') || f.to?.includes('*')) errs.add(p, "locality lb failover region should not contain '*' wildcard");
  });
}

function checkLoadBalancer(lb: LoadBalancerSettings | undefined, outlier: OutlierDetection | undefined, path: string, errs: ErrorList): void {
  if (!lb) return;
  const ch = lb.consistentHash;
  if (ch) {
    const p = joinPath(path, 'consistentHash');
    if (ch.httpCookie && ch.httpCookie.name === '') errs.add(sub(p, 'httpCookie.name'), 'name required for HttpCookie');
    if (ch.minimumRingSize !== undefined && ch.minimumRingSize !== 0 && (ch.ringHash || ch.maglev)) errs.add(p, 'only one of MinimumRingSize or Maglev/Ringhash can be specified');
    if (ch.maglev) {
      const ts = ch.maglev.tableSize ?? 0;
      const mp = sub(p, 'maglev.tableSize');
      if (ts === 0) errs.add(mp, 'tableSize must be set for maglev');
      else if (ts >= 5000011) errs.add(mp, 'tableSize must be less than 5000011 for maglev');
      else if (!isPrime(ts)) errs.add(mp, 'tableSize must be a prime number for maglev');
    }
    D(ch.httpCookie?.ttl, 0, sub(p, 'httpCookie.ttl'), errs);
    if (ch.httpHeaderName === undefined && ch.httpCookie === undefined && ch.useSourceIp === undefined && ch.httpQueryParameterName === undefined) {
      errs.warn(p, 'consistentHash sets none of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName: requests hash randomly');
    }
  }
  checkLocalityLb(lb.localityLbSetting, outlier, joinPath(path, 'localityLbSetting'), errs);
  D(lb.warmupDurationSecs, 1, joinPath(path, 'warmupDurationSecs'), errs);
  if (lb.warmup) {
    const p = joinPath(path, 'warmup');
    D(lb.warmup.duration, 1, joinPath(p, 'duration'), errs);
    const mp = lb.warmup.minimumPercent;
    if (mp !== undefined && (mp < 0 || mp > 100)) errs.add(joinPath(p, 'minimumPercent'), `minimumPercent ${mp} must be in range 0..100`);
    const ag = lb.warmup.aggression;
    if (ag !== undefined && ag < 1) errs.add(joinPath(p, 'aggression'), `aggression ${ag} must be >= 1`);
    if (lb.warmupDurationSecs !== undefined) errs.warn(path, 'both warmupDurationSecs and warmup are set; warmup takes precedence');
  }
}

/** Istio's ValidateTLS for client (DestinationRule) TLS settings. */
export function checkClientTLS(t: ClientTLSSettings | undefined, path: string, errs: ErrorList): void {
  if (!t) return;
  if (t.insecureSkipVerify) {
    if (t.mode === 'SIMPLE' && (t.caCertificates || t.credentialName || t.subjectAltNames)) {
      errs.add(path, 'cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true');
    }
    if (t.mode === 'MUTUAL' && (t.caCertificates || t.subjectAltNames)) errs.add(path, 'cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true');
  }
  if ((t.mode === 'SIMPLE' || t.mode === 'MUTUAL') && t.credentialName) {
    if (t.clientCertificate || t.caCertificates || t.privateKey || t.caCrl) {
      errs.add(path, 'cannot specify client certificates or CA certificate or CA CRL If credentialName is set');
    }
    return;
  }
  if (t.mode === 'MUTUAL') {
    if (!t.clientCertificate) errs.add(joinPath(path, 'clientCertificate'), 'client certificate required for mutual tls');
    if (!t.privateKey) errs.add(joinPath(path, 'privateKey'), 'private key required for mutual tls');
  }
}

function checkPortLevel(pls: PortTrafficPolicy[] | undefined, path: string, errs: ErrorList): void {
  const ports = new Set<number>();
  each(pls, path, (pl, p) => {
    if (!pl.port || pl.port.number === undefined) errs.add(joinPath(p, 'port'), 'portTrafficPolicy must have valid port');
    else {
      checkPort(pl.port.number, sub(p, 'port.number'), errs);
      if (ports.has(pl.port.number)) errs.add(sub(p, 'port.number'), `duplicate port ${pl.port.number} in portLevelSettings`);
      ports.add(pl.port.number);
    }
    if (!pl.outlierDetection && !pl.connectionPool && !pl.loadBalancer && !pl.tls) {
      errs.add(p, 'port traffic policy must have at least one field');
      return;
    }
    checkOutlier(pl.outlierDetection, joinPath(p, 'outlierDetection'), errs);
    checkConnectionPool(pl.connectionPool, joinPath(p, 'connectionPool'), errs);
    checkLoadBalancer(pl.loadBalancer, pl.outlierDetection, joinPath(p, 'loadBalancer'), errs);
    checkClientTLS(pl.tls, joinPath(p, 'tls'), errs);
  });
}

export function checkTrafficPolicy(tp: TrafficPolicy | undefined, path: string, errs: ErrorList): void {
  if (!tp) return;
  if (Object.keys(tp).length === 0) {
    errs.add(path, 'traffic policy must have at least one field');
    return;
  }
  if (tp.tunnel && tp.proxyProtocol) errs.add(path, 'tunnel and proxyProtocol must not be set together');
  checkOutlier(tp.outlierDetection, joinPath(path, 'outlierDetection'), errs);
  checkConnectionPool(tp.connectionPool, joinPath(path, 'connectionPool'), errs);
  checkLoadBalancer(tp.loadBalancer, tp.outlierDetection, joinPath(path, 'loadBalancer'), errs);
  checkClientTLS(tp.tls, joinPath(path, 'tls'), errs);
  checkPortLevel(tp.portLevelSettings, joinPath(path, 'portLevelSettings'), errs);
  const tn = tp.tunnel;
  if (tn) {
    const p = joinPath(path, 'tunnel');
    if (tn.protocol !== undefined && tn.protocol !== '' && tn.protocol !== 'CONNECT' && tn.protocol !== 'POST') errs.add(joinPath(p, 'protocol'), 'tunnel protocol must be "CONNECT" or "POST"');
    if (tn.targetHost !== undefined) {
      const fe = fqdnError(tn.targetHost);
      if (fe && !isIPAddress(tn.targetHost)) errs.add(joinPath(p, 'targetHost'), `tunnel target host must be valid FQDN or IP address: ${fe}`);
    }
    if (tn.targetPort !== undefined) checkPort(tn.targetPort, joinPath(p, 'targetPort'), errs);
  }
  const rb = tp.retryBudget;
  if (rb?.percent !== undefined && (rb.percent < 0 || rb.percent > 100)) errs.add(sub(path, 'retryBudget.percent'), `percentage ${rb.percent} is not in range 0..100`);
}

export function validateDestinationRule(raw: unknown, errs: ErrorList, ctx: ValidateContext): void {
  const dr = raw as DestinationRule;
  if (dr.host !== undefined) {
    const e = wildcardDomainError(dr.host);
    if (e) errs.add('spec.host', e);
  }
  checkTrafficPolicy(dr.trafficPolicy, 'spec.trafficPolicy', errs);
  const names = new Set<string>();
  each(dr.subsets, 'spec.subsets', (s, p) => {
    if (s.name !== undefined) {
      if (names.has(s.name)) errs.add(joinPath(p, 'name'), `duplicate subset names: ${s.name}`);
      names.add(s.name);
      if (s.name === '') errs.add(joinPath(p, 'name'), 'subset name cannot be empty');
      else if (!isIstioLabel(s.name)) errs.add(joinPath(p, 'name'), `subset name is invalid: ${s.name}`);
    }
    checkLabels(s.labels, joinPath(p, 'labels'), errs);
    checkTrafficPolicy(s.trafficPolicy, joinPath(p, 'trafficPolicy'), errs);
  });
  checkExportTo(ctx.namespace, dr.exportTo, 'spec.exportTo', errs, { drWithSelector: dr.workloadSelector !== undefined });
  if (dr.workloadSelector) checkSelectorLabels(dr.workloadSelector.labels ?? {}, 'spec.workloadSelector.labels', errs, 'destination rule');
}

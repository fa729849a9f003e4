// Istio's Sidecar rules: ingress listeners (port, bind, defaultEndpoint, TLS), egress listeners (`ns/host` hosts,
// one catch-all listener last, unix sockets, captureMode), outboundTrafficPolicy.
// https://istio.io/latest/docs/reference/config/networking/sidecar/
import { joinPath, sub, type ErrorList } from '../errors.js';
import type { Sidecar } from '../types/networking.js';
import { checkPort, each, fqdnError, isIPAddress, type ValidateContext } from './common.js';
import { checkConnectionPool } from './destinationrule.js';
import { checkServerTLS } from './gateway.js';
import { checkDestination } from './httproute.js';
import { checkPortName, checkProtocol, checkSelectorLabels, isHTTPProtocol, namespaceHostErrors, UNIX_PREFIX, unixAddressError } from './rules.js';

const LOCAL_HOSTS = new Set(['127.0.0.1', '0.0.0.0', '::1', '::']);

function checkBind(bind: string | undefined, path: string, errs: ErrorList): void {
  if (bind !== undefined && bind !== '' && !isIPAddress(bind)) errs.add(path, `${bind} is not a valid IP`);
}

function checkDefaultEndpoint(ep: string, path: string, errs: ErrorList): void {
  if (ep.startsWith(UNIX_PREFIX)) {
    const e = unixAddressError(ep.slice(UNIX_PREFIX.length));
    if (e) errs.add(path, e);
    return;
  }
  // 127.0.0.1:port, [::1]:port, 0.0.0.0:port, [::]:port or :port
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([^:]*)$/.exec(ep);
  if (!m) {
    errs.add(path, `sidecar: defaultEndpoint ${JSON.stringify(ep)} must be of form 127.0.0.1:<port>,0.0.0.0:<port>,[::1]:port,[::]:port,unix://filepath or unset`);
    return;
  }
  const host = m[1] ?? m[2] ?? '';
  if (host !== '' && !LOCAL_HOSTS.has(host)) errs.add(path, 'sidecar: defaultEndpoint must be of form 127.0.0.1:<port>,0.0.0.0:<port>,[::1]:port,[::]:port,unix://filepath or unset');
  const port = m[3] ?? '';
  if (!/^[0-9]+$/.test(port)) errs.add(path, `sidecar: defaultEndpoint port (${port}) is not a number`);
  else checkPort(Number(port), path, errs);
}

export function validateSidecar(raw: unknown, errs: ErrorList, ctx: ValidateContext): void {
  const sc = raw as Sidecar;
  if (sc.workloadSelector) checkSelectorLabels(sc.workloadSelector.labels ?? {}, 'spec.workloadSelector.labels', errs, 'sidecar');
  if ((sc.egress?.length ?? 0) === 0 && (sc.ingress?.length ?? 0) === 0 && !sc.outboundTrafficPolicy && !sc.inboundConnectionPool) {
    errs.add('spec', 'sidecar: empty configuration provided');
    return;
  }

  const ingressPorts = new Set<number>();
  each(sc.ingress, 'spec.ingress', (l, p) => {
    const port = l.port;
    if (!port) return; // reported by the schema (required)
    const pp = joinPath(p, 'port');
    if (port.targetPort !== undefined && port.targetPort > 0) errs.add(joinPath(pp, 'targetPort'), 'targetPort has no impact on Sidecars');
    if (port.name !== undefined && port.name !== '') checkPortName(port.name, joinPath(pp, 'name'), errs);
    checkProtocol(port.protocol, joinPath(pp, 'protocol'), errs);
    checkPort(port.number ?? 0, joinPath(pp, 'number'), errs);
    checkBind(l.bind, joinPath(p, 'bind'), errs);
    if (port.number !== undefined) {
      if (ingressPorts.has(port.number)) errs.add(joinPath(pp, 'number'), 'sidecar: ports on IP bound listeners must be unique');
      ingressPorts.add(port.number);
    }
    if (l.defaultEndpoint !== undefined && l.defaultEndpoint !== '') checkDefaultEndpoint(l.defaultEndpoint, joinPath(p, 'defaultEndpoint'), errs);
    if (l.tls) {
      const tp = joinPath(p, 'tls');
      if ((l.tls.subjectAltNames?.length ?? 0) > 0) errs.add(joinPath(tp, 'subjectAltNames'), 'sidecar: subjectAltNames is not supported in ingress tls');
      if (l.tls.httpsRedirect) errs.add(joinPath(tp, 'httpsRedirect'), 'sidecar: httpsRedirect is not supported');
      if (l.tls.credentialName) errs.add(joinPath(tp, 'credentialName'), 'sidecar: credentialName is not currently supported');
      if (l.tls.mode === 'ISTIO_MUTUAL' || l.tls.mode === 'AUTO_PASSTHROUGH') errs.add(joinPath(tp, 'mode'), `configuration is invalid: cannot set mode to ${l.tls.mode} in sidecar ingress tls`);
      checkServerTLS(l.tls, tp, errs);
    }
    checkConnectionPool(l.connectionPool, joinPath(p, 'connectionPool'), errs);
    if (l.connectionPool?.http && !isHTTPProtocol(port.protocol)) {
      errs.warn(sub(p, 'connectionPool.http'), `sidecar: HTTP connection pool settings are configured for port ${port.number} (${JSON.stringify(port.name ?? '')}) but its protocol is not HTTP (${port.protocol ?? ''}); only TCP settings will apply`);
    }
  });
  checkConnectionPool(sc.inboundConnectionPool, 'spec.inboundConnectionPool', errs);

  const egressPorts = new Set<number>();
  const uds = new Set<string>();
  let catchAll = false;
  const egress = sc.egress ?? [];
  each(egress, 'spec.egress', (l, p, i) => {
    if (!l.port) {
      if (catchAll) errs.add(p, 'sidecar: egress can have only one listener with empty port');
      else if (i !== egress.length - 1) errs.add(p, 'sidecar: the egress listener with empty port should be the last listener in the list');
      else catchAll = true;
    } else {
      const pp = joinPath(p, 'port');
      const port = l.port;
      if (port.targetPort !== undefined && port.targetPort > 0) errs.add(joinPath(pp, 'targetPort'), 'targetPort has no impact on Sidecars');
      if (port.name !== undefined && port.name !== '') checkPortName(port.name, joinPath(pp, 'name'), errs);
      checkProtocol(port.protocol, joinPath(pp, 'protocol'), errs);
      const bind = l.bind ?? '';
      if ((port.number ?? 0) === 0) {
        if (!bind.startsWith(UNIX_PREFIX)) errs.add(joinPath(p, 'bind'), 'sidecar: ports with 0 value must have a unix domain socket bind address');
        else {
          const e = unixAddressError(bind.slice(UNIX_PREFIX.length));
          if (e) errs.add(joinPath(p, 'bind'), e);
        }
        if (l.captureMode !== undefined && l.captureMode !== 'DEFAULT' && l.captureMode !== 'NONE') {
          errs.add(joinPath(p, 'captureMode'), 'sidecar: captureMode must be DEFAULT/NONE for unix domain socket listeners');
        }
        if (uds.has(bind)) errs.add(joinPath(p, 'bind'), 'sidecar: unix domain socket values for listeners must be unique');
        uds.add(bind);
      } else {
        checkPort(port.number ?? 0, joinPath(pp, 'number'), errs);
        checkBind(l.bind, joinPath(p, 'bind'), errs);
        if (egressPorts.has(port.number ?? 0)) errs.add(joinPath(pp, 'number'), 'sidecar: ports on IP bound listeners must be unique');
        egressPorts.add(port.number ?? 0);
      }
    }
    if (l.hosts !== undefined && l.hosts.length === 0) errs.add(joinPath(p, 'hosts'), 'sidecar: egress listener must contain at least one host');
    const byNs = new Map<string, Set<string>>();
    each(l.hosts, joinPath(p, 'hosts'), (h, hp) => {
      for (const e of namespaceHostErrors(h, false)) errs.add(hp, e);
      const slash = h.indexOf('/');
      if (slash < 0) return;
      const ns = h.slice(0, slash) === '.' ? ctx.namespace : h.slice(0, slash);
      const svc = h.slice(slash + 1);
      const set = byNs.get(ns) ?? new Set<string>();
      byNs.set(ns, set);
      if ((svc !== '*' && (set.has(svc) || set.has('*'))) || (svc === '*' && set.size > 0)) errs.warn(hp, `duplicated egress host: ${h}`);
      set.add(svc);
    });
    if (byNs.get('*')?.has('*') && byNs.size !== 1) errs.warn(joinPath(p, 'hosts'), '`*/*` host select all resources, no other hosts can be added');
  });

  const otp = sc.outboundTrafficPolicy;
  if (otp?.egressProxy) {
    const p = 'spec.outboundTrafficPolicy.egressProxy';
    if (otp.mode !== 'ALLOW_ANY') errs.add(p, 'sidecar: egress_proxy must be set only with ALLOW_ANY outbound_traffic_policy mode');
    else {
      const e = fqdnError(otp.egressProxy.host ?? '');
      if (e) errs.add(joinPath(p, 'host'), e);
      if (!otp.egressProxy.port) errs.add(joinPath(p, 'port'), 'sidecar: egress_proxy port must be non-nil');
      else checkDestination(otp.egressProxy, p, errs);
    }
  }
}

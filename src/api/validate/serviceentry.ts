// Istio's ServiceEntry, WorkloadEntry and WorkloadGroup rules: hosts, addresses, ports, resolution vs endpoints,
// workload selector, endpoint addresses, readiness probes.
// https://istio.io/latest/docs/reference/config/networking/service-entry/
import { joinPath, type ErrorList } from '../errors.js';
import type { ServiceEntry, WorkloadEntry, WorkloadGroup } from '../types/networking.js';
import { cidrError, checkPort, each, fqdnError, isIPAddress, wildcardDomainError, type ValidateContext } from './common.js';
import { checkExportTo, checkLabels, checkPortName, checkProtocol, checkSelectorLabels, headerNameError, isHTTPProtocol, isTLSProtocol, UNIX_PREFIX, unixAddressError } from './rules.js';

const LOCALITY = /^[^/]+(\/[^/]+){0,2}$/;

/** One workload entry (standalone, or inline in a ServiceEntry). `servicePorts` is the ServiceEntry's port names. */
export function checkWorkloadEntry(we: WorkloadEntry, path: string, errs: ErrorList, opts: { servicePorts?: Set<string>; allowFQDN: boolean }): void {
  const addr = we.address ?? '';
  if (addr === '') {
    if (!we.network) errs.add(joinPath(path, 'address'), 'address is required');
    else errs.warn(joinPath(path, 'address'), `address is unset with network ${JSON.stringify(we.network)}`);
  }
  let unix = false;
  if (addr.startsWith(UNIX_PREFIX)) {
    unix = true;
    const e = unixAddressError(addr.slice(UNIX_PREFIX.length));
    if (e) errs.add(joinPath(path, 'address'), e);
    if (Object.keys(we.ports ?? {}).length > 0) errs.add(joinPath(path, 'ports'), `unix endpoint ${addr} must not include ports`);
  } else if (addr !== '' && !isIPAddress(addr)) {
    if (!opts.allowFQDN) errs.add(joinPath(path, 'address'), `endpoint address ${JSON.stringify(addr)} is not a valid IP address`);
    else if (fqdnError(addr)) errs.add(joinPath(path, 'address'), `endpoint address ${JSON.stringify(addr)} is not a valid FQDN or an IP address`);
  }
  for (const [name, port] of Object.entries(we.ports ?? {})) {
    const p = joinPath(joinPath(path, 'ports'), name);
    if (opts.servicePorts && !opts.servicePorts.has(name)) errs.add(p, `endpoint port ${name} is not defined by the service entry`);
    checkPortName(name, p, errs);
    checkPort(port, p, errs);
  }
  checkLabels(we.labels, joinPath(path, 'labels'), errs);
  if (unix && opts.servicePorts && opts.servicePorts.size !== 1) errs.add(path, 'exactly 1 service port required for unix endpoints');
  if (we.locality !== undefined && we.locality !== '' && !LOCALITY.test(we.locality)) errs.add(joinPath(path, 'locality'), `locality ${JSON.stringify(we.locality)} must be region[/zone[/subzone]]`);
}

export function validateServiceEntry(raw: unknown, errs: ErrorList, ctx: ValidateContext): void {
  const se = raw as ServiceEntry;
  const hosts = se.hosts ?? [];
  const resolution = se.resolution ?? 'NONE';
  if (se.workloadSelector) checkSelectorLabels(se.workloadSelector.labels ?? {}, 'spec.workloadSelector.labels', errs, 'service entry');
  if (se.workloadSelector && se.endpoints) errs.add('spec', 'only one of WorkloadSelector or Endpoints is allowed in Service Entry');
  if (se.hosts !== undefined && hosts.length === 0) errs.add('spec.hosts', 'service entry must have at least one host');
  hosts.forEach((h, i) => {
    const p = `spec.hosts[${i}]`;
    if (h === '*') {
      errs.add(p, `invalid host ${h}`);
      return;
    }
    const e = wildcardDomainError(h);
    if (e) errs.add(p, e);
    if (h.includes('*') && !h.startsWith('*.')) errs.warn(p, `partial wildcard ${JSON.stringify(h)} not allowed`);
  });

  let cidr = false;
  each(se.addresses, 'spec.addresses', (a, p) => {
    cidr ||= a.includes('/');
    const e = cidrError(a);
    if (e) errs.add(p, e);
  });
  if (cidr && resolution !== 'NONE' && resolution !== 'STATIC') errs.add('spec.addresses', 'CIDR addresses are allowed only for NONE/STATIC resolution types');

  const names = new Set<string>();
  const numbers = new Set<number>();
  each(se.ports, 'spec.ports', (port, p) => {
    if (port.name !== undefined) {
      if (names.has(port.name)) errs.add(joinPath(p, 'name'), `service entry port name ${JSON.stringify(port.name)} already defined`);
      names.add(port.name);
      checkPortName(port.name, joinPath(p, 'name'), errs);
    }
    if (port.number !== undefined) {
      if (numbers.has(port.number)) errs.add(joinPath(p, 'number'), `service entry port ${port.number} already defined`);
      numbers.add(port.number);
      checkPort(port.number, joinPath(p, 'number'), errs);
    }
    if (port.targetPort !== undefined && port.targetPort !== 0) {
      checkPort(port.targetPort, joinPath(p, 'targetPort'), errs);
      if (resolution === 'NONE') errs.warn(joinPath(p, 'targetPort'), 'targetPort has no effect when resolution mode is NONE');
    }
    checkProtocol(port.protocol, joinPath(p, 'protocol'), errs);
  });

  switch (resolution) {
    case 'NONE':
      if ((se.endpoints?.length ?? 0) > 0) errs.add('spec.endpoints', 'no endpoints should be provided for resolution type none');
      if (se.workloadSelector) errs.warn('spec.workloadSelector', 'workloadSelector should not be set when resolution mode is NONE');
      break;
    case 'STATIC':
      each(se.endpoints, 'spec.endpoints', (ep, p) => checkWorkloadEntry(ep, p, errs, { servicePorts: names, allowFQDN: false }));
      if (!se.workloadSelector && (se.endpoints?.length ?? 0) === 0) {
        errs.warn('spec', 'resolution STATIC without endpoints or workloadSelector: the service has no endpoints');
      }
      break;
    case 'DNS':
    case 'DNS_ROUND_ROBIN':
      if ((se.endpoints?.length ?? 0) === 0) {
        hosts.forEach((h, i) => {
          if (fqdnError(h)) errs.add(`spec.hosts[${i}]`, `hosts must be FQDN if no endpoints are provided for resolution mode ${resolution}`);
        });
      }
      if (resolution === 'DNS_ROUND_ROBIN' && (se.endpoints?.length ?? 0) > 1) errs.add('spec.endpoints', `there must only be 0 or 1 endpoint for resolution mode ${resolution}`);
      each(se.endpoints, 'spec.endpoints', (ep, p) => {
        if (ep.address === undefined || ep.address === '') errs.add(joinPath(p, 'address'), 'address is required');
        checkWorkloadEntry({ ...ep, address: ep.address ?? 'placeholder.invalid' }, p, errs, { servicePorts: names, allowFQDN: true });
      });
      if (se.workloadSelector) errs.warn('spec.workloadSelector', `workloadSelector should not be set when resolution mode is ${resolution}`);
      break;
  }

  if (resolution !== 'NONE' && hosts.length > 1) {
    const bad = (se.ports ?? []).find((p) => !isHTTPProtocol(p.protocol) && !isTLSProtocol(p.protocol));
    if (bad) errs.add('spec.ports', 'multiple hosts provided with non-HTTP, non-TLS ports');
  }
  checkExportTo(ctx.namespace, se.exportTo, 'spec.exportTo', errs, { serviceEntry: true });
}

export function validateWorkloadEntry(raw: unknown, errs: ErrorList): void {
  checkWorkloadEntry(raw as WorkloadEntry, 'spec', errs, { allowFQDN: true });
}

export function validateWorkloadGroup(raw: unknown, errs: ErrorList): void {
  const wg = raw as WorkloadGroup;
  checkLabels(wg.metadata?.labels, 'spec.metadata.labels', errs);
  const t = wg.template;
  if (t) {
    if (t.address !== undefined && t.address !== '') errs.add('spec.template.address', 'address must not be set in a WorkloadGroup template: it comes from each registering workload');
    for (const [name, port] of Object.entries(t.ports ?? {})) {
      const p = joinPath('spec.template.ports', name);
      checkPortName(name, p, errs);
      checkPort(port, p, errs);
    }
    checkLabels(t.labels, 'spec.template.labels', errs);
  }
  const probe = wg.probe;
  if (!probe) return;
  for (const f of ['periodSeconds', 'initialDelaySeconds', 'timeoutSeconds', 'successThreshold', 'failureThreshold'] as const) {
    const v = probe[f];
    if (v !== undefined && v < 0) errs.add(joinPath('spec.probe', f), `${f} must be non-negative`);
  }
  if (probe.httpGet) {
    const h = probe.httpGet;
    if (h.port !== undefined) checkPort(h.port, 'spec.probe.httpGet.port', errs);
    if (h.scheme !== undefined && h.scheme !== '' && h.scheme !== 'HTTP' && h.scheme !== 'HTTPS') errs.add('spec.probe.httpGet.scheme', 'httpGet.scheme must be one of "HTTPS", "HTTP"');
    each(h.httpHeaders, 'spec.probe.httpGet.httpHeaders', (hh, p) => {
      const e = headerNameError(hh.name ?? '');
      if (e) errs.add(joinPath(p, 'name'), e);
    });
  } else if (probe.tcpSocket) {
    if (probe.tcpSocket.port !== undefined) checkPort(probe.tcpSocket.port, 'spec.probe.tcpSocket.port', errs);
  } else if (probe.exec) {
    if ((probe.exec.command?.length ?? 0) === 0) errs.add('spec.probe.exec.command', 'exec.command is required');
  } else if (probe.grpc) {
    if (probe.grpc.port !== undefined) checkPort(probe.grpc.port, 'spec.probe.grpc.port', errs);
  } else {
    errs.add('spec.probe', 'probe must set one of httpGet, tcpSocket, exec, grpc');
  }
}

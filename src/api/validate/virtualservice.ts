// Istio's VirtualService rules: hosts (delegate when empty), gateways, http/tls/tcp routes, exportTo, unreachable rules.
// https://istio.io/latest/docs/reference/config/networking/virtual-service/
import { joinPath, type ErrorList } from '../errors.js';
import { stableStringify } from '../hash.js';
import type { HTTPMatchRequest, L4MatchAttributes, RouteDestination, TLSMatchAttributes, VirtualService } from '../types/networking.js';
import { cidrError, checkPort, each, isIPAddress, wildcardDomainError, type ValidateContext } from './common.js';
import { checkDestination, checkHTTPRoute, checkWeights } from './httproute.js';
import { checkExportTo, checkGatewayNames, checkLabels, hostSubsetOf, hostsMatch } from './rules.js';

const MESH = 'mesh';

function checkL4Match(m: L4MatchAttributes | TLSMatchAttributes, p: string, errs: ErrorList): void {
  each(m.destinationSubnets, joinPath(p, 'destinationSubnets'), (s, sp) => {
    const e = cidrError(s);
    if (e) errs.add(sp, e);
  });
  if (m.port !== undefined) checkPort(m.port, joinPath(p, 'port'), errs);
  checkLabels(m.sourceLabels, joinPath(p, 'sourceLabels'), errs);
  checkGatewayNames(m.gateways, joinPath(p, 'gateways'), errs);
}

function checkL4Routes(routes: RouteDestination[] | undefined, p: string, errs: ErrorList, what: 'TLS' | 'TCP'): void {
  if (!routes || routes.length === 0) errs.add(joinPath(p, 'route'), `${what} route is required`);
  each(routes, joinPath(p, 'route'), (d, dp) => checkDestination(d.destination, joinPath(dp, 'destination'), errs));
  checkWeights(routes, joinPath(p, 'route'), errs);
}

/** Istio's "unreachable rule" analysis (warnings): a catch-all before the end, or matches repeated from earlier rules. */
function warnUnreachable(routes: readonly { name?: string; match?: readonly unknown[] }[] | undefined, path: string, errs: ErrorList): void {
  if (!routes) return;
  const seen = new Map<string, number>();
  let catchAll = -1;
  routes.forEach((r, i) => {
    const label = r.name ? JSON.stringify(r.name) : `#${i}`;
    if (!r.match || r.match.length === 0) {
      if (catchAll >= 0) errs.warn(joinPath(path, i), `virtualService rule ${label} not used (only the last rule can have no matches)`);
      catchAll = i;
      return;
    }
    let dups = 0;
    r.match.forEach((m, j) => {
      const copy = { ...(m as HTTPMatchRequest) };
      delete copy.name;
      const key = stableStringify(copy);
      const prev = seen.get(key);
      if (prev !== undefined) {
        const mname = (m as HTTPMatchRequest).name;
        const prevName = routes[prev]?.name;
        errs.warn(joinPath(joinPath(joinPath(path, i), 'match'), j), `virtualService rule ${label} match ${mname ? JSON.stringify(mname) : `#${j}`} is not used (duplicate/overlapping match in rule ${prevName ? JSON.stringify(prevName) : `#${prev}`})`);
        dups++;
      } else seen.set(key, i);
    });
    if (dups === r.match.length) errs.warn(joinPath(path, i), `virtualService rule ${label} not used (all matches used by prior rules)`);
  });
}

export function validateVirtualService(raw: unknown, errs: ErrorList, ctx: ValidateContext): void {
  const vs = raw as VirtualService;
  const hosts = vs.hosts ?? [];
  const delegateVS = hosts.length === 0;
  if (delegateVS) {
    if ((vs.gateways?.length ?? 0) > 0) errs.add('spec.gateways', 'delegate virtual service must have no gateways specified');
    if ((vs.tls?.length ?? 0) > 0) errs.add('spec.tls', 'delegate virtual service must have no tls route specified');
    if ((vs.tcp?.length ?? 0) > 0) errs.add('spec.tcp', 'delegate virtual service must have no tcp route specified');
  }
  const gateways = vs.gateways ?? [];
  checkGatewayNames(gateways, 'spec.gateways', errs);
  const boundToGateway = gateways.length > 0 && !gateways.includes(MESH);
  const appliesToMesh = !boundToGateway;

  let allValid = true;
  hosts.forEach((h, i) => {
    const p = `spec.hosts[${i}]`;
    const e = wildcardDomainError(h);
    if (e) {
      if (!isIPAddress(h)) {
        errs.add(p, e);
        allValid = false;
      }
    } else if (appliesToMesh && h === '*') {
      errs.add(p, 'wildcard host * is not allowed for virtual services bound to the mesh gateway');
      allValid = false;
    }
  });
  if (allValid) {
    for (let i = 0; i < hosts.length; i++) {
      for (let j = i + 1; j < hosts.length; j++) {
        if (hostsMatch(hosts[i], hosts[j])) errs.add(`spec.hosts[${j}]`, `duplicate hosts in virtual service: ${hosts[i]} & ${hosts[j]}`);
      }
    }
  }

  if ((vs.http?.length ?? 0) === 0 && (vs.tcp?.length ?? 0) === 0 && (vs.tls?.length ?? 0) === 0) {
    errs.add('spec', 'http, tcp or tls must be provided in virtual service');
  }
  each(vs.http, 'spec.http', (r, p) => checkHTTPRoute(r, p, errs, { delegateVS, boundToGateway }));

  each(vs.tls, 'spec.tls', (r, p) => {
    if (r.match !== undefined && r.match.length === 0) errs.add(joinPath(p, 'match'), 'TLS route must have at least one match condition');
    each(r.match, joinPath(p, 'match'), (m, mp) => {
      if (m.sniHosts !== undefined && m.sniHosts.length === 0) errs.add(joinPath(mp, 'sniHosts'), 'TLS match must have at least one SNI host');
      each(m.sniHosts, joinPath(mp, 'sniHosts'), (sni, sp) => {
        const e = wildcardDomainError(sni);
        if (e) {
          if (isIPAddress(sni)) errs.warn(sp, `using an IP address (${JSON.stringify(sni)}) goes against SNI spec and most clients do not support this`);
          else errs.add(sp, e);
          return;
        }
        if (!hosts.some((h) => hostSubsetOf(sni, h))) {
          errs.add(sp, `SNI host ${JSON.stringify(sni)} is not a compatible subset of any of the virtual service hosts: [${hosts.join(', ')}]`);
        }
      });
      checkL4Match(m, mp, errs);
    });
    checkL4Routes(r.route, p, errs, 'TLS');
  });

  each(vs.tcp, 'spec.tcp', (r, p) => {
    each(r.match, joinPath(p, 'match'), (m, mp) => checkL4Match(m, mp, errs));
    checkL4Routes(r.route, p, errs, 'TCP');
  });

  checkExportTo(ctx.namespace, vs.exportTo, 'spec.exportTo', errs);
  warnUnreachable(vs.http, 'spec.http', errs);
  warnUnreachable(vs.tcp, 'spec.tcp', errs);
  warnUnreachable(vs.tls, 'spec.tls', errs);
}

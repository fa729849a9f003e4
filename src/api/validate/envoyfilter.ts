// Istio's EnvoyFilter rules: applyTo / match / patch combinations, required patch values, proxy-version regexes.
// https://istio.io/latest/docs/reference/config/networking/envoy-filter/
import { joinPath, sub, type ErrorList } from '../errors.js';
import type { EnvoyFilter } from '../types/networking.js';
import { each, re2Error } from './common.js';
import { checkSelectorLabels, checkTargetRef } from './rules.js';

const LISTENER_CLASS = new Set(['LISTENER', 'FILTER_CHAIN', 'NETWORK_FILTER', 'HTTP_FILTER', 'LISTENER_FILTER']);
const ROUTE_CLASS = new Set(['ROUTE_CONFIGURATION', 'VIRTUAL_HOST', 'HTTP_ROUTE']);
const HCM = ['envoy.filters.network.http_connection_manager', 'envoy.http_connection_manager'];
/** Operations that make sense per applyTo (Istio's docs: REMOVE/MERGE/REPLACE on existing objects, ADD/INSERT_* on lists). */
const OPS_BY_APPLY_TO: Readonly<Record<string, readonly string[]>> = {
  LISTENER: ['ADD', 'MERGE', 'REMOVE'],
  FILTER_CHAIN: ['ADD', 'MERGE', 'REMOVE', 'INSERT_FIRST'],
  NETWORK_FILTER: ['MERGE', 'REMOVE', 'REPLACE', 'INSERT_BEFORE', 'INSERT_AFTER', 'INSERT_FIRST'],
  HTTP_FILTER: ['MERGE', 'REMOVE', 'REPLACE', 'INSERT_BEFORE', 'INSERT_AFTER', 'INSERT_FIRST'],
  LISTENER_FILTER: ['REMOVE', 'INSERT_BEFORE', 'INSERT_AFTER', 'INSERT_FIRST'],
  ROUTE_CONFIGURATION: ['MERGE'],
  VIRTUAL_HOST: ['ADD', 'MERGE', 'REMOVE'],
  HTTP_ROUTE: ['MERGE', 'REMOVE', 'INSERT_BEFORE', 'INSERT_AFTER', 'INSERT_FIRST'],
  CLUSTER: ['ADD', 'MERGE', 'REMOVE'],
  EXTENSION_CONFIG: ['ADD'],
  BOOTSTRAP: ['MERGE'],
};

export function validateEnvoyFilter(raw: unknown, errs: ErrorList): void {
  const ef = raw as EnvoyFilter;
  errs.warn('spec', 'EnvoyFilter exposes internal implementation details that may change at any time. Prefer other APIs if possible, and exercise extreme caution, especially around upgrades.');
  if (ef.workloadSelector) checkSelectorLabels(ef.workloadSelector.labels ?? {}, 'spec.workloadSelector.labels', errs, 'Envoy filter');
  if (ef.workloadSelector && (ef.targetRefs?.length ?? 0) > 0) errs.add('spec', 'only one of targetRefs or workloadSelector can be set');
  ef.targetRefs?.forEach((r, i) => checkTargetRef(r, `spec.targetRefs[${i}]`, errs));
  each(ef.configPatches, 'spec.configPatches', (cp, p) => {
    const applyTo = cp.applyTo ?? 'INVALID';
    if (applyTo === 'INVALID') {
      errs.add(joinPath(p, 'applyTo'), 'Envoy filter: missing applyTo');
      return;
    }
    if (!cp.patch) {
      errs.add(joinPath(p, 'patch'), 'Envoy filter: missing patch');
      return;
    }
    const op = cp.patch.operation ?? 'INVALID';
    if (op === 'INVALID') {
      errs.add(sub(p, 'patch.operation'), 'Envoy filter: missing patch operation');
      return;
    }
    if (op !== 'REMOVE' && cp.patch.value === undefined) {
      errs.add(sub(p, 'patch.value'), 'Envoy filter: missing patch value for non-remove operation');
      return;
    }
    if (cp.patch.value !== undefined && (typeof cp.patch.value !== 'object' || cp.patch.value === null || Array.isArray(cp.patch.value))) {
      errs.add(sub(p, 'patch.value'), 'Envoy filter: patch value must be an object');
    }
    const allowed = OPS_BY_APPLY_TO[applyTo];
    if (allowed && !allowed.includes(op)) errs.add(sub(p, 'patch.operation'), `Envoy filter: operation ${op} is not supported for applyTo ${applyTo} (supported: ${allowed.join(', ')})`);
    if (cp.patch.filterClass !== undefined && cp.patch.filterClass !== 'UNSPECIFIED' && applyTo !== 'HTTP_FILTER') {
      errs.add(sub(p, 'patch.filterClass'), 'Envoy filter: filterClass is only supported with applyTo HTTP_FILTER');
    }
    const pv = cp.match?.proxy?.proxyVersion;
    if (pv !== undefined && pv !== '') {
      const e = re2Error(pv);
      if (e) errs.add(sub(p, 'match.proxy.proxyVersion'), `Envoy filter: invalid regex for proxy version, [${e}]`);
    }
    const m = cp.match;
    const hasObjectMatch = m !== undefined && (m.listener !== undefined || m.routeConfiguration !== undefined || m.cluster !== undefined);
    const objectTypes = [m?.listener, m?.routeConfiguration, m?.cluster].filter((x) => x !== undefined).length;
    if (objectTypes > 1) errs.add(joinPath(p, 'match'), 'only one of listener, routeConfiguration, cluster may be set');
    if (LISTENER_CLASS.has(applyTo) && hasObjectMatch) {
      if (!m?.listener) {
        errs.add(joinPath(p, 'match'), 'Envoy filter: applyTo for listener class objects cannot have non listener match');
        return;
      }
      const filter = m.listener.filterChain?.filter;
      if (filter) {
        const fp = sub(p, 'match.listener.filterChain.filter');
        if (applyTo === 'LISTENER' || applyTo === 'FILTER_CHAIN') errs.warn(fp, `Envoy filter: filter match has no effect when used with ${applyTo}`);
        if (!filter.name) errs.add(joinPath(fp, 'name'), 'Envoy filter: filter match has no name to match on');
        else if (filter.subFilter) {
          if (applyTo !== 'HTTP_FILTER') errs.add(joinPath(fp, 'subFilter'), 'Envoy filter: subfilter match can be used with applyTo HTTP_FILTER only');
          else if (!HCM.includes(filter.name)) errs.add(joinPath(fp, 'subFilter'), `Envoy filter: subfilter match requires filter match with ${HCM[0]}`);
          else if (!filter.subFilter.name) errs.add(sub(fp, 'subFilter.name'), 'Envoy filter: subfilter match has no name to match on');
        }
      }
    } else if (ROUTE_CLASS.has(applyTo) && hasObjectMatch) {
      if (!m?.routeConfiguration) errs.add(joinPath(p, 'match'), 'Envoy filter: applyTo for http route class objects cannot have non route configuration match');
    } else if (applyTo === 'CLUSTER' && hasObjectMatch) {
      if (!m?.cluster) errs.add(joinPath(p, 'match'), 'Envoy filter: applyTo for cluster class objects cannot have non cluster match');
    }
  });
}

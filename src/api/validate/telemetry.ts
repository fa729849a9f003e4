// Istio's Telemetry rules: selector/targetRefs, providers, tracing sampling and custom tags, metric overrides,
// access-log filters. https://istio.io/latest/docs/reference/config/telemetry/
import { joinPath, sub, type ErrorList } from '../errors.js';
import type { ProviderRef, Telemetry } from '../types/telemetry.js';
import { checkDurationAtLeast, each } from './common.js';
import { checkPolicyScope } from './rules.js';

function checkProviders(providers: ProviderRef[] | undefined, path: string, errs: ErrorList): void {
  each(providers, path, (p, pp) => {
    if (p.name === '') errs.add(joinPath(pp, 'name'), 'providers.name may not be empty');
  });
}

export function validateTelemetry(raw: unknown, errs: ErrorList): void {
  const t = raw as Telemetry;
  checkPolicyScope(t, errs, 'telemetry');
  if ((t.tracing?.length ?? 0) > 1) errs.warn('spec.tracing', 'multiple tracing is not currently supported');
  each(t.tracing, 'spec.tracing', (tr, p) => {
    if ((tr.providers?.length ?? 0) > 1) errs.warn(joinPath(p, 'providers'), 'multiple providers is not currently supported');
    checkProviders(tr.providers, joinPath(p, 'providers'), errs);
    const r = tr.randomSamplingPercentage;
    if (r !== undefined && (r < 0 || r > 100)) errs.add(joinPath(p, 'randomSamplingPercentage'), 'randomSamplingPercentage must be in range [0.0, 100.0]');
    for (const [name, tag] of Object.entries(tr.customTags ?? {})) {
      const tp = joinPath(joinPath(p, 'customTags'), name);
      if (name === '') errs.add(tp, 'tag name may not be empty');
      if (tag.literal && tag.literal.value === '') errs.add(sub(tp, 'literal.value'), 'literal tag value may not be empty');
      else if (tag.header && tag.header.name === '') errs.add(sub(tp, 'header.name'), 'header tag name may not be empty');
      else if (tag.environment && tag.environment.name === '') errs.add(sub(tp, 'environment.name'), 'environment tag name may not be empty');
      else if (!tag.literal && !tag.header && !tag.environment) errs.add(tp, 'custom tag must set one of literal, environment, header');
    }
  });
  each(t.metrics, 'spec.metrics', (m, p) => {
    checkProviders(m.providers, joinPath(p, 'providers'), errs);
    checkDurationAtLeast(m.reportingInterval, 1, joinPath(p, 'reportingInterval'), errs);
    each(m.overrides, joinPath(p, 'overrides'), (o, op) => {
      for (const [tag, to] of Object.entries(o.tagOverrides ?? {})) {
        const tp = joinPath(joinPath(op, 'tagOverrides'), tag);
        if (tag === '') errs.warn(tp, 'tagOverrides.name may not be empty');
        const operation = to.operation ?? 'UPSERT';
        if (operation === 'UPSERT' && !to.value) errs.add(joinPath(tp, 'value'), 'tagOverrides.value must be set when operation is UPSERT');
        if (operation === 'REMOVE' && to.value) errs.add(joinPath(tp, 'value'), 'tagOverrides.value may only be set when operation is UPSERT');
      }
      if (o.match?.customMetric !== undefined && o.match.customMetric === '') errs.add(sub(op, 'match.customMetric'), 'customMetric may not be empty');
    });
  });
  each(t.accessLogging, 'spec.accessLogging', (a, p) => {
    if (a.filter && !a.filter.expression) errs.add(sub(p, 'filter.expression'), 'filter expression may not be empty');
    // Istio compiles the expression into Envoy's CEL access-log filter; the Isthmus proxy has no CEL evaluator, so the
    // control plane leaves the filter out rather than send config the proxy would ignore: every request is logged.
    else if (a.filter?.expression) errs.warn(sub(p, 'filter.expression'), 'CEL access log filters are not supported by isthmus: the filter is ignored and every request/connection is logged');
    checkProviders(a.providers, joinPath(p, 'providers'), errs);
  });
}

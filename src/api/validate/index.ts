// Validates one Istio resource: metadata syntax, spec structure (schema), then the kind's semantic rules (Istio's).
import type { Config, ConfigMeta, Kind } from '../config.js';
import { ErrorList, type ValidationError } from '../errors.js';
import { SPEC_SCHEMAS } from '../schema/index.js';
import { checkValue } from '../schema/check.js';
import { validateMetadata, type ValidateContext } from './common.js';
import { SEMANTIC_VALIDATORS } from './registry.js';

/**
 * Checks `spec` of `kind` and returns every problem with its path (rooted at `spec`) plus the sanitized spec
 * (known, well-typed fields only, nulls dropped) that the semantic rules saw.
 */
export function validateSpec(kind: Kind, spec: unknown, ctx: ValidateContext): { errors: ErrorList; spec: unknown } {
  const errs = new ErrorList();
  const clean = checkValue(spec ?? {}, SPEC_SCHEMAS[kind], 'spec', errs) ?? {};
  SEMANTIC_VALIDATORS[kind](clean, errs, ctx);
  return { errors: errs, spec: clean };
}

/** Decorates `{path, message}` pairs with the resource's identity and source. */
export function toValidationErrors(m: ConfigMeta, items: readonly { path: string; message: string }[]): ValidationError[] {
  return items.map((e) => ({
    ...(m.source?.file !== undefined ? { file: m.source.file } : {}),
    ...(m.source?.index !== undefined ? { index: m.source.index } : {}),
    kind: m.kind,
    namespace: m.namespace,
    name: m.name,
    path: e.path,
    message: e.message,
  }));
}

export interface CheckResult {
  /** Problems that reject the resource. */
  errors: ValidationError[];
  /** What Istio accepts but flags (deprecated fields, likely mistakes). */
  warnings: ValidationError[];
  /** The spec holding only known, well-typed fields (equal in content to the input when there are no errors). */
  spec: unknown;
}

/** Validates a resource: errors, warnings and the sanitized spec. */
export function checkConfig(config: Config): CheckResult {
  const errs = new ErrorList();
  validateMetadata(config.meta, errs);
  const r = validateSpec(config.meta.kind, config.spec, { namespace: config.meta.namespace, name: config.meta.name });
  errs.items.push(...r.errors.items);
  errs.warnings.push(...r.errors.warnings);
  return { errors: toValidationErrors(config.meta, errs.items), warnings: toValidationErrors(config.meta, errs.warnings), spec: r.spec };
}

/** Every validation error of one resource, each carrying file, index, kind, namespace, name and field path. */
export function validateConfig(config: Config): ValidationError[] {
  return checkConfig(config).errors;
}

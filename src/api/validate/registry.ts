// Semantic validator per kind: Istio's rules beyond the schema (what istiod's validating webhook rejects).
import type { Kind } from '../config.js';
import type { ErrorList } from '../errors.js';
import { isIstioLabel, type ValidateContext } from './common.js';
import { validateDestinationRule } from './destinationrule.js';
import { validateEnvoyFilter } from './envoyfilter.js';
import { validateGateway } from './gateway.js';
import { validateAuthorizationPolicy, validatePeerAuthentication, validateRequestAuthentication } from './security.js';
import { validateServiceEntry, validateWorkloadEntry, validateWorkloadGroup } from './serviceentry.js';
import { validateSidecar } from './sidecar.js';
import { validateTelemetry } from './telemetry.js';
import { validateVirtualService } from './virtualservice.js';

/** Receives the schema-sanitized spec (known, well-typed fields only); reports into `errs`, never throws. */
export type SemanticValidator = (spec: unknown, errs: ErrorList, ctx: ValidateContext) => void;

export const SEMANTIC_VALIDATORS: Readonly<Record<Kind, SemanticValidator>> = {
  VirtualService: validateVirtualService,
  DestinationRule: validateDestinationRule,
  Gateway: (spec, errs, ctx) => {
    // Gateway names are referenced as `ns/name` and must be DNS labels (no dots).
    if (ctx.name && !isIstioLabel(ctx.name)) errs.add('metadata.name', `invalid gateway name: ${JSON.stringify(ctx.name)}`);
    validateGateway(spec, errs);
  },
  ServiceEntry: validateServiceEntry,
  WorkloadEntry: validateWorkloadEntry,
  WorkloadGroup: validateWorkloadGroup,
  Sidecar: validateSidecar,
  EnvoyFilter: validateEnvoyFilter,
  PeerAuthentication: validatePeerAuthentication,
  AuthorizationPolicy: validateAuthorizationPolicy,
  RequestAuthentication: validateRequestAuthentication,
  Telemetry: validateTelemetry,
};

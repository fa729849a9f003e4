// The spec schema of every Istio kind, keyed by kind.
import type { Kind } from '../config.js';
import { destinationRuleSchema } from './destinationrule.js';
import type { Schema } from './dsl.js';
import { envoyFilterSchema } from './envoyfilter.js';
import { gatewaySchema } from './gateway.js';
import { authorizationPolicySchema, peerAuthenticationSchema, requestAuthenticationSchema } from './security.js';
import { serviceEntrySchema, workloadEntrySchema, workloadGroupSchema } from './serviceentry.js';
import { sidecarSchema } from './sidecar.js';
import { telemetrySchema } from './telemetry.js';
import { virtualServiceSchema } from './virtualservice.js';

export const SPEC_SCHEMAS: Readonly<Record<Kind, Schema>> = {
  VirtualService: virtualServiceSchema,
  DestinationRule: destinationRuleSchema,
  Gateway: gatewaySchema,
  ServiceEntry: serviceEntrySchema,
  WorkloadEntry: workloadEntrySchema,
  WorkloadGroup: workloadGroupSchema,
  Sidecar: sidecarSchema,
  EnvoyFilter: envoyFilterSchema,
  PeerAuthentication: peerAuthenticationSchema,
  AuthorizationPolicy: authorizationPolicySchema,
  RequestAuthentication: requestAuthenticationSchema,
  Telemetry: telemetrySchema,
};

export { checkValue } from './check.js';
export type { Schema, Field } from './dsl.js';

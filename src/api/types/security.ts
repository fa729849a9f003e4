// security.istio.io types (v1/v1beta1 share one schema), field names exactly as in Istio's YAML.
// https://istio.io/latest/docs/reference/config/security/
import type { PolicyTargetReference } from './networking.js';

export type { PolicyTargetReference } from './networking.js';

/** istio.type.v1beta1.WorkloadSelector: `selector: { matchLabels: {...} }`. */
export interface WorkloadSelectorMatch {
  matchLabels?: Record<string, string>;
}

// ---------------------------------------------------------------- PeerAuthentication

export type MutualTLSMode = 'UNSET' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';

export interface PeerAuthenticationMutualTLS {
  mode?: MutualTLSMode;
}

export interface PeerAuthentication {
  selector?: WorkloadSelectorMatch;
  mtls?: PeerAuthenticationMutualTLS;
  /** Keyed by workload port number (YAML writes the key as a number or a string of digits). */
  portLevelMtls?: Record<string, PeerAuthenticationMutualTLS>;
}

// ---------------------------------------------------------------- AuthorizationPolicy

export type AuthorizationAction = 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';

export interface Source {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
  serviceAccounts?: string[];
  notServiceAccounts?: string[];
}

export interface Operation {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}

export interface Condition {
  key: string;
  values?: string[];
  notValues?: string[];
}

export interface RuleFrom {
  source?: Source;
}

export interface RuleTo {
  operation?: Operation;
}

export interface Rule {
  from?: RuleFrom[];
  to?: RuleTo[];
  when?: Condition[];
}

export interface ExtensionProvider {
  name: string;
}

export interface AuthorizationPolicy {
  selector?: WorkloadSelectorMatch;
  targetRef?: PolicyTargetReference;
  targetRefs?: PolicyTargetReference[];
  rules?: Rule[];
  /** Default ALLOW. */
  action?: AuthorizationAction;
  /** Required when action is CUSTOM: an extension provider from MeshConfig. */
  provider?: ExtensionProvider;
}

// ---------------------------------------------------------------- RequestAuthentication

export interface JWTHeader {
  name: string;
  prefix?: string;
}

export interface ClaimToHeader {
  header: string;
  claim: string;
}

export interface JWTRule {
  issuer: string;
  audiences?: string[];
  jwksUri?: string;
  jwks?: string;
  fromHeaders?: JWTHeader[];
  fromParams?: string[];
  fromCookies?: string[];
  outputPayloadToHeader?: string;
  forwardOriginalToken?: boolean;
  outputClaimToHeaders?: ClaimToHeader[];
  /** Timeout for fetching the JWKS (duration string). */
  timeout?: string;
}

export interface RequestAuthentication {
  selector?: WorkloadSelectorMatch;
  targetRef?: PolicyTargetReference;
  targetRefs?: PolicyTargetReference[];
  jwtRules?: JWTRule[];
}

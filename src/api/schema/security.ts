// Schemas of security.istio.io PeerAuthentication, AuthorizationPolicy, RequestAuthentication
// (https://istio.io/latest/docs/reference/config/security/).
import { bool, dur, list, map, matchLabelsSelector, msg, oneOfStr, policyTargetRef, required, str } from './dsl.js';

const mutualTls = msg('MutualTLS', { mode: oneOfStr('UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT') });

export const peerAuthenticationSchema = msg('PeerAuthentication', {
  selector: matchLabelsSelector,
  mtls: mutualTls,
  portLevelMtls: map(mutualTls),
});

const strs = list(str);

const source = msg('Source', {
  principals: strs,
  notPrincipals: strs,
  requestPrincipals: strs,
  notRequestPrincipals: strs,
  namespaces: strs,
  notNamespaces: strs,
  ipBlocks: strs,
  notIpBlocks: strs,
  remoteIpBlocks: strs,
  notRemoteIpBlocks: strs,
  serviceAccounts: strs,
  notServiceAccounts: strs,
});

const operation = msg('Operation', {
  hosts: strs,
  notHosts: strs,
  ports: strs,
  notPorts: strs,
  methods: strs,
  notMethods: strs,
  paths: strs,
  notPaths: strs,
});

const rule = msg('Rule', {
  from: list(msg('From', { source })),
  to: list(msg('To', { operation })),
  when: list(msg('Condition', { key: required(str), values: strs, notValues: strs })),
});

export const authorizationPolicySchema = msg('AuthorizationPolicy', {
  selector: matchLabelsSelector,
  targetRef: policyTargetRef,
  targetRefs: list(policyTargetRef),
  rules: list(rule),
  action: oneOfStr('ALLOW', 'DENY', 'AUDIT', 'CUSTOM'),
  provider: msg('ExtensionProvider', { name: str }),
});

const jwtRule = msg('JWTRule', {
  issuer: required(str),
  audiences: strs,
  jwksUri: str,
  jwks: str,
  fromHeaders: list(msg('JWTHeader', { name: required(str), prefix: str })),
  fromParams: strs,
  fromCookies: strs,
  outputPayloadToHeader: str,
  forwardOriginalToken: bool,
  outputClaimToHeaders: list(msg('ClaimToHeader', { header: required(str), claim: required(str) })),
  timeout: dur,
});

export const requestAuthenticationSchema = msg('RequestAuthentication', {
  selector: matchLabelsSelector,
  targetRef: policyTargetRef,
  targetRefs: list(policyTargetRef),
  jwtRules: list(jwtRule),
});

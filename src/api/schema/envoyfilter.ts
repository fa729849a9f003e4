// Schema of networking.istio.io EnvoyFilter (https://istio.io/latest/docs/reference/config/networking/envoy-filter/).
import { deprecated, int, list, map, msg, networkingSelector, oneOfStr, policyTargetRef, port, str, struct } from './dsl.js';

const listenerMatch = msg('ListenerMatch', {
  portNumber: port,
  portName: deprecated(str),
  filterChain: msg('FilterChainMatch', {
    name: str,
    sni: str,
    transportProtocol: str,
    applicationProtocols: str,
    filter: msg('FilterMatch', { name: str, subFilter: msg('SubFilterMatch', { name: str }) }),
    destinationPort: port,
  }),
  listenerFilter: str,
  name: str,
});

const routeConfigurationMatch = msg('RouteConfigurationMatch', {
  portNumber: port,
  portName: str,
  gateway: str,
  vhost: msg('VirtualHostMatch', {
    name: str,
    domainName: str,
    route: msg('RouteMatch', { name: str, action: oneOfStr('ANY', 'ROUTE', 'REDIRECT', 'DIRECT_RESPONSE') }),
  }),
  name: str,
});

const clusterMatch = msg('ClusterMatch', { portNumber: port, service: str, subset: str, name: str });

export const APPLY_TO = [
  'INVALID', 'LISTENER', 'FILTER_CHAIN', 'NETWORK_FILTER', 'HTTP_FILTER', 'ROUTE_CONFIGURATION', 'VIRTUAL_HOST',
  'HTTP_ROUTE', 'CLUSTER', 'EXTENSION_CONFIG', 'BOOTSTRAP', 'LISTENER_FILTER',
] as const;
export const PATCH_OPERATIONS = ['INVALID', 'MERGE', 'ADD', 'REMOVE', 'INSERT_BEFORE', 'INSERT_AFTER', 'INSERT_FIRST', 'REPLACE'] as const;

const configPatch = msg('EnvoyConfigObjectPatch', {
  applyTo: oneOfStr(...APPLY_TO),
  match: msg('EnvoyConfigObjectMatch', {
    context: oneOfStr('ANY', 'SIDECAR_INBOUND', 'SIDECAR_OUTBOUND', 'GATEWAY'),
    proxy: msg('ProxyMatch', { proxyVersion: str, metadata: map(str) }),
    listener: listenerMatch,
    routeConfiguration: routeConfigurationMatch,
    cluster: clusterMatch,
  }),
  patch: msg('Patch', {
    operation: oneOfStr(...PATCH_OPERATIONS),
    value: struct,
    filterClass: oneOfStr('UNSPECIFIED', 'AUTHN', 'AUTHZ', 'STATS'),
  }),
});

export const envoyFilterSchema = msg('EnvoyFilter', {
  workloadSelector: networkingSelector,
  targetRefs: list(policyTargetRef),
  configPatches: list(configPatch),
  priority: int,
});

// Proxyless gRPC (node metadata GENERATOR=grpc): listener and route generation as istiod's grpcgen does it.
export { grpcListeners } from './lds.js';
export { grpcRouteConfig } from './rds.js';
export { SERVER_LISTENER_PREFIX, parseRouteName, splitHostPort, tryFindFQDN } from './names.js';

// Schema of networking.istio.io VirtualService (https://istio.io/latest/docs/reference/config/networking/virtual-service/).
import { bool, deprecated, dur, int, labels, list, map, msg, num, oneOfStr, port, required, str, stringMatch, uint } from './dsl.js';

export const percent = msg('Percent', { value: num });
export const portSelector = msg('PortSelector', { number: port });
export const destination = msg('Destination', { host: required(str), subset: str, port: portSelector });

const headerOperations = msg('HeaderOperations', { set: map(str), add: map(str), remove: list(str) });
export const headers = msg('Headers', { request: headerOperations, response: headerOperations });

const httpMatchRequest = msg('HTTPMatchRequest', {
  name: str,
  uri: stringMatch,
  scheme: stringMatch,
  method: stringMatch,
  authority: stringMatch,
  headers: map(stringMatch),
  port,
  sourceLabels: labels,
  gateways: list(str),
  queryParams: map(stringMatch),
  ignoreUriCase: bool,
  withoutHeaders: map(stringMatch),
  sourceNamespace: str,
  statPrefix: str,
});

const httpRouteDestination = msg('HTTPRouteDestination', { destination: required(destination), weight: int, headers });
const routeDestination = msg('RouteDestination', { destination: required(destination), weight: int });

const httpRedirect = msg('HTTPRedirect', {
  uri: str,
  authority: str,
  port,
  derivePort: oneOfStr('FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT'),
  scheme: str,
  redirectCode: uint,
}, [['port', 'derivePort']]);

const httpDirectResponse = msg('HTTPDirectResponse', {
  status: required(uint),
  body: msg('HTTPBody', { string: str, bytes: str }, [['string', 'bytes']]),
});

const delegate = msg('Delegate', { name: str, namespace: str });

const httpRewrite = msg('HTTPRewrite', {
  uri: str,
  authority: str,
  uriRegexRewrite: msg('RegexRewrite', { match: str, rewrite: str }),
});

const httpRetry = msg('HTTPRetry', {
  attempts: int,
  perTryTimeout: dur,
  retryOn: str,
  retryRemoteLocalities: bool,
  retryIgnorePreviousHosts: bool,
  backoff: dur,
});

const corsPolicy = msg('CorsPolicy', {
  allowOrigins: list(stringMatch),
  allowOrigin: deprecated(list(str)),
  allowMethods: list(str),
  allowHeaders: list(str),
  exposeHeaders: list(str),
  maxAge: dur,
  allowCredentials: bool,
  unmatchedPreflights: oneOfStr('UNSPECIFIED', 'FORWARD', 'IGNORE'),
});

const faultDelay = msg('Delay', {
  fixedDelay: dur,
  exponentialDelay: dur,
  percentage: percent,
  percent: deprecated(int),
}, [['fixedDelay', 'exponentialDelay']]);

const faultAbort = msg('Abort', {
  httpStatus: int,
  grpcStatus: str,
  http2Error: str,
  percentage: percent,
}, [['httpStatus', 'grpcStatus', 'http2Error']]);

const httpMirrorPolicy = msg('HTTPMirrorPolicy', { destination: required(destination), percentage: percent });

const httpRoute = msg('HTTPRoute', {
  name: str,
  match: list(httpMatchRequest),
  route: list(httpRouteDestination),
  redirect: httpRedirect,
  directResponse: httpDirectResponse,
  delegate,
  rewrite: httpRewrite,
  timeout: dur,
  retries: httpRetry,
  fault: msg('HTTPFaultInjection', { delay: faultDelay, abort: faultAbort }),
  mirror: destination,
  mirrors: list(httpMirrorPolicy),
  mirrorPercent: deprecated(uint),
  mirrorPercentage: percent,
  corsPolicy,
  headers,
});

const l4Match = msg('L4MatchAttributes', {
  destinationSubnets: list(str),
  port,
  sourceLabels: labels,
  gateways: list(str),
  sourceNamespace: str,
});

const tlsMatch = msg('TLSMatchAttributes', {
  sniHosts: required(list(str)),
  destinationSubnets: list(str),
  port,
  sourceLabels: labels,
  gateways: list(str),
  sourceNamespace: str,
});

export const virtualServiceSchema = msg('VirtualService', {
  hosts: list(str),
  gateways: list(str),
  http: list(httpRoute),
  tls: list(msg('TLSRoute', { match: required(list(tlsMatch)), route: list(routeDestination) })),
  tcp: list(msg('TCPRoute', { match: list(l4Match), route: list(routeDestination) })),
  exportTo: list(str),
});

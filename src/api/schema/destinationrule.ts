// Schema of networking.istio.io DestinationRule (https://istio.io/latest/docs/reference/config/networking/destination-rule/).
import { bool, deprecated, dur, int, labels, list, map, msg, networkingSelector, num, oneOfStr, ref, required, str, uint, type Schema } from './dsl.js';
import { portSelector } from './virtualservice.js';

const consistentHash = msg('ConsistentHashLB', {
  httpHeaderName: str,
  httpCookie: msg('HTTPCookie', {
    name: required(str),
    path: str,
    ttl: dur,
    attributes: list(msg('Attribute', { name: required(str), value: str })),
  }),
  useSourceIp: bool,
  httpQueryParameterName: str,
  ringHash: msg('RingHash', { minimumRingSize: uint }),
  maglev: msg('MagLev', { tableSize: uint }),
  minimumRingSize: deprecated(uint),
}, [['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'], ['ringHash', 'maglev']]);

const localityLbSetting = msg('LocalityLoadBalancerSetting', {
  distribute: list(msg('Distribute', { from: str, to: map(uint) })),
  failover: list(msg('Failover', { from: str, to: str })),
  failoverPriority: list(str),
  enabled: bool,
});

export const loadBalancer = msg('LoadBalancerSettings', {
  simple: oneOfStr('UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST'),
  consistentHash,
  localityLbSetting,
  warmupDurationSecs: dur,
  warmup: msg('WarmupConfiguration', { duration: required(dur), minimumPercent: num, aggression: num }),
}, [['simple', 'consistentHash']]);

export const connectionPool = msg('ConnectionPoolSettings', {
  tcp: msg('TCPSettings', {
    maxConnections: int,
    connectTimeout: dur,
    tcpKeepalive: msg('TcpKeepalive', { probes: uint, time: dur, interval: dur }),
    maxConnectionDuration: dur,
    idleTimeout: dur,
  }),
  http: msg('HTTPSettings', {
    http1MaxPendingRequests: int,
    http2MaxRequests: int,
    maxRequestsPerConnection: int,
    maxRetries: int,
    idleTimeout: dur,
    h2UpgradePolicy: oneOfStr('DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE'),
    useClientProtocol: bool,
    maxConcurrentStreams: int,
  }),
});

export const outlierDetection = msg('OutlierDetection', {
  splitExternalLocalOriginErrors: bool,
  consecutiveLocalOriginFailures: uint,
  consecutiveGatewayErrors: uint,
  consecutive5xxErrors: uint,
  consecutiveErrors: deprecated(int),
  interval: dur,
  baseEjectionTime: dur,
  maxEjectionPercent: int,
  minHealthPercent: int,
});

export const clientTls = msg('ClientTLSSettings', {
  mode: oneOfStr('DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'),
  clientCertificate: str,
  privateKey: str,
  caCertificates: str,
  credentialName: str,
  subjectAltNames: list(str),
  sni: str,
  insecureSkipVerify: bool,
  caCrl: str,
});

const portTrafficPolicy = msg('PortTrafficPolicy', {
  port: portSelector,
  loadBalancer,
  connectionPool,
  outlierDetection,
  tls: clientTls,
});

const trafficPolicy: Schema = msg('TrafficPolicy', {
  loadBalancer,
  connectionPool,
  outlierDetection,
  tls: clientTls,
  portLevelSettings: list(portTrafficPolicy),
  tunnel: msg('TunnelSettings', { protocol: str, targetHost: required(str), targetPort: required(uint) }),
  proxyProtocol: msg('ProxyProtocol', { version: oneOfStr('V1', 'V2') }),
  retryBudget: msg('RetryBudget', { percent: num, minRetryConcurrency: uint }),
});

export const destinationRuleSchema = msg('DestinationRule', {
  host: required(str),
  trafficPolicy,
  subsets: list(msg('Subset', { name: required(str), labels, trafficPolicy: ref(() => trafficPolicy) })),
  exportTo: list(str),
  workloadSelector: networkingSelector,
});

// The upstream layer's public surface: ClusterManager implementation, errors, load balancers, test helpers.
export { UpstreamClusters, type UpstreamClustersOptions } from './cluster-manager.js';
export { ClusterImpl } from './cluster.js';
export { UpstreamResetError, type ResetReason } from './errors.js';
export { realTimers, systemDns, type DnsLookup, type SecretLookup, type Timers, type TlsSecret } from './deps.js';
export { hostKey } from './host.js';
export { hashKey, combineHashes, seededRandom } from './lb/index.js';

// The listener layer's public surface: the manager, the per-config accept path, and its building blocks.
export { ActiveListener, listenerStatPrefix } from './active.js';
export type { ActiveListenerDeps } from './active.js';
export { ChainSelector } from './chain-match.js';
export type { ChainMatchInput } from './chain-match.js';
export { inspectHttp, inspectTls } from './inspect.js';
export type { HttpInspection, TlsInspection } from './inspect.js';
export { DEFAULT_LISTENER_DRAIN_MS, ListenerManager } from './manager.js';
export type { ListenerManagerOptions, ListenerState, ListenerStatus } from './manager.js';
export { localDestination, normalizeIp, originalDestination } from './original-dst.js';
export type { OriginalDstHook } from './original-dst.js';
export { sniff } from './sniff.js';
export type { SniffOptions, SniffResult } from './sniff.js';
export { DownstreamTlsContext } from './tls.js';
export type { SecretMaterial, SecretProvider, TerminatedTls } from './tls.js';

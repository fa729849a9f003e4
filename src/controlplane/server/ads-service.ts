// The ADS gRPC service definition now lives in src/xds/ads-service.ts (shared with the proxy's client); re-exported here.
export * from '../../xds/ads-service.js';

// The ADS gRPC service definition (envoy.service.discovery.v3.AggregatedDiscoveryService) built by hand on protobufjs types;
// shared by the control plane's server and the proxy's client.
import type * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs/light.js';
import type { AnyMessage } from './codec.js';
import { messageType } from './proto.js';

export const ADS_SERVICE = 'envoy.service.discovery.v3.AggregatedDiscoveryService';
export const SOTW_PATH = `/${ADS_SERVICE}/StreamAggregatedResources`;
export const DELTA_PATH = `/${ADS_SERVICE}/DeltaAggregatedResources`;

export interface RpcStatus {
  code?: number;
  message?: string;
}

/** A decoded DiscoveryRequest (proto field names; absent = default). */
export interface SotwRequest {
  version_info?: string;
  node?: Record<string, unknown>;
  resource_names?: string[];
  type_url?: string;
  response_nonce?: string;
  error_detail?: RpcStatus;
}

export interface SotwResponse {
  version_info: string;
  resources: AnyMessage[];
  type_url: string;
  nonce: string;
  control_plane?: { identifier: string };
}

export interface DeltaRequest {
  node?: Record<string, unknown>;
  type_url?: string;
  resource_names_subscribe?: string[];
  resource_names_unsubscribe?: string[];
  initial_resource_versions?: Record<string, string>;
  response_nonce?: string;
  error_detail?: RpcStatus;
}

export interface DeltaResource {
  name: string;
  version: string;
  resource: AnyMessage;
}

export interface DeltaResponse {
  system_version_info: string;
  resources: DeltaResource[];
  type_url: string;
  removed_resources: string[];
  nonce: string;
  control_plane?: { identifier: string };
}

/** Decoding options: plain objects, 64-bit ints and enums as strings, bytes as Buffers, Any left as {type_url, value}. */
export const DECODE_OPTIONS: protobuf.IConversionOptions = { longs: String, enums: String, defaults: false };

function toBuffer(u8: Uint8Array): Buffer {
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

/** Serializer for messages we build ourselves (already well-typed: encode directly, no fromObject copy). */
function encoder<T>(t: protobuf.Type): (v: T) => Buffer {
  return (v) => toBuffer(t.encode(v as object).finish());
}

/** Serializer for messages from callers (tests, clients): fromObject first, so Struct/enum strings are converted. */
function lenientEncoder<T>(t: protobuf.Type): (v: T) => Buffer {
  return (v) => toBuffer(t.encode(t.fromObject(v as Record<string, unknown>)).finish());
}

function decoder<T>(t: protobuf.Type): (b: Buffer) => T {
  return (b) => t.toObject(t.decode(b), DECODE_OPTIONS) as T;
}

/** The two ADS methods as a grpc-js ServiceDefinition (usable for both server and test clients). */
export function adsServiceDefinition(): grpc.ServiceDefinition {
  const req = messageType('envoy.service.discovery.v3.DiscoveryRequest');
  const res = messageType('envoy.service.discovery.v3.DiscoveryResponse');
  const dreq = messageType('envoy.service.discovery.v3.DeltaDiscoveryRequest');
  const dres = messageType('envoy.service.discovery.v3.DeltaDiscoveryResponse');
  const sotw: grpc.MethodDefinition<SotwRequest, SotwResponse> = {
    path: SOTW_PATH,
    originalName: 'streamAggregatedResources',
    requestStream: true,
    responseStream: true,
    requestSerialize: lenientEncoder(req),
    requestDeserialize: decoder(req),
    responseSerialize: encoder(res),
    responseDeserialize: decoder(res),
  };
  const delta: grpc.MethodDefinition<DeltaRequest, DeltaResponse> = {
    path: DELTA_PATH,
    originalName: 'deltaAggregatedResources',
    requestStream: true,
    responseStream: true,
    requestSerialize: lenientEncoder(dreq),
    requestDeserialize: decoder(dreq),
    responseSerialize: encoder(dres),
    responseDeserialize: decoder(dres),
  };
  return { StreamAggregatedResources: sotw, DeltaAggregatedResources: delta };
}

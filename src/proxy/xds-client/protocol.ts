// What the SotW and Delta protocol drivers share with the ADS client: the subscriptions wanted per type, how an accepted
// or rejected response is recorded, and the admin view of each type.
import type { RawResource } from './decode-cache.js';

/** Envoy's order: CDS, then EDS for its clusters, then LDS, then RDS for its listeners. */
export { PushOrder as TYPE_ORDER } from '../../xds/types.js';

/** google.rpc.Code INVALID_ARGUMENT: the code of a NACK's error_detail. */
export const INVALID_ARGUMENT = 3;
/** NACK details longer than this are cut (a gRPC message must stay reasonable). */
export const MAX_NACK_DETAIL = 16 * 1024;

export interface TypeState {
  typeUrl: string;
  /** Last accepted version (SotW version_info; Delta system_version_info). */
  version: string;
  /** Nonce of the last response received. */
  nonce: string;
  /** When the last accepted update was applied (epoch ms). */
  lastUpdate?: number;
  /** Resources held (accepted; may still be warming). */
  resources: number;
  /** Subscribed names, or '*' for wildcard types. */
  subscribed: string[] | '*';
  lastNack?: { version: string; nonce: string; detail: string; at: number };
}

export interface XdsClientState {
  server: string;
  protocol: 'sotw' | 'delta';
  connected: boolean;
  /** When the current stream got its first response (epoch ms). */
  connectedSince?: number;
  lastError?: { message: string; at: number };
  /** Streams opened after the first one. */
  reconnects: number;
  /** The first full config (LDS + CDS and their RDS/EDS) was applied. */
  ready: boolean;
  warming: { listeners: string[]; clusters: string[] };
  /** By short type name: lds, cds, rds, eds. */
  types: Record<string, TypeState>;
}

/** One response, normalised across SotW and Delta. */
export interface ResponseUpdate {
  typeUrl: string;
  version: string;
  nonce: string;
  resources: RawResource[];
  removed: string[];
  /** SotW LDS/CDS: the complete set. */
  full: boolean;
}

export interface ProtocolHost {
  /** The Node proto, sent on the first request of each stream. */
  readonly node: object;
  /** Names wanted for a type: '*' for LDS/CDS, the referenced names for RDS/EDS. */
  wanted(typeUrl: string): string[] | '*';
  /** Decodes and applies a response; returns the NACK detail, or undefined when accepted. */
  handle(update: ResponseUpdate): string | undefined;
  /** The last accepted version of a type ('' before any). */
  acceptedVersion(typeUrl: string): string;
}

/** A protocol driver over one stream at a time. */
export interface Protocol {
  /** A new stream is open: subscribe to everything wanted, with the versions already held. */
  start(send: (req: object) => void): void;
  /** A response arrived on the current stream. */
  onResponse(res: unknown): void;
  /** Subscriptions may have changed: tell the server. */
  sync(): void;
  /** Names subscribed per type (admin). */
  subscribed(typeUrl: string): string[] | '*';
}

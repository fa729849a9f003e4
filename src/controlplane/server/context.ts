// What the SotW and Delta protocol handlers need from the server: generation with shared encoding, metrics, ACK/NACK bookkeeping.
import diagnostics_channel from 'node:diagnostics_channel';
import type { Logger } from '../../shared/log.js';
import { ShortType } from '../../xds/types.js';
import type { PushContext } from '../model/types.js';
import type { RpcStatus } from './ads-service.js';
import type { Connection, WatchState } from './connection.js';
import type { Metrics } from './metrics.js';
import type { EncodedResource } from './resource-cache.js';

/** What happened to one request, published on `isthmus.xds.request` for observers (tests, tracing). */
export interface RequestEvent {
  conId: string;
  node: string;
  typeUrl: string;
  kind: 'subscribe' | 'ack' | 'nack' | 'stale';
}

export const requestChannel = diagnostics_channel.channel('isthmus.xds.request');

export function publishRequest(con: Connection, typeUrl: string, kind: RequestEvent['kind']): void {
  if (requestChannel.hasSubscribers) requestChannel.publish({ conId: con.conId, node: con.proxy.id, typeUrl, kind } satisfies RequestEvent);
}

/** How one type is pushed to one connection. */
export interface TypePush {
  push: PushContext;
  /** Respond even when nothing changed (the client asked). */
  forced: boolean;
  /** Endpoint-only push: only resources whose name passes (clusters of changed hosts). */
  only?: (name: string) => boolean;
  /** Resend these resources even when unchanged (EDS of clusters that CDS just updated). */
  resend?: ReadonlySet<string>;
  /** Delta: names the client just subscribed to (reported as removed if they do not exist). */
  subscribed?: ReadonlySet<string>;
}

export interface TypePushResult {
  sent: boolean;
  /** Names of the resources in the response. */
  names: string[];
}

export interface ServerContext {
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly controlPlane: { identifier: string };
  currentPush(): PushContext;
  /** Generates and encodes one type for a connection; undefined when there is no generator or it failed. */
  build(con: Connection, typeUrl: string, names: readonly string[] | undefined, push: PushContext): EncodedResource[] | undefined;
  /** Metrics and bookkeeping after a response was written. */
  recordSend(con: Connection, typeUrl: string, resources: readonly EncodedResource[], startedAt: number): void;
}

export function shortType(typeUrl: string): string {
  return ShortType[typeUrl] ?? typeUrl.slice(typeUrl.lastIndexOf('.') + 1);
}

/**
 * A NACK: logged with the node and the client's reason, counted; the node keeps its last ACKed version. Clients repeat
 * error_detail on later requests for the same response (grpc-js-xds does, with subscription changes): counted once.
 */
export function recordNack(ctx: ServerContext, con: Connection, w: WatchState, nonce: string, detail: RpcStatus): void {
  if (w.nack?.nonce === nonce) return;
  const message = detail.message ?? `code ${detail.code ?? 'unknown'}`;
  w.nack = { version: w.versionSent, nonce, message, at: Date.now() };
  w.nonceAcked = nonce;
  const type = shortType(w.typeUrl);
  ctx.metrics.xdsRejects.inc({ type });
  ctx.log.warn('xDS NACK', { node: con.proxy.id, type, version: w.versionSent, nonce, error: message });
}

/** An ACK of the last response: the client now runs the version we sent. */
export function recordAck(w: WatchState, nonce: string): void {
  w.nonceAcked = nonce;
  w.versionAcked = w.versionSent;
  w.nack = undefined;
}

/** The names to generate for a subscription (undefined = all), narrowed by an endpoint-only push filter. */
export function namesToGenerate(w: WatchState, tp: TypePush): string[] | undefined {
  if (w.wildcard) return undefined;
  const names = [...w.names];
  return tp.only ? names.filter(tp.only) : names;
}

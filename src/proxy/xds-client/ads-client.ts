// The proxy's ADS client: one gRPC stream to the control plane (SotW by default, Delta on request), decoding every
// response all-or-nothing into the XdsConfigSource, ACK/NACK with the reasons, and reconnecting with jittered
// exponential backoff while the last good config keeps serving.
import { EventEmitter } from 'node:events';
import grpc from '@grpc/grpc-js';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { logger } from '../../shared/log.js';
import { adsServiceDefinition } from '../../xds/ads-service.js';
import { ShortType, TypeUrl, isWildcardType } from '../../xds/types.js';
import { XdsConfigSource } from '../runtime/config-source.js';
import type { ConfigSourceOptions } from '../runtime/config-source.js';
import { decoders } from '../runtime/decode/index.js';
import type { DecodeContext } from '../runtime/decode/index.js';
import { defaultDecodeContext } from '../runtime/decode/util.js';
import { Backoff } from './backoff.js';
import type { BackoffOptions } from './backoff.js';
import { DecodeCache } from './decode-cache.js';
import { DeltaProtocol } from './delta.js';
import { buildNode } from './node.js';
import type { NodeProto, ProxyNodeOptions } from './node.js';
import type { Protocol, ProtocolHost, ResponseUpdate, TypeState, XdsClientState } from './protocol.js';
import { MAX_NACK_DETAIL } from './protocol.js';
import { SotwProtocol } from './sotw.js';

const log = logger('xds-client');
const TYPES = [TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment, TypeUrl.Listener, TypeUrl.RouteConfiguration] as const;

export interface AdsClientOptions {
  /** Control plane address `host:port`. */
  server: string;
  /** Who the proxy is (node id and Istio metadata), or a ready-made Node proto. */
  node: ProxyNodeOptions | NodeProto;
  /** Delta (incremental) xDS instead of State-of-the-World. */
  delta?: boolean;
  /** Where accepted config goes; default a new XdsConfigSource with `warmingTimeoutMs`. */
  source?: XdsConfigSource;
  warmingTimeoutMs?: ConfigSourceOptions['warmingTimeoutMs'];
  /** Reconnect backoff (default 100 ms base, 15 s cap, full jitter). */
  backoff?: BackoffOptions;
  /** Default: plaintext. */
  credentials?: grpc.ChannelCredentials;
  channelOptions?: grpc.ChannelOptions;
  decodeContext?: DecodeContext;
}

export interface AckEvent {
  typeUrl: string;
  version: string;
  nonce: string;
}
export interface NackEvent extends AckEvent {
  detail: string;
}

export interface AdsClientEvents {
  connected: [];
  disconnected: [{ error?: string }];
  ack: [AckEvent];
  nack: [NackEvent];
}

function isNodeProto(n: ProxyNodeOptions | NodeProto): n is NodeProto {
  return typeof (n as NodeProto).id === 'string';
}

export class AdsClient extends EventEmitter<AdsClientEvents> implements ProtocolHost {
  readonly source: XdsConfigSource;
  readonly node: NodeProto;
  private readonly server: string;
  private readonly client: grpc.Client;
  private readonly protocol: Protocol;
  private readonly backoff: Backoff;
  private readonly cache: DecodeCache;
  private readonly typeState = new Map<string, TypeState>();
  private readonly delta: boolean;
  private stream: ClientDuplexStream<object, unknown> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private started = false;
  private closed = false;
  private connected = false;
  private connectedSince: number | undefined;
  private lastError: { message: string; at: number } | undefined;
  private streams = 0;

  constructor(o: AdsClientOptions) {
    super();
    this.server = o.server;
    this.delta = o.delta === true;
    this.node = isNodeProto(o.node) ? o.node : buildNode(o.node);
    this.source = o.source ?? new XdsConfigSource(o.warmingTimeoutMs !== undefined ? { warmingTimeoutMs: o.warmingTimeoutMs } : {});
    this.backoff = new Backoff(o.backoff);
    this.cache = new DecodeCache(decoders(o.decodeContext ?? defaultDecodeContext));
    this.protocol = this.delta ? new DeltaProtocol(this) : new SotwProtocol(this);
    for (const t of TYPES) this.typeState.set(t, { typeUrl: t, version: '', nonce: '', resources: 0, subscribed: isWildcardType(t) ? '*' : [] });
    // Let our backoff decide when to retry: the channel's own reconnect backoff must not be slower.
    this.client = new grpc.Client(o.server, o.credentials ?? grpc.credentials.createInsecure(), {
      'grpc.initial_reconnect_backoff_ms': o.backoff?.baseMs ?? 100,
      'grpc.max_reconnect_backoff_ms': o.backoff?.maxMs ?? 15_000,
      ...o.channelOptions,
    });
  }

  /** Opens the ADS stream (idempotent). */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.connect();
  }

  /** Ends the stream and the channel; the source keeps its last snapshot. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const s = this.stream;
    this.stream = undefined;
    s?.cancel();
    this.client.close();
    this.source.close();
    this.connected = false;
  }

  /** Admin view: connection, last error, and per type version, nonce, last update and last NACK. */
  state(): XdsClientState {
    const types: Record<string, TypeState> = {};
    for (const [t, s] of this.typeState) {
      types[ShortType[t] ?? t] = { ...s, resources: this.source.count(t), subscribed: this.protocol.subscribed(t) };
    }
    return {
      server: this.server,
      protocol: this.delta ? 'delta' : 'sotw',
      connected: this.connected,
      ...(this.connectedSince !== undefined ? { connectedSince: this.connectedSince } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
      reconnects: Math.max(0, this.streams - 1),
      ready: this.source.isReady,
      warming: this.source.warming(),
      types,
    };
  }

  // ------------------------------------------------------------------ ProtocolHost

  wanted(typeUrl: string): string[] | '*' {
    if (isWildcardType(typeUrl)) return '*';
    if (typeUrl === TypeUrl.RouteConfiguration) return this.source.routeNames();
    if (typeUrl === TypeUrl.ClusterLoadAssignment) return this.source.endpointNames();
    return [];
  }

  acceptedVersion(typeUrl: string): string {
    return this.typeState.get(typeUrl)?.version ?? '';
  }

  handle(u: ResponseUpdate): string | undefined {
    const st = this.typeState.get(u.typeUrl);
    if (st) st.nonce = u.nonce;
    const decoded = this.cache.decode(u.typeUrl, u.resources);
    if (!decoded.ok) return this.reject(u, decoded.errors);
    if (!isWildcardType(u.typeUrl)) {
      // RDS/EDS responses may carry names we did not ask for (or no longer want): ignore those.
      const wanted = this.wanted(u.typeUrl);
      const want = new Set(wanted === '*' ? [] : wanted);
      for (const n of [...decoded.values.keys()]) if (!want.has(n)) decoded.values.delete(n);
    }
    return this.accept(u, decoded.values, decoded.commit);
  }

  private accept(u: ResponseUpdate, values: ReadonlyMap<string, unknown>, commit: () => void): undefined {
    this.source.apply(u.typeUrl, { version: u.version, upserts: values, removed: u.removed, full: u.full });
    commit();
    for (const t of TYPES) this.cache.retain(t, (n) => this.source.held(t, n));
    const st = this.typeState.get(u.typeUrl);
    if (st) {
      st.version = u.version;
      st.lastUpdate = Date.now();
    }
    this.emit('ack', { typeUrl: u.typeUrl, version: u.version, nonce: u.nonce });
    return undefined;
  }

  private reject(u: ResponseUpdate, errors: string[]): string {
    let detail = errors.join('\n');
    if (detail.length > MAX_NACK_DETAIL) detail = `${detail.slice(0, MAX_NACK_DETAIL)}\n... (${errors.length} errors in all)`;
    const st = this.typeState.get(u.typeUrl);
    if (st) st.lastNack = { version: u.version, nonce: u.nonce, detail, at: Date.now() };
    log.warn('xDS update rejected', { type: ShortType[u.typeUrl] ?? u.typeUrl, version: u.version, errors: errors.length, first: errors[0] });
    this.emit('nack', { typeUrl: u.typeUrl, version: u.version, nonce: u.nonce, detail });
    return detail;
  }

  // ------------------------------------------------------------------ stream lifecycle

  private connect(): void {
    if (this.closed) return;
    this.retryTimer = undefined;
    const def = adsServiceDefinition();
    const method = this.delta ? def.DeltaAggregatedResources : def.StreamAggregatedResources;
    if (!method) throw new Error('ADS service definition has no method');
    const m = method as grpc.MethodDefinition<object, unknown>;
    const stream = this.client.makeBidiStreamRequest<object, unknown>(m.path, (v) => m.requestSerialize(v), (b) => m.responseDeserialize(b), new grpc.Metadata());
    this.stream = stream;
    this.streams++;
    let healthy = false;
    const markConnected = (): void => {
      if (stream !== this.stream || this.connected) return;
      this.connected = true;
      this.connectedSince = Date.now();
      log.info('connected to the control plane', { server: this.server, protocol: this.delta ? 'delta' : 'sotw' });
      this.emit('connected');
    };
    stream.on('metadata', markConnected);
    stream.on('data', (res: unknown) => {
      if (stream !== this.stream) return;
      if (!healthy) {
        healthy = true;
        this.backoff.reset();
      }
      markConnected();
      try {
        this.protocol.onResponse(res);
      } catch (e) {
        // A bug in our handling must not kill the process: drop the stream and resubscribe.
        log.error('failed to handle an xDS response', { error: e instanceof Error ? e.stack : String(e) });
        this.onStreamEnd(stream, e instanceof Error ? e.message : String(e));
        stream.cancel();
      }
    });
    stream.on('error', (err: Error) => this.onStreamEnd(stream, err.message));
    stream.on('status', (s: grpc.StatusObject) => this.onStreamEnd(stream, s.code === grpc.status.OK ? 'stream closed by the control plane' : s.details || grpc.status[s.code]));
    stream.on('end', () => this.onStreamEnd(stream, 'stream closed by the control plane'));
    this.protocol.start((req) => {
      if (stream === this.stream) stream.write(req);
    });
  }

  private onStreamEnd(stream: ClientDuplexStream<object, unknown>, reason: string): void {
    if (stream !== this.stream) return;
    this.stream = undefined;
    const wasConnected = this.connected;
    this.connected = false;
    this.connectedSince = undefined;
    this.lastError = { message: reason, at: Date.now() };
    stream.cancel();
    if (this.closed) return;
    const delay = this.backoff.next();
    if (wasConnected) log.warn('lost the control plane; serving the last config', { server: this.server, reason, retryInMs: delay });
    else log.debug('control plane unavailable', { server: this.server, reason, retryInMs: delay });
    this.emit('disconnected', { error: reason });
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.retryTimer.unref();
  }
}

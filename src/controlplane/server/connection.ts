// One ADS stream: the proxy behind it, what it watches per type (names, versions, nonces, ACK/NACK) and its writes.
import type * as grpc from '@grpc/grpc-js';
import type { Proxy } from '../model/types.js';

export interface NackInfo {
  /** Version of the response the client rejected. */
  version: string;
  nonce: string;
  message: string;
  /** Epoch ms. */
  at: number;
}

/** Per-type subscription and sync state (istiod's WatchedResource). */
export interface WatchState {
  typeUrl: string;
  /** Subscribed to all resources of the type. */
  wildcard: boolean;
  /** Explicitly subscribed resource names. */
  names: Set<string>;
  nonceSent: string;
  versionSent: string;
  nonceAcked: string;
  versionAcked: string;
  /** Epoch ms of the last response. */
  sentAt: number;
  /** The last NACK, cleared by the next ACK. */
  nack?: NackInfo;
  /** What the client holds, as far as we know: resource name → resource hash (updated when sent). */
  sent: Map<string, string>;
}

export type StreamMode = 'sotw' | 'delta';

let connectionCounter = 0;

export class Connection<Res = unknown> {
  /** Unique per stream: `proxyId-N`, as istiod's ConID. */
  readonly conId: string;
  readonly connectedAt = new Date();
  readonly watched = new Map<string, WatchState>();
  closed = false;
  private nonceCounter = 0;
  private outstanding = 0;
  private flushWaiters: (() => void)[] = [];

  constructor(
    readonly proxy: Proxy,
    readonly mode: StreamMode,
    private readonly stream: grpc.ServerDuplexStream<unknown, Res>,
    readonly peer: string,
  ) {
    connectionCounter++;
    this.conId = `${proxy.id}-${connectionCounter}`;
  }

  /** A nonce unique on this stream. */
  nextNonce(): string {
    this.nonceCounter++;
    return `${this.nonceCounter.toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  }

  watch(typeUrl: string): WatchState {
    let w = this.watched.get(typeUrl);
    if (!w) {
      w = { typeUrl, wildcard: false, names: new Set(), nonceSent: '', versionSent: '', nonceAcked: '', versionAcked: '', sentAt: 0, sent: new Map() };
      this.watched.set(typeUrl, w);
    }
    return w;
  }

  /** Writes one response; returns false when the stream is closed. */
  send(msg: Res): boolean {
    if (this.closed) return false;
    this.outstanding++;
    this.stream.write(msg, () => this.written());
    return true;
  }

  private written(): void {
    this.outstanding--;
    if (this.outstanding <= 0) this.releaseWaiters();
  }

  /** Resolves when every response written so far has been handed to the transport (or the stream closed). */
  flushed(): Promise<void> {
    if (this.outstanding <= 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push(resolve));
  }

  private releaseWaiters(): void {
    const w = this.flushWaiters;
    this.flushWaiters = [];
    for (const f of w) f();
  }

  /** Marks the stream closed and releases anyone waiting on writes. */
  markClosed(): void {
    this.closed = true;
    this.releaseWaiters();
  }

  /** Ends the stream with OK status (server shutdown). */
  end(): void {
    if (this.closed) return;
    this.markClosed();
    this.stream.end();
  }
}

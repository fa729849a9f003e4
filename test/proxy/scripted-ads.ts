// A scripted ADS server (SotW and Delta) for proxy xds-client tests: serves resources set by the test, records every
// request (ACK, NACK, subscriptions, initial versions), can bind a given port again after a stop.
import { EventEmitter } from 'node:events';
import grpc from '@grpc/grpc-js';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { encode } from '../../src/xds/codec.js';
import { adsServiceDefinition } from '../../src/xds/ads-service.js';
import type { DeltaRequest, DeltaResponse, SotwRequest, SotwResponse } from '../../src/xds/ads-service.js';
import { isWildcardType } from '../../src/xds/types.js';

export interface SeenRequest {
  stream: number;
  mode: 'sotw' | 'delta';
  typeUrl: string;
  version: string;
  nonce: string;
  names: string[];
  subscribe: string[];
  unsubscribe: string[];
  initial: Record<string, string>;
  errorDetail?: { code: number; message: string };
  hasNode: boolean;
  node?: Record<string, unknown>;
}

interface Res {
  obj: object;
  version: string;
}

interface Watch {
  wildcard: boolean;
  names: Set<string>;
  /** Delta: versions the client holds. */
  sent: Map<string, string>;
}

interface Stream {
  id: number;
  mode: 'sotw' | 'delta';
  watches: Map<string, Watch>;
  write(msg: SotwResponse | DeltaResponse): void;
  end(): void;
}

export class ScriptedAds extends EventEmitter<{ request: [SeenRequest] }> {
  readonly requests: SeenRequest[] = [];
  private readonly resources = new Map<string, Map<string, Res>>();
  private readonly streams = new Set<Stream>();
  private server: grpc.Server | undefined;
  private version = 0;
  private nonce = 0;
  private streamCount = 0;
  port = 0;

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Binds 127.0.0.1:`port` (0 = any; the previous port after a stop()). */
  async start(port = this.port): Promise<string> {
    const server = new grpc.Server();
    const def = adsServiceDefinition();
    server.addService(def, {
      StreamAggregatedResources: (call: ServerDuplexStream<SotwRequest, SotwResponse>) => this.onStream('sotw', call),
      DeltaAggregatedResources: (call: ServerDuplexStream<DeltaRequest, DeltaResponse>) => this.onStream('delta', call),
    });
    this.port = await new Promise<number>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    this.server = server;
    return this.address;
  }

  /** Ends every stream and shuts the server down (the port can be bound again by start()). */
  stop(): void {
    for (const s of this.streams) s.end();
    this.streams.clear();
    this.server?.forceShutdown();
    this.server = undefined;
  }

  /** Sets resources of a type (undefined deletes) under a new version and pushes to every watching stream. */
  set(typeUrl: string, entries: Record<string, object | undefined>): void {
    const v = String(++this.version);
    let m = this.resources.get(typeUrl);
    if (!m) this.resources.set(typeUrl, (m = new Map()));
    for (const [name, obj] of Object.entries(entries)) {
      if (obj) m.set(name, { obj, version: v });
      else m.delete(name);
    }
    for (const s of this.streams) if (s.watches.has(typeUrl)) this.respond(s, typeUrl);
  }

  /** The first recorded request (from `from` on) matching `pred`, waiting for it if needed. */
  async waitFor(pred: (r: SeenRequest) => boolean, opts: { from?: number; timeoutMs?: number } = {}): Promise<SeenRequest> {
    const found = this.requests.slice(opts.from ?? 0).find(pred);
    if (found) return found;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('request', on);
        reject(new Error(`no matching request within ${opts.timeoutMs ?? 5000} ms; seen:\n${this.requests.map((r) => JSON.stringify({ ...r, node: undefined })).join('\n')}`));
      }, opts.timeoutMs ?? 5000);
      const on = (r: SeenRequest): void => {
        if (!pred(r)) return;
        clearTimeout(timer);
        this.off('request', on);
        resolve(r);
      };
      this.on('request', on);
    });
  }

  private onStream(mode: 'sotw' | 'delta', call: ServerDuplexStream<SotwRequest, SotwResponse> | ServerDuplexStream<DeltaRequest, DeltaResponse>): void {
    const s: Stream = {
      id: ++this.streamCount,
      mode,
      watches: new Map(),
      write: (msg) => (call as ServerDuplexStream<unknown, SotwResponse | DeltaResponse>).write(msg),
      end: () => call.end(),
    };
    this.streams.add(s);
    const drop = (): void => {
      this.streams.delete(s);
    };
    call.on('data', (raw: SotwRequest | DeltaRequest) => (mode === 'sotw' ? this.onSotw(s, raw) : this.onDelta(s, raw)));
    call.on('end', () => {
      drop();
      call.end();
    });
    call.on('error', drop);
    call.on('cancelled', drop);
  }

  private record(s: Stream, r: Partial<SeenRequest> & { typeUrl: string }, node: Record<string, unknown> | undefined): void {
    const seen: SeenRequest = { stream: s.id, mode: s.mode, version: '', nonce: '', names: [], subscribe: [], unsubscribe: [], initial: {}, hasNode: node !== undefined, ...r, ...(node ? { node } : {}) };
    this.requests.push(seen);
    this.emit('request', seen);
  }

  private onSotw(s: Stream, r: SotwRequest): void {
    const typeUrl = r.type_url ?? '';
    const names = [...(r.resource_names ?? [])].sort();
    this.record(s, { typeUrl, version: r.version_info ?? '', nonce: r.response_nonce ?? '', names, ...(r.error_detail ? { errorDetail: { code: r.error_detail.code ?? 0, message: r.error_detail.message ?? '' } } : {}) }, r.node);
    const prev = s.watches.get(typeUrl);
    const w: Watch = { wildcard: names.length === 0 && isWildcardType(typeUrl), names: new Set(names), sent: new Map() };
    s.watches.set(typeUrl, w);
    const changed = !prev || [...w.names].join('\n') !== [...prev.names].join('\n');
    if (changed) this.respond(s, typeUrl);
  }

  private onDelta(s: Stream, r: DeltaRequest): void {
    const typeUrl = r.type_url ?? '';
    const subscribe = r.resource_names_subscribe ?? [];
    const unsubscribe = r.resource_names_unsubscribe ?? [];
    const initial = r.initial_resource_versions ?? {};
    this.record(
      s,
      { typeUrl, nonce: r.response_nonce ?? '', subscribe, unsubscribe, initial, ...(r.error_detail ? { errorDetail: { code: r.error_detail.code ?? 0, message: r.error_detail.message ?? '' } } : {}) },
      r.node,
    );
    let w = s.watches.get(typeUrl);
    const first = !w;
    if (!w) {
      w = { wildcard: subscribe.length === 0 && isWildcardType(typeUrl), names: new Set(), sent: new Map(Object.entries(initial)) };
      s.watches.set(typeUrl, w);
    }
    for (const n of subscribe) if (n === '*') w.wildcard = true;
    else w.names.add(n);
    for (const n of unsubscribe) {
      w.names.delete(n);
      w.sent.delete(n);
    }
    if (first || subscribe.length > 0) this.respond(s, typeUrl, first);
  }

  private respond(s: Stream, typeUrl: string, force = false): void {
    const w = s.watches.get(typeUrl);
    if (!w) return;
    const all = this.resources.get(typeUrl) ?? new Map<string, Res>();
    const chosen = [...all].filter(([n]) => w.wildcard || w.names.has(n));
    const nonce = String(++this.nonce);
    if (s.mode === 'sotw') {
      s.write({ version_info: String(this.version), type_url: typeUrl, nonce, resources: chosen.map(([, r]) => ({ type_url: typeUrl, value: encode(typeUrl, r.obj) })) });
      return;
    }
    const changed = chosen.filter(([n, r]) => w.sent.get(n) !== r.version);
    const removed = [...w.sent.keys()].filter((n) => !all.has(n) && (w.wildcard || w.names.has(n)));
    if (changed.length === 0 && removed.length === 0 && !force) return;
    for (const [n, r] of changed) w.sent.set(n, r.version);
    for (const n of removed) w.sent.delete(n);
    s.write({
      system_version_info: String(this.version),
      type_url: typeUrl,
      nonce,
      resources: changed.map(([n, r]) => ({ name: n, version: r.version, resource: { type_url: typeUrl, value: encode(typeUrl, r.obj) } })),
      removed_resources: removed,
    });
  }
}

// A minimal State-of-the-World ADS server serving hand-written resources, recording every DiscoveryRequest: used to
// pin down what @grpc/grpc-js-xds accepts, independently of the real control plane.
import grpc from '@grpc/grpc-js';
import type { MethodDefinition, ServerDuplexStream } from '@grpc/grpc-js';
import { encode } from '../../src/xds/codec.js';
import { messageType } from '../../src/xds/proto.js';

const SOTW_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';

export interface RecordedRequest {
  typeUrl: string;
  version: string;
  nonce: string;
  names: string[];
  errorDetail?: string;
  node?: Record<string, unknown>;
}

interface Req {
  type_url?: string;
  version_info?: string;
  response_nonce?: string;
  resource_names?: string[];
  error_detail?: { message?: string };
  node?: Record<string, unknown>;
}
interface Res {
  version_info: string;
  type_url: string;
  nonce: string;
  resources: { type_url: string; value: Uint8Array }[];
}

interface Stream {
  call: ServerDuplexStream<Req, Res>;
  names: Map<string, string[]>;
}

function definition(): Record<string, MethodDefinition<Req, Res>> {
  const req = messageType('envoy.service.discovery.v3.DiscoveryRequest');
  const res = messageType('envoy.service.discovery.v3.DiscoveryResponse');
  return {
    StreamAggregatedResources: {
      path: SOTW_PATH,
      requestStream: true,
      responseStream: true,
      requestSerialize: (v) => Buffer.from(req.encode(req.fromObject(v as unknown as Record<string, unknown>)).finish()),
      requestDeserialize: (b) => req.toObject(req.decode(b), { longs: String, enums: String, defaults: false }),
      responseSerialize: (v) => Buffer.from(res.encode(res.fromObject(v)).finish()),
      responseDeserialize: (b) => res.toObject(res.decode(b), { longs: String, enums: String }) as Res,
    },
  };
}

/** Resources are plain objects with proto field names (nested Any as {'@type': url, ...}). */
export class FakeAds {
  readonly requests: RecordedRequest[] = [];
  private readonly resources = new Map<string, Map<string, object>>();
  private readonly streams = new Set<Stream>();
  private readonly server = new grpc.Server();
  private version = 0;
  private nonce = 0;
  address = '';

  async start(): Promise<string> {
    this.server.addService(definition(), { StreamAggregatedResources: (call: ServerDuplexStream<Req, Res>) => this.onStream(call) });
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    this.address = `127.0.0.1:${port}`;
    return this.address;
  }

  /** Replaces the resource `name` of `typeUrl` (undefined deletes it) and pushes to every subscribed stream. */
  set(typeUrl: string, name: string, obj: object | undefined): void {
    let m = this.resources.get(typeUrl);
    if (!m) this.resources.set(typeUrl, (m = new Map()));
    if (obj) m.set(name, obj);
    else m.delete(name);
    this.version++;
    for (const s of this.streams) if (s.names.has(typeUrl)) this.respond(s, typeUrl);
  }

  /** Requests that carried error_detail (NACKs), optionally of one type. */
  nacks(typeUrl?: string): RecordedRequest[] {
    return this.requests.filter((r) => r.errorDetail !== undefined && (typeUrl === undefined || r.typeUrl === typeUrl));
  }

  close(): void {
    for (const s of this.streams) s.call.end();
    this.server.forceShutdown();
  }

  private onStream(call: ServerDuplexStream<Req, Res>): void {
    const s: Stream = { call, names: new Map() };
    this.streams.add(s);
    call.on('data', (r: Req) => {
      const typeUrl = r.type_url ?? '';
      const names = [...(r.resource_names ?? [])].sort();
      this.requests.push({
        typeUrl,
        version: r.version_info ?? '',
        nonce: r.response_nonce ?? '',
        names,
        ...(r.error_detail ? { errorDetail: r.error_detail.message ?? '' } : {}),
        ...(r.node ? { node: r.node } : {}),
      });
      const prev = s.names.get(typeUrl);
      s.names.set(typeUrl, names);
      if (!prev || prev.join('\n') !== names.join('\n')) this.respond(s, typeUrl);
    });
    const drop = (): void => {
      this.streams.delete(s);
    };
    call.on('end', () => {
      drop();
      call.end();
    });
    call.on('error', drop);
    call.on('cancelled', drop);
  }

  private respond(s: Stream, typeUrl: string): void {
    const names = s.names.get(typeUrl) ?? [];
    const m = this.resources.get(typeUrl) ?? new Map<string, object>();
    const chosen = names.length === 0 ? [...m.values()] : names.flatMap((n) => (m.has(n) ? [m.get(n) as object] : []));
    s.call.write({
      version_info: String(this.version),
      type_url: typeUrl,
      nonce: String(++this.nonce),
      resources: chosen.map((o) => ({ type_url: typeUrl, value: encode(typeUrl, o) })),
    });
  }
}

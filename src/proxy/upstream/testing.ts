// Test helpers of the upstream layer: hand-built Cluster/LoadAssignment objects, an in-memory ConfigSource,
// a collecting UpstreamHandler, fake timers, and small HTTP servers on 127.0.0.1:0.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { ConfigSource, UpstreamCluster, UpstreamError, UpstreamHandler, UpstreamRequest } from '../runtime/contracts.js';
import type { Cluster, ConfigSnapshot, Endpoint, LoadAssignment } from '../runtime/types.js';
import type { Timers } from './deps.js';

export interface EndpointSpec {
  port: number;
  address?: string;
  weight?: number;
  priority?: number;
  locality?: string;
  localityWeight?: number;
  health?: Endpoint['health'];
}

export function loadAssignment(name: string, eps: EndpointSpec[]): LoadAssignment {
  const groups = new Map<string, { locality: string; priority: number; weight: number; endpoints: Endpoint[] }>();
  for (const e of eps) {
    const locality = e.locality ?? 'region/zone/sub';
    const priority = e.priority ?? 0;
    const k = `${locality}|${priority}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { locality, priority, weight: e.localityWeight ?? 1, endpoints: [] }));
    g.endpoints.push({ address: e.address ?? '127.0.0.1', port: e.port, weight: e.weight ?? 1, health: e.health ?? 'HEALTHY' });
  }
  return { clusterName: name, localities: [...groups.values()], overprovisioningFactor: 140 };
}

const UNLIMITED = 4294967295;

/** A STATIC cluster with sane defaults (Istio's unlimited circuit breakers), overridable field by field. */
export function cluster(name: string, eps: EndpointSpec[], over: Partial<Cluster> = {}): Cluster {
  const c: Cluster = {
    name,
    type: 'STATIC',
    loadAssignment: loadAssignment(name, eps),
    lbPolicy: 'ROUND_ROBIN',
    localityWeighted: false,
    connectTimeoutMs: 2000,
    circuitBreakers: { maxConnections: UNLIMITED, maxPendingRequests: UNLIMITED, maxRequests: UNLIMITED, maxRetries: UNLIMITED },
    protocol: 'http1',
    maxRequestsPerConnection: 0,
    idleTimeoutMs: 3_600_000,
    maxConnectionDurationMs: 0,
    hash: '',
    ...over,
  };
  c.hash ||= JSON.stringify({ ...c, hash: undefined });
  return c;
}

export function snapshot(clusters: Cluster[], endpoints: LoadAssignment[] = []): ConfigSnapshot {
  return {
    listeners: new Map(),
    routes: new Map(),
    clusters: new Map(clusters.map((c) => [c.name, c])),
    endpoints: new Map(endpoints.map((e) => [e.clusterName, e])),
    versions: new Map(),
  };
}

export class MemoryConfigSource implements ConfigSource {
  private fns = new Set<(s: ConfigSnapshot) => void>();
  constructor(private snap: ConfigSnapshot = snapshot([])) {}
  current(): ConfigSnapshot {
    return this.snap;
  }
  subscribe(fn: (s: ConfigSnapshot) => void): () => void {
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }
  set(s: ConfigSnapshot): void {
    this.snap = s;
    for (const f of this.fns) f(s);
  }
}

/** Manually driven timers: `advance(ms)` moves the clock and runs due intervals. */
export class FakeTimers implements Timers {
  private t = 1_000_000;
  private readonly intervals = new Map<number, { fn: () => void; ms: number; next: number }>();
  private id = 0;
  now(): number {
    return this.t;
  }
  setInterval(fn: () => void, ms: number): unknown {
    const id = ++this.id;
    this.intervals.set(id, { fn, ms, next: this.t + ms });
    return id;
  }
  clearInterval(handle: unknown): void {
    this.intervals.delete(handle as number);
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let due: { fn: () => void; ms: number; next: number } | undefined;
      for (const iv of this.intervals.values()) if (iv.next <= end && (!due || iv.next < due.next)) due = iv;
      if (!due) break;
      this.t = due.next;
      due.next += due.ms;
      due.fn();
    }
    this.t = end;
  }
}

export interface Result {
  status: number;
  headers: string[];
  body: string;
  trailers: string[] | null;
  host: string | undefined;
  error: UpstreamError | undefined;
}

/** An UpstreamHandler that collects the whole response. */
export class Collector implements UpstreamHandler {
  host: string | undefined;
  status = 0;
  headers: string[] = [];
  chunks: Buffer[] = [];
  upgraded: Socket | undefined;
  readonly done: Promise<Result>;
  private resolve!: (r: Result) => void;
  constructor() {
    this.done = new Promise((r) => (this.resolve = r));
  }
  onHost(k: string): void {
    this.host = k;
  }
  onHeaders(status: number, headers: string[]): boolean {
    this.status = status;
    this.headers = headers;
    return true;
  }
  onData(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    return true;
  }
  onComplete(trailers: string[] | null): void {
    this.resolve(this.result(trailers, undefined));
  }
  onError(err: UpstreamError): void {
    this.resolve(this.result(null, err));
  }
  onUpgrade(status: number, headers: string[], socket: Socket): void {
    this.status = status;
    this.headers = headers;
    this.upgraded = socket;
    this.resolve(this.result(null, undefined));
  }
  private result(trailers: string[] | null, error: UpstreamError | undefined): Result {
    return { status: this.status, headers: this.headers, body: Buffer.concat(this.chunks).toString(), trailers, host: this.host, error };
  }
}

export function req(over: Partial<UpstreamRequest> = {}): UpstreamRequest {
  return { method: 'GET', path: '/', headers: ['host', 'svc.test'], body: null, downstreamProtocol: 'http1', ...over };
}

export function send(c: UpstreamCluster, over: Partial<UpstreamRequest> = {}): Promise<Result> {
  const h = new Collector();
  c.dispatch(req(over), h);
  return h.done;
}

export function bodyOf(s: string): Readable {
  return Readable.from([Buffer.from(s)]);
}

export function header(headers: readonly string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return undefined;
}

export interface TestServer {
  server: Server;
  port: number;
  /** Requests seen, and distinct client connections (remote ports). */
  requests: number;
  connections: Set<number>;
  /** Server-side sockets currently open. */
  open: Set<Socket>;
  /** Resolves once every server-side socket open now has closed. */
  drained(): Promise<void>;
  close(): Promise<void>;
}

/** An HTTP/1.1 server on 127.0.0.1:0; the default handler answers 200 with its port as the body. */
export async function httpServer(handler?: (req: IncomingMessage, res: ServerResponse, s: TestServer) => void, host = '127.0.0.1'): Promise<TestServer> {
  const server = createServer();
  const ts: TestServer = {
    server,
    port: 0,
    requests: 0,
    connections: new Set(),
    open: new Set(),
    async drained() {
      await Promise.all([...ts.open].filter((sk) => !sk.destroyed).map((sk) => once(sk, 'close')));
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close').catch(() => undefined);
    },
  };
  server.on('connection', (sock: Socket) => {
    ts.connections.add(sock.remotePort ?? 0);
    ts.open.add(sock);
    sock.once('close', () => ts.open.delete(sock));
  });
  server.on('request', (rq: IncomingMessage, rs: ServerResponse) => {
    ts.requests++;
    if (handler) handler(rq, rs, ts);
    else rs.end(String(ts.port));
  });
  server.listen(0, host);
  await once(server, 'listening');
  ts.port = (server.address() as AddressInfo).port;
  return ts;
}

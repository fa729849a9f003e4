// A small but real UpstreamCluster for tests of the HTTP layer: undici pools per host (HTTP/1.1, or h2c), round
// robin or hash pick, previous-host exclusion, max-requests / max-retries breakers, TCP connect for tunnels.
import { connect as netConnect, type Socket } from 'node:net';
import { H2CClient, Pool, type Dispatcher } from 'undici';
import type { Abortable, ClusterManager, HostStatus, LbContext, UpstreamCluster, UpstreamHandler, UpstreamRequest } from '../runtime/contracts.js';
import { UpstreamError } from '../runtime/contracts.js';
import type { Cluster } from '../runtime/types.js';

export interface TestHost {
  address: string;
  port: number;
}

interface HostState {
  key: string;
  host: TestHost;
  pool: Dispatcher;
  active: number;
  total: number;
}

function flat(list: unknown): string[] {
  if (!list) return [];
  // Names lower-cased, as every transport hands them to UpstreamHandler.onHeaders.
  if (Array.isArray(list)) {
    return list.map((x, i) => {
      const s = Buffer.isBuffer(x) ? x.toString('latin1') : String(x);
      return i % 2 === 0 ? s.toLowerCase() : s;
    });
  }
  const out: string[] = [];
  for (const [k, v] of Object.entries(list as Record<string, unknown>)) {
    const n = k.toLowerCase();
    if (Array.isArray(v)) for (const x of v) out.push(n, String(x));
    else out.push(n, String(v));
  }
  return out;
}

function toUpstreamError(err: unknown): UpstreamError {
  const e = err as { code?: string; message?: string };
  const code = e?.code ?? '';
  if (code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ECONNRESET_BEFORE') return new UpstreamError('UF', e.message ?? code, { beforeRequestSent: true, cause: err });
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return new UpstreamError('UT', e.message ?? code, { beforeRequestSent: false, cause: err });
  if (code === 'UND_ERR_INFO' && /REFUSED_STREAM/.test(e.message ?? '')) return new UpstreamError('UR', e.message ?? code, { beforeRequestSent: true, cause: err });
  return new UpstreamError('UC', e.message ?? String(err), { beforeRequestSent: false, cause: err });
}

/** Backpressure observed by a cluster: onData returned false (pauses) and the handler resumed (resumes). */
export interface FlowCounters {
  pauses: number;
  resumes: number;
}

class Dispatch implements Abortable {
  private abortFn: ((reason?: Error) => void) | null = null;
  private resumeFn: (() => void) | null = null;
  private aborted = false;
  private done = false;
  constructor(
    private readonly h: UpstreamHandler,
    private readonly host: HostState,
    private readonly flow: FlowCounters,
  ) {}
  private readonly resume = (): void => {
    this.flow.resumes++;
    this.resumeFn?.();
  };
  abort(): void {
    if (this.done) return;
    this.aborted = true;
    this.finish();
    this.abortFn?.(new Error('aborted by the router'));
  }
  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.host.active--;
  }
  // undici (legacy) dispatch handler
  onConnect(abort: (reason?: Error) => void): void {
    this.abortFn = abort;
    if (this.aborted) abort(new Error('aborted by the router'));
  }
  onHeaders(status: number, raw: unknown, resume: () => void): boolean {
    if (this.aborted) return false;
    this.resumeFn = resume;
    return this.h.onHeaders(status, flat(raw), this.resume);
  }
  onData(chunk: Buffer): boolean {
    if (this.aborted) return false;
    const more = this.h.onData(chunk);
    if (!more) this.flow.pauses++;
    return more;
  }
  onComplete(trailers: unknown): void {
    if (this.aborted) return;
    this.finish();
    const t = flat(trailers);
    this.h.onComplete(t.length ? t : null);
  }
  onError(err: unknown): void {
    if (this.aborted) return;
    this.finish();
    this.h.onError(toUpstreamError(err));
  }
  onUpgrade(status: number, raw: unknown, socket: Socket): void {
    this.finish();
    if (this.aborted || !this.h.onUpgrade) {
      socket.destroy();
      return;
    }
    this.h.onUpgrade(status, flat(raw), socket);
  }
}

export class TestCluster implements UpstreamCluster {
  readonly config: Cluster;
  private readonly hostStates: HostState[];
  private rr = 0;
  private retries = 0;
  /** Every request dispatched (for assertions). */
  readonly requests: UpstreamRequest[] = [];
  maxRequests = Infinity;
  maxRetries = Infinity;
  readonly flow: FlowCounters = { pauses: 0, resumes: 0 };

  constructor(
    readonly name: string,
    hosts: TestHost[],
    opts: { http2?: boolean; type?: Cluster['type'] } = {},
  ) {
    this.config = {
      name,
      type: opts.type ?? 'STATIC',
      lbPolicy: 'ROUND_ROBIN',
      localityWeighted: false,
      connectTimeoutMs: 1000,
      circuitBreakers: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 },
      protocol: opts.http2 ? 'http2' : 'http1',
      maxRequestsPerConnection: 0,
      idleTimeoutMs: 0,
      maxConnectionDurationMs: 0,
      hash: name,
    };
    this.hostStates = hosts.map((h) => ({
      key: `${h.address}:${h.port}`,
      host: h,
      pool: opts.http2 ? new H2CClient(`http://${h.address}:${h.port}`) : new Pool(`http://${h.address}:${h.port}`, { connections: 16 }),
      active: 0,
      total: 0,
    }));
  }

  private pick(ctx: LbContext): HostState | undefined {
    let hs = this.hostStates;
    if (ctx.exclude && ctx.exclude.size) {
      const rest = hs.filter((h) => !ctx.exclude!.has(h.key));
      if (rest.length) hs = rest;
    }
    if (!hs.length) return undefined;
    if (ctx.hash !== undefined) return hs[ctx.hash % hs.length];
    return hs[this.rr++ % hs.length];
  }

  dispatch(req: UpstreamRequest, handler: UpstreamHandler): Abortable {
    this.requests.push(req);
    const active = this.hostStates.reduce((s, h) => s + h.active, 0);
    if (active >= this.maxRequests) {
      handler.onError(new UpstreamError('UO', 'overflow', { beforeRequestSent: true }));
      return { abort() {} };
    }
    const h = this.pick(req);
    if (!h) {
      handler.onError(new UpstreamError('UH', 'no healthy upstream', { beforeRequestSent: true }));
      return { abort() {} };
    }
    handler.onHost?.(h.key);
    h.active++;
    h.total++;
    const d = new Dispatch(handler, h, this.flow);
    let headers = req.headers;
    if (req.autoHostRewrite) {
      headers = headers.slice();
      for (let i = 0; i < headers.length; i += 2) if (headers[i] === 'host') headers[i + 1] = h.key;
    }
    h.pool.dispatch({ method: req.method, path: req.path, headers, body: req.body, upgrade: req.upgrade ?? null, headersTimeout: 0, bodyTimeout: 0 }, d);
    return d;
  }

  connect(ctx: LbContext, cb: (err: UpstreamError | null, socket?: Socket, hostKey?: string) => void): void {
    const target = this.config.type === 'ORIGINAL_DST' ? ctx.originalDst : this.pick(ctx)?.host;
    if (!target) {
      cb(new UpstreamError('UH', 'no healthy upstream', { beforeRequestSent: true }));
      return;
    }
    const s = netConnect(target.port, target.address);
    s.once('connect', () => {
      s.removeAllListeners('error');
      cb(null, s, `${target.address}:${target.port}`);
    });
    s.once('error', (err) => cb(new UpstreamError('UF', err.message, { beforeRequestSent: true, cause: err })));
  }

  tryAcquireRetry(): boolean {
    if (this.retries >= this.maxRetries) return false;
    this.retries++;
    return true;
  }
  releaseRetry(): void {
    this.retries--;
  }
  get retriesOutstanding(): number {
    return this.retries;
  }

  hosts(): HostStatus[] {
    return this.hostStates.map((h) => ({
      key: h.key,
      address: h.host.address,
      port: h.host.port,
      weight: 1,
      locality: '',
      priority: 0,
      healthy: true,
      ejected: false,
      activeRequests: h.active,
      activeConnections: 0,
      totalRequests: h.total,
      totalErrors: 0,
    }));
  }

  async close(): Promise<void> {
    await Promise.all(this.hostStates.map((h) => h.pool.destroy()));
  }
}

export class TestClusterManager implements ClusterManager {
  private readonly clusters = new Map<string, TestCluster>();
  add(name: string, hosts: TestHost[], opts: { http2?: boolean; type?: Cluster['type'] } = {}): TestCluster {
    const c = new TestCluster(name, hosts, opts);
    this.clusters.set(name, c);
    return c;
  }
  get(name: string): UpstreamCluster | undefined {
    return this.clusters.get(name);
  }
  all(): UpstreamCluster[] {
    return [...this.clusters.values()];
  }
  async close(): Promise<void> {
    await Promise.all([...this.clusters.values()].map((c) => c.close()));
  }
}

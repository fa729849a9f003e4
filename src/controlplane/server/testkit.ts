// Test kit for the xDS server: a fake PushContext with a small world, fake generators over it, and an ADS client over grpc-js.
import * as grpc from '@grpc/grpc-js';
import diagnostics_channel from 'node:diagnostics_channel';
import { decodeToObject, toStruct } from '../../xds/codec.js';
import { TypeUrl } from '../../xds/types.js';
import type { Generator, PushRequest, Resource } from '../generate/types.js';
import type { PushContext } from '../model/types.js';
import type { DeltaRequest, DeltaResponse, SotwRequest, SotwResponse } from './ads-service.js';
import { adsServiceDefinition } from './ads-service.js';
import type { RequestEvent } from './context.js';
import { listenGrpc, shutdownGrpc } from './listen.js';
import { Metrics } from './metrics.js';
import type { XdsServerOptions } from './xds-server.js';
import { XdsServer } from './xds-server.js';

/** The world of a fake push: clusters with endpoint addresses, listeners (name → port), routes (name → domains). */
export interface FakeWorld {
  clusters: Record<string, string[]>;
  listeners: Record<string, number>;
  routes: Record<string, string[]>;
  /** Connect timeout of every cluster (so a world can change clusters without renaming them). */
  connectTimeoutSec?: number;
}

/** A PushContext that only carries a version and a FakeWorld (generators below read the world). */
export function fakePush(version: string, world: FakeWorld): PushContext & { world: FakeWorld } {
  const none = (): never => {
    throw new Error('not in the fake push context');
  };
  return {
    version,
    world,
    domainSuffix: 'cluster.local',
    services: [],
    configs: () => [],
    serviceForHost: () => undefined,
    endpoints: () => [],
    sidecarScope: none,
    virtualServices: () => [],
    destinationRule: () => undefined,
    gatewaysForProxy: () => [],
    serviceInstances: () => [],
    envoyFilters: () => [],
    accessLogging: () => [],
  };
}

function worldOf(push: PushContext): FakeWorld {
  return (push as PushContext & { world: FakeWorld }).world;
}

function pick<T>(all: Record<string, T>, names: readonly string[] | undefined): [string, T][] {
  const entries = Object.entries(all);
  if (!names) return entries;
  return entries.filter(([n]) => names.includes(n));
}

/** Generators for CDS/EDS/LDS/RDS over a FakeWorld; `calls` counts generate() calls per type. */
export function fakeGenerators(): { generators: Map<string, Generator>; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const gen = (typeUrl: string, build: (world: FakeWorld, names: readonly string[] | undefined) => Resource[]): Generator => ({
    typeUrl,
    generate: (_proxy, push, req) => {
      calls.set(typeUrl, (calls.get(typeUrl) ?? 0) + 1);
      return build(worldOf(push), req.names);
    },
  });
  const generators = new Map<string, Generator>([
    [TypeUrl.Cluster, gen(TypeUrl.Cluster, (w, names) => pick(w.clusters, names).map(([name]) => ({ name, resource: { name, type: 'EDS', eds_cluster_config: { eds_config: { ads: {} } }, connect_timeout: { seconds: w.connectTimeoutSec ?? 10, nanos: 0 } } })))],
    [
      TypeUrl.ClusterLoadAssignment,
      gen(TypeUrl.ClusterLoadAssignment, (w, names) =>
        pick(w.clusters, names).map(([name, addrs]) => ({
          name,
          resource: { cluster_name: name, endpoints: [{ lb_endpoints: addrs.map((a) => ({ endpoint: { address: { socket_address: { address: a, port_value: 8080 } } } })) }] },
        })),
      ),
    ],
    [TypeUrl.Listener, gen(TypeUrl.Listener, (w, names) => pick(w.listeners, names).map(([name, port]) => ({ name, resource: { name, address: { socket_address: { address: '0.0.0.0', port_value: port } } } })))],
    [TypeUrl.RouteConfiguration, gen(TypeUrl.RouteConfiguration, (w, names) => pick(w.routes, names).map(([name, domains]) => ({ name, resource: { name, virtual_hosts: [{ name, domains }] } })))],
  ]);
  return { generators, calls };
}

export function fullPush(reason = 'test'): PushRequest {
  return { full: true, configsUpdated: new Set(), servicesUpdated: new Set(), reasons: [reason], start: Date.now() };
}

export function edsPush(...hosts: string[]): PushRequest {
  return { full: false, configsUpdated: new Set(), servicesUpdated: new Set(hosts), reasons: ['endpoint'], start: Date.now() };
}

/** An Envoy-like Node for requests. */
export function testNode(id = 'sidecar~127.0.0.2~app-1.default~default.svc.cluster.local', metadata: Record<string, unknown> = { NAMESPACE: 'default' }): Record<string, unknown> {
  return { id, metadata: toStruct(metadata) };
}

/** Resource names of a SotW response, decoded from the Any bytes. */
export function resourceNames(res: SotwResponse): string[] {
  return (res.resources ?? []).map((a) => resourceName(a.type_url, a.value));
}

export function resourceName(typeUrl: string, value: Uint8Array): string {
  const o = decodeToObject(typeUrl, value);
  const n = o.name ?? o.cluster_name;
  return typeof n === 'string' ? n : '';
}

const ClientCtor = grpc.makeGenericClientConstructor(adsServiceDefinition(), 'AggregatedDiscoveryService');

/** One ADS stream from a test: send requests, await responses in order, observe the final status. */
export class AdsTestClient<Req, Res> {
  private readonly client: grpc.Client;
  private readonly call: grpc.ClientDuplexStream<Req, Res>;
  private readonly buffered: Res[] = [];
  private waiter: ((r: Res) => void) | undefined;
  readonly status: Promise<grpc.StatusObject>;

  private constructor(address: string, method: 'StreamAggregatedResources' | 'DeltaAggregatedResources') {
    this.client = new ClientCtor(address, grpc.credentials.createInsecure());
    const start = (this.client as unknown as Record<string, () => grpc.ClientDuplexStream<Req, Res>>)[method];
    if (!start) throw new Error(`no method ${method}`);
    this.call = start.call(this.client);
    this.call.on('data', (r: Res) => {
      const w = this.waiter;
      if (w) {
        this.waiter = undefined;
        w(r);
      } else this.buffered.push(r);
    });
    this.call.on('error', () => undefined); // surfaced through `status`
    this.status = new Promise((resolve) => this.call.on('status', resolve));
  }

  static sotw(address: string): AdsTestClient<SotwRequest, SotwResponse> {
    return new AdsTestClient<SotwRequest, SotwResponse>(address, 'StreamAggregatedResources');
  }

  static delta(address: string): AdsTestClient<DeltaRequest, DeltaResponse> {
    return new AdsTestClient<DeltaRequest, DeltaResponse>(address, 'DeltaAggregatedResources');
  }

  send(req: Req): void {
    this.call.write(req);
  }

  /** The next response (in arrival order); fails after `timeoutMs`. */
  next(timeoutMs = 5000): Promise<Res> {
    const b = this.buffered.shift();
    if (b !== undefined) return Promise.resolve(b);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`no response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
    });
  }

  /** Responses received but not yet consumed. */
  get pending(): number {
    return this.buffered.length;
  }

  close(): void {
    this.call.cancel();
    this.client.close();
  }
}

export interface TestServer {
  xds: XdsServer;
  metrics: Metrics;
  calls: Map<string, number>;
  address: string;
  /** Makes a new fake push current and pushes it. */
  push(version: string, world: FakeWorld, req?: PushRequest): void;
  close(): Promise<void>;
}

/** An XdsServer with fake generators on 127.0.0.1:0. */
export async function startTestServer(world: FakeWorld, extra: Partial<XdsServerOptions> = {}): Promise<TestServer> {
  const metrics = new Metrics();
  const { generators, calls } = fakeGenerators();
  let current = fakePush('v1', world);
  const xds = new XdsServer({ generators, getPush: () => current, metrics, ...extra });
  const { server, address } = await listenGrpc(xds, '127.0.0.1:0');
  return {
    xds,
    metrics,
    calls,
    address,
    push(version, w, req = fullPush()) {
      current = fakePush(version, w);
      xds.push(current, req);
    },
    async close() {
      xds.close();
      await shutdownGrpc(server, 500);
    },
  };
}

/** Resolves with the next request event (published after the server handled it) that matches. */
export function nextRequestEvent(match: (e: RequestEvent) => boolean, timeoutMs = 5000): Promise<RequestEvent> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown): void => {
      const e = m as RequestEvent;
      if (!match(e)) return;
      done();
      resolve(e);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no matching request event within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      diagnostics_channel.unsubscribe('isthmus.xds.request', onMessage);
    };
    diagnostics_channel.subscribe('isthmus.xds.request', onMessage);
  });
}

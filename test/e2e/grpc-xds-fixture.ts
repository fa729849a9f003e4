// The mesh behind grpc-xds.test.ts: one namespace per scenario, each with a `reviews` ServiceEntry on port 9080,
// one WorkloadEntry per real gRPC Echo server, a DestinationRule and a VirtualService; `isthmus discovery` serving
// it all from a temp config dir; proxyless grpc-js-xds clients with their own node ids.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEchoServer } from '../support/echo-server.js';
import type { EchoServer } from '../support/echo-server.js';
import { startDiscovery } from '../support/discovery-process.js';
import type { DiscoveryProcess } from '../support/discovery-process.js';
import { dest, destinationRule, serviceEntry, virtualService, workloadEntry, writeYaml } from '../support/istio-yaml.js';
import type { Doc } from '../support/istio-yaml.js';
import { XdsEchoClient, makeBootstrap, nodeIdFor } from '../support/xds-client.js';
import type { CallOptions, CallResult } from '../support/xds-client.js';

export const PORT = 9080;

export interface ScenarioSpec {
  ns: string;
  /** Servers as [workload name suffix, version label]; the server names itself `NS/reviews-SUFFIX`. */
  servers: [string, string][];
  /** DestinationRule trafficPolicy (top level), if any. */
  trafficPolicy?: Doc;
  /** Subset-level trafficPolicy overrides by subset name. */
  subsetPolicies?: Record<string, Doc>;
  /** VirtualService http routes; `host` is the FQDN. */
  http: (host: string) => Doc[];
}

export const host = (ns: string): string => `reviews.${ns}.svc.cluster.local`;
export const serverName = (ns: string, suffix: string): string => `${ns}/reviews-${suffix}`;

/** A fault block as Istio writes it, at 100%. */
const at100 = { percentage: { value: 100 } };

export const SCENARIOS: ScenarioSpec[] = [
  {
    ns: 'default',
    servers: [['v1', 'v1'], ['v2', 'v2'], ['v3', 'v3']],
    http: (h) => [{ route: [dest(h, 'v1', 70), dest(h, 'v2', 20), dest(h, 'v3', 10)] }],
  },
  {
    ns: 'headers',
    servers: [['v1', 'v1'], ['v2', 'v2']],
    http: (h) => [{ match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [dest(h, 'v2')] }, { route: [dest(h, 'v1')] }],
  },
  {
    ns: 'faults',
    servers: [['v1', 'v1']],
    http: (h) => [
      { match: [{ headers: { 'x-fault': { exact: 'abort-http' } } }], fault: { abort: { httpStatus: 503, ...at100 } }, route: [dest(h, 'v1')] },
      { match: [{ headers: { 'x-fault': { exact: 'abort-grpc' } } }], fault: { abort: { grpcStatus: 'RESOURCE_EXHAUSTED', ...at100 } }, route: [dest(h, 'v1')] },
      { match: [{ headers: { 'x-fault': { exact: 'delay' } } }], fault: { delay: { fixedDelay: '1s', ...at100 } }, route: [dest(h, 'v1')] },
      { match: [{ headers: { 'x-fault': { exact: 'timeout' } } }], fault: { delay: { fixedDelay: '1s', ...at100 } }, timeout: '0.3s', route: [dest(h, 'v1')] },
      { route: [dest(h, 'v1')] },
    ],
  },
  {
    ns: 'retries',
    servers: [['v1', 'v1']],
    http: (h) => [
      { match: [{ headers: { 'x-retry': { exact: 'three' } } }], route: [dest(h, 'v1')], retries: { attempts: 3, retryOn: 'unavailable' } },
      { match: [{ headers: { 'x-retry': { exact: 'none' } } }], route: [dest(h, 'v1')], retries: { attempts: 0 } },
      { route: [dest(h, 'v1')] },
    ],
  },
  {
    ns: 'lb-rr',
    servers: [['v1-a', 'v1'], ['v1-b', 'v1'], ['v1-c', 'v1'], ['v2', 'v2']],
    trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } },
    http: (h) => [{ route: [dest(h, 'v1')] }],
  },
  {
    ns: 'lb-hash',
    servers: [['v1-a', 'v1'], ['v1-b', 'v1'], ['v1-c', 'v1'], ['v2', 'v2']],
    trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: 'x-user' } } },
    http: (h) => [{ route: [dest(h, 'v1')] }],
  },
  {
    // Policies gRPC cannot run as such: LEAST_REQUEST (istiod falls back to ROUND_ROBIN for gRPC) and maglev (must
    // become RING_HASH for gRPC), the latter as a subset-level override.
    ns: 'lb-other',
    servers: [['v1-a', 'v1'], ['v1-b', 'v1'], ['v2-a', 'v2'], ['v2-b', 'v2'], ['v2-c', 'v2']],
    trafficPolicy: { loadBalancer: { simple: 'LEAST_REQUEST' } },
    subsetPolicies: { v2: { loadBalancer: { consistentHash: { httpHeaderName: 'x-user', maglev: { tableSize: 65537 } } } } },
    http: (h) => [{ match: [{ headers: { 'x-subset': { exact: 'v2' } } }], route: [dest(h, 'v2')] }, { route: [dest(h, 'v1')] }],
  },
  {
    ns: 'live',
    servers: [['v1', 'v1'], ['v2', 'v2']],
    http: (h) => [{ route: [dest(h, 'v1')] }],
  },
];

export interface Scenario {
  spec: ScenarioSpec;
  host: string;
  target: string;
  /** Servers by name (`NS/reviews-SUFFIX`). */
  servers: Map<string, EchoServer>;
  server(suffix: string): EchoServer;
}

export interface Mesh {
  dir: string;
  discovery: DiscoveryProcess;
  scenario(ns: string): Scenario;
  /** A new proxyless client for the scenario's `xds:///reviews.NS.svc.cluster.local:9080`, with its own node id. */
  client(ns: string, podName?: string): XdsEchoClient;
  /** Rewrites the VirtualService file of `ns` (plain write over the existing file, as an editor would). */
  writeVirtualService(ns: string, http: Doc[]): void;
  /** Writes extra documents into `NS/FILE` (e.g. a new WorkloadEntry). */
  writeDocs(ns: string, file: string, docs: Doc[]): void;
  /** Discovery logs and its /debug/syncz entry mentioning `nodeId`, for failure messages. */
  diagnostics(nodeId?: string): Promise<string>;
  close(): Promise<void>;
}

function scenarioDocs(spec: ScenarioSpec, servers: Map<string, EchoServer>): Doc[] {
  const h = host(spec.ns);
  const docs: Doc[] = [serviceEntry({ name: 'reviews', namespace: spec.ns, host: h, port: PORT, app: 'reviews' })];
  for (const [suffix, version] of spec.servers) {
    const s = servers.get(serverName(spec.ns, suffix));
    if (!s) throw new Error(`server ${suffix} missing`);
    docs.push(workloadEntry({ name: `reviews-${suffix}`, namespace: spec.ns, address: s.host, port: s.port, labels: { app: 'reviews', version } }));
  }
  const versions = [...new Set(spec.servers.map(([, v]) => v))];
  docs.push(
    destinationRule({
      name: 'reviews',
      namespace: spec.ns,
      host: h,
      subsets: versions.map((v) => {
        const policy = spec.subsetPolicies?.[v];
        return { name: v, labels: { version: v }, ...(policy ? { trafficPolicy: policy } : {}) };
      }),
      ...(spec.trafficPolicy ? { trafficPolicy: spec.trafficPolicy } : {}),
    }),
  );
  return docs;
}

/** Starts every scenario's servers, writes the config dir, starts discovery. Cleans up what it started on failure. */
export async function startMesh(): Promise<Mesh> {
  const dir = mkdtempSync(join(tmpdir(), 'isthmus-e2e-grpc-'));
  const all: EchoServer[] = [];
  const scenarios = new Map<string, Scenario>();
  const clients: XdsEchoClient[] = [];
  let discovery: DiscoveryProcess | undefined;
  const close = async (): Promise<void> => {
    for (const c of clients) c.close();
    await discovery?.stop();
    await Promise.all(all.map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const spec of SCENARIOS) {
      const servers = new Map<string, EchoServer>();
      for (const [suffix] of spec.servers) {
        const s = await startEchoServer(serverName(spec.ns, suffix));
        all.push(s);
        servers.set(s.name, s);
      }
      writeYaml(dir, `${spec.ns}/reviews.yaml`, scenarioDocs(spec, servers));
      writeYaml(dir, `${spec.ns}/virtualservice.yaml`, [virtualService({ name: 'reviews', namespace: spec.ns, hosts: [host(spec.ns)], http: spec.http(host(spec.ns)) })]);
      scenarios.set(spec.ns, {
        spec,
        host: host(spec.ns),
        target: `xds:///${host(spec.ns)}:${PORT}`,
        servers,
        server(suffix: string): EchoServer {
          const s = servers.get(serverName(spec.ns, suffix));
          if (!s) throw new Error(`no server ${suffix} in ${spec.ns}`);
          return s;
        },
      });
    }
    discovery = await startDiscovery({ configDir: dir });
  } catch (e) {
    await close();
    throw e;
  }
  const d = discovery;
  const scenario = (ns: string): Scenario => {
    const s = scenarios.get(ns);
    if (!s) throw new Error(`no scenario ${ns}`);
    return s;
  };
  return {
    dir,
    discovery: d,
    scenario,
    client(ns: string, podName = `client-${ns}`): XdsEchoClient {
      const c = new XdsEchoClient(scenario(ns).target, makeBootstrap({ serverUri: d.grpc, namespace: ns, podName }));
      clients.push(c);
      return c;
    },
    writeVirtualService(ns: string, http: Doc[]): void {
      writeYaml(dir, `${ns}/virtualservice.yaml`, [virtualService({ name: 'reviews', namespace: ns, hosts: [host(ns)], http })]);
    },
    writeDocs(ns: string, file: string, docs: Doc[]): void {
      writeYaml(dir, `${ns}/${file}`, docs);
    },
    async diagnostics(nodeId?: string): Promise<string> {
      let sync = '';
      try {
        const j = JSON.stringify(await d.debug('/debug/syncz'));
        sync = nodeId && j.includes(nodeId) ? excerpt(j, nodeId) : j.slice(0, 2000);
      } catch (e) {
        sync = `(syncz unavailable: ${String(e)})`;
      }
      return `\n--- /debug/syncz ---\n${sync}\n--- discovery output (tail) ---\n${d.logs().split('\n').slice(-40).join('\n')}`;
    },
    close,
  };
}

function excerpt(s: string, needle: string): string {
  const i = s.indexOf(needle);
  return s.slice(Math.max(0, i - 200), i + 1500);
}

export { nodeIdFor };

/** Runs `n` calls with at most `concurrency` in flight; results in completion order. */
export async function runCalls(client: XdsEchoClient, n: number, concurrency: number, o: CallOptions = {}): Promise<CallResult[]> {
  const out: CallResult[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      out.push(await client.call(o));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return out;
}

/** Counts OK replies by server name; failures under "!CODE". */
export function tally(results: CallResult[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of results) {
    const k = r.ok ? r.reply.server : `!${r.code}`;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

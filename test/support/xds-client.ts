// Proxyless gRPC clients built on @grpc/grpc-js-xds (a real third-party xDS client) for end-to-end tests:
// bootstrap JSON in istiod's shape, and Echo clients for `xds:///host:port` targets.
import { writeFileSync } from 'node:fs';
import grpc from '@grpc/grpc-js';
import type { Client, ServiceError, status as Status } from '@grpc/grpc-js';
import xds from '@grpc/grpc-js-xds';
import { callHello, echoService, isServiceError } from './echo-proto.js';
import type { HelloReply } from './echo-proto.js';

/** grpc-js-xds reads this channel option as a per-channel bootstrap (own XdsClient, own ADS stream, own node). */
export const BOOTSTRAP_CHANNEL_OPTION = 'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config';

export interface BootstrapOptions {
  /** The control plane's gRPC address, e.g. "127.0.0.1:15010". */
  serverUri: string;
  namespace: string;
  /** Pod-like name; the node id is `sidecar~IP~POD.NS~NS.svc.cluster.local`. */
  podName?: string;
  ip?: string;
  labels?: Record<string, string>;
  /** Extra node metadata merged over the defaults. */
  metadata?: Record<string, unknown>;
}

export interface Bootstrap {
  xds_servers: { server_uri: string; channel_creds: { type: string }[]; server_features: string[] }[];
  node: { id: string; cluster: string; locality: Record<string, string>; metadata: Record<string, unknown> };
}

/** Istio's node id for a sidecar-typed proxyless client. */
export function nodeIdFor(namespace: string, podName = 'client-1', ip = '127.0.0.1'): string {
  return `sidecar~${ip}~${podName}.${namespace}~${namespace}.svc.cluster.local`;
}

/** A bootstrap in the shape istio-agent writes for proxyless gRPC (GENERATOR=grpc). */
export function makeBootstrap(o: BootstrapOptions): Bootstrap {
  const ip = o.ip ?? '127.0.0.1';
  const pod = o.podName ?? 'client-1';
  return {
    xds_servers: [{ server_uri: o.serverUri, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: {
      id: nodeIdFor(o.namespace, pod, ip),
      cluster: `${o.labels?.['app'] ?? 'client'}.${o.namespace}`,
      // grpc-js-xds rejects a bootstrap whose node has no locality.
      locality: {},
      metadata: {
        GENERATOR: 'grpc',
        NAMESPACE: o.namespace,
        INSTANCE_IPS: ip,
        CLUSTER_ID: 'Kubernetes',
        LABELS: o.labels ?? { app: 'client' },
        ...o.metadata,
      },
    },
  };
}

/** Writes the bootstrap where GRPC_XDS_BOOTSTRAP can point at it. */
export function writeBootstrap(path: string, o: BootstrapOptions): Bootstrap {
  const b = makeBootstrap(o);
  writeFileSync(path, JSON.stringify(b, null, 2));
  return b;
}

let registered = false;
/** Registers the `xds:` resolver and the xDS LB policies with grpc-js (idempotent). */
export function registerXds(): void {
  if (registered) return;
  xds.register();
  registered = true;
}

export interface CallOptions {
  headers?: Record<string, string>;
  message?: string;
  deadlineMs?: number;
}

export type CallResult = { ok: true; reply: HelloReply; ms: number } | { ok: false; code: Status; details: string; ms: number };

/** An Echo client on an `xds:///` target. With `bootstrap` it gets its own XdsClient; without, the process bootstrap. */
export class XdsEchoClient {
  readonly target: string;
  private readonly client: Client;

  constructor(target: string, bootstrap?: Bootstrap) {
    registerXds();
    this.target = target;
    const options = bootstrap ? { [BOOTSTRAP_CHANNEL_OPTION]: JSON.stringify(bootstrap) } : {};
    this.client = new (echoService().Client)(target, grpc.credentials.createInsecure(), options);
  }

  /** One Hello; rejects with the grpc-js ServiceError on failure. */
  hello(o: CallOptions = {}): Promise<HelloReply> {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(o.headers ?? {})) md.set(k, v);
    return callHello(this.client, { message: o.message ?? 'hi' }, md, o.deadlineMs ?? 5000);
  }

  /** One Hello that never rejects: the outcome with its duration. */
  async call(o: CallOptions = {}): Promise<CallResult> {
    const t0 = performance.now();
    try {
      const reply = await this.hello(o);
      return { ok: true, reply, ms: performance.now() - t0 };
    } catch (e) {
      const ms = performance.now() - t0;
      if (isServiceError(e)) return { ok: false, code: e.code, details: e.details, ms };
      throw e;
    }
  }

  /** Calls until `pred(result)` holds (every `intervalMs`), or throws with the last result after `timeoutMs`. */
  async until(pred: (r: CallResult) => boolean, timeoutMs: number, o: CallOptions = {}, intervalMs = 20): Promise<CallResult> {
    const end = Date.now() + timeoutMs;
    let last: CallResult | undefined;
    for (;;) {
      last = await this.call({ deadlineMs: Math.max(200, Math.min(5000, end - Date.now())), ...o });
      if (pred(last)) return last;
      if (Date.now() >= end) {
        throw new Error(`${this.target}: condition not met within ${timeoutMs} ms; last result ${describe(last)}`);
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  /** Leaves IDLE: starts xDS resolution without making a call (grpc-js channels are lazy). */
  connect(): void {
    this.client.getChannel().getConnectivityState(true);
  }

  /** The grpc-js connectivity state of the channel (for diagnostics). */
  state(): string {
    return grpc.connectivityState[this.client.getChannel().getConnectivityState(false)] ?? 'UNKNOWN';
  }

  close(): void {
    this.client.close();
  }
}

/** A short human-readable form of a call result for assertion messages. */
export function describe(r: CallResult): string {
  return r.ok ? `OK from ${r.reply.server} in ${r.ms.toFixed(0)} ms` : `${grpc.status[r.code] ?? r.code} "${r.details}" in ${r.ms.toFixed(0)} ms`;
}

export type { ServiceError };

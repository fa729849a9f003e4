// A mini mesh for lifecycle tests: `isthmus discovery` over a temp config directory, sidecars/routers as child
// processes on their own loopback IPs (local mode: captureMode NONE, bound listeners), and clean-up by PID.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDiscovery } from '../../support/discovery-process.js';
import type { DiscoveryProcess } from '../../support/discovery-process.js';
import { writeYaml } from '../../support/istio-yaml.js';
import { startProxy } from '../../support/proxy-process.js';
import type { Doc } from '../support/istio.js';
import { eventually, randomSubnet } from '../support/net.js';
import { Sidecar } from '../support/sidecar.js';

export interface ProxyStart {
  name: string;
  ip: string;
  labels: Record<string, string>;
  type?: 'sidecar' | 'router';
  /** Client-facing listener port on `ip` (e.g. 15001 for the HTTP proxy), for Sidecar.request(). */
  egressPort?: number;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Wait for the `ready` event (first full config applied); default true. */
  waitReady?: boolean;
}

export class Mesh {
  readonly proxies: Sidecar[] = [];
  private readonly stdout = new WeakMap<Sidecar, string[]>();
  private current: DiscoveryProcess | undefined;
  private constructor(
    readonly dir: string,
    readonly subnet: string,
    /** The xDS address proxies connect to (set before discovery runs when the mesh was created with `grpcAddr`). */
    public grpcAddress: string,
  ) {}

  /**
   * Writes `files` (name → docs) into a fresh config directory and starts discovery on it; with `grpcAddr`, discovery
   * is not started (call startDiscovery()) and proxies are pointed at that address meanwhile.
   */
  static async start(files: Record<string, Doc[]>, o: { grpcAddr?: string } = {}): Promise<Mesh> {
    const dir = mkdtempSync(join(tmpdir(), 'isthmus-lifecycle-'));
    for (const [f, docs] of Object.entries(files)) writeYaml(dir, f, docs);
    const mesh = new Mesh(dir, randomSubnet(), o.grpcAddr ?? '');
    if (o.grpcAddr) return mesh;
    try {
      await mesh.startDiscovery();
      return mesh;
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  get discovery(): DiscoveryProcess {
    if (!this.current) throw new Error('discovery is not running');
    return this.current;
  }

  /** Starts discovery (on `grpcAddress` when set, else a free port). */
  async startDiscovery(extraArgs: string[] = []): Promise<void> {
    const args = this.grpcAddress ? ['--grpc-addr', this.grpcAddress, ...extraArgs] : extraArgs;
    this.current = await startDiscovery({ configDir: this.dir, extraArgs: args });
    this.grpcAddress = this.current.grpc;
  }

  /** `127.A.B.n`: the n-th workload address of this mesh. */
  ip(n: number): string {
    return `${this.subnet}.${n}`;
  }

  write(file: string, docs: Doc[]): void {
    writeYaml(this.dir, file, docs);
  }

  rm(file: string): void {
    rmSync(join(this.dir, file), { force: true });
  }

  async proxy(o: ProxyStart): Promise<Sidecar> {
    const labels = Object.entries(o.labels).map(([k, v]) => `${k}=${v}`).join(',');
    const p = await startProxy({
      discovery: this.grpcAddress,
      type: o.type ?? 'sidecar',
      args: ['--ip', o.ip, '--pod-name', o.name, '--namespace', 'default', '--labels', labels, '--interception-mode', 'NONE', '--drain-duration', '2s', ...(o.args ?? [])],
      ...(o.env ? { env: o.env } : {}),
    });
    const s = new Sidecar(o.name, o.ip, o.labels, p, o.egressPort);
    this.proxies.push(s);
    const lines: string[] = [];
    this.stdout.set(s, lines);
    let buf = '';
    p.child.stdout?.on('data', (c: string | Buffer) => {
      buf += typeof c === 'string' ? c : c.toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    if (o.waitReady !== false) await p.event('ready');
    return s;
  }

  /** Stops one proxy now (SIGTERM) and forgets it. */
  async stopProxy(s: Sidecar): Promise<number | null> {
    const i = this.proxies.indexOf(s);
    if (i >= 0) this.proxies.splice(i, 1);
    return s.stop();
  }

  /** Every stdout line of a proxy started by this mesh (JSON events, access logs), oldest first. */
  stdoutLines(s: Sidecar): string[] {
    return this.stdout.get(s) ?? [];
  }

  /** Restarts discovery on the same gRPC/HTTP addresses (after `discovery.stop()`); the ports may take a moment to free. */
  async restartDiscovery(): Promise<void> {
    const prev = this.discovery;
    this.current = await eventually(
      () => startDiscovery({ configDir: this.dir, extraArgs: ['--grpc-addr', prev.grpc, '--http-addr', prev.http], readyTimeoutMs: 20_000 }).catch(() => undefined),
      { timeoutMs: 20_000, intervalMs: 200 },
    );
  }

  /** debug/syncz entry of the proxy whose pod name is `name` (node id `TYPE~IP~NAME.NAMESPACE~...`). */
  async syncz(name: string): Promise<SyncEntry | undefined> {
    const all = (await this.discovery.debug('/debug/syncz')) as SyncEntry[];
    return all.find((e) => e.proxy.split('~')[2]?.startsWith(`${name}.`));
  }

  async close(): Promise<void> {
    for (const p of this.proxies.splice(0)) await p.stop(2_000).catch(() => undefined);
    await this.current?.stop().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface SyncEntry {
  proxy: string;
  types: Record<string, { sent: string; acked: string; status: string; nack?: { version: string; message: string } }>;
}

/** The proxy's xDS client state from admin /server_info (isthmus.xds). */
export async function xdsState(s: Sidecar): Promise<{ connected: boolean; reconnects?: number; lastError?: { message: string }; types?: Record<string, { version: string; lastNack?: { detail: string; version: string } }> }> {
  const info = JSON.parse(await s.adminGet('/server_info')) as { isthmus?: { xds?: unknown } };
  return (info.isthmus?.xds ?? {}) as Awaited<ReturnType<typeof xdsState>>;
}

// A "mini mesh" for integration tests: a config directory of Istio YAML, one `isthmus discovery`, test apps and
// `isthmus proxy` sidecars on their own loopback IPs (127.A.B.n), all over real sockets. Config changes are applied
// with a marker ServiceEntry in the same file, so `apply()` returns only once every sidecar runs the new config.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startDiscovery } from '../../support/discovery-process.js';
import type { DiscoveryProcess } from '../../support/discovery-process.js';
import { toYaml } from '../../support/istio-yaml.js';
import { startProxy } from '../../support/proxy-process.js';
import { startApp } from './apps.js';
import type { App, AppHandler } from './apps.js';
import { NAMESPACE, accessLogFilter, serviceEntry, sidecar, workloadEntry } from './istio.js';
import type { Doc } from './istio.js';
import { eventually, freePort, randomSubnet } from './net.js';
import { Sidecar } from './sidecar.js';

export interface MeshOptions {
  /** Turn on access logs (default TEXT format to stdout) on every HCM through an EnvoyFilter (default true). */
  accessLog?: boolean;
  /** Extra `isthmus discovery` flags. */
  discoveryArgs?: string[];
}

export interface SidecarStartOptions {
  name: string;
  /** The workload's IP (default: the next free address of the mesh's subnet). */
  ip?: string;
  labels?: Record<string, string>;
  /** Extra `isthmus proxy sidecar` flags. */
  args?: string[];
}

export interface ClientSidecarOptions extends SidecarStartOptions {
  /**
   * Egress as an HTTP proxy (Sidecar egress port protocol HTTP_PROXY, what local mode gives apps as HTTP_PROXY):
   * requests go out in absolute form `http://host:<mesh port>/path`. Default: a plain bound HTTP listener.
   */
  httpProxy?: boolean;
}

export interface ServerSidecarOptions extends SidecarStartOptions {
  /** The app behind the sidecar (it must listen on the sidecar's IP, on another port than the mesh port). */
  app: App;
}

const MARKER_DOMAIN = 'marker.test';

function sanitize(file: string): string {
  return file.replace(/[^a-z0-9]+/gi, '-').toLowerCase().replace(/^-|-$/g, '');
}

export class Mesh {
  /** The service port every mesh service uses; client sidecars listen on `<their ip>:port`. */
  readonly port: number;
  private readonly root: string;
  private readonly markerPort: number;
  private nextHost = 10;
  private generation = 0;
  private discoveryProcess: DiscoveryProcess | undefined;
  private options: MeshOptions = {};
  private readonly apps: App[] = [];
  readonly sidecars: Sidecar[] = [];

  private constructor(
    /** Config directory discovery reads. */
    readonly dir: string,
    /** `127.A.B` */
    readonly subnet: string,
    port: number,
    markerPort: number,
  ) {
    this.root = join(dir, '..');
    this.port = port;
    this.markerPort = markerPort;
  }

  /** Creates the config directory (with the access-log EnvoyFilter unless disabled). Call `startDiscovery()` next. */
  static async create(o: MeshOptions = {}): Promise<Mesh> {
    const root = mkdtempSync(join(tmpdir(), 'isthmus-mesh-'));
    const dir = join(root, 'config');
    const subnet = randomSubnet();
    const port = await freePort([`${subnet}.1`]);
    const markerPort = await freePort([`${subnet}.1`]);
    const m = new Mesh(dir, subnet, port, markerPort);
    m.options = o;
    m.write('00-mesh.yaml', o.accessLog === false ? [] : [accessLogFilter()]);
    return m;
  }

  /** `127.A.B.n` */
  ip(n: number): string {
    return `${this.subnet}.${n}`;
  }

  /** The next unused address of the subnet (from .10 up). */
  nextIp(): string {
    return this.ip(this.nextHost++);
  }

  get discovery(): DiscoveryProcess {
    if (!this.discoveryProcess) throw new Error('discovery not started');
    return this.discoveryProcess;
  }

  async startDiscovery(): Promise<DiscoveryProcess> {
    this.discoveryProcess = await startDiscovery({ configDir: this.dir, extraArgs: ['--log-level', 'warn', ...(this.options.discoveryArgs ?? [])] });
    return this.discoveryProcess;
  }

  /** Writes `docs` (or YAML text) to `file` in the config directory atomically (write + rename), without waiting. */
  write(file: string, docs: Doc[] | string): void {
    const tmp = join(this.root, `.${sanitize(file)}.tmp`);
    writeFileSync(tmp, typeof docs === 'string' ? docs : toYaml(docs));
    const target = join(this.dir, file);
    mkdirSync(dirname(target), { recursive: true });
    renameSync(tmp, target);
  }

  /**
   * Writes `docs` to `file` together with a fresh marker ServiceEntry and resolves once discovery pushed a snapshot
   * containing them and every running sidecar has the marker in its route config (so the whole push is applied).
   * `apply(file, [])` removes what the file held.
   */
  async apply(file: string, docs: Doc[], timeoutMs = 15_000): Promise<void> {
    const gen = ++this.generation;
    const markerName = `marker-${sanitize(file)}`;
    const host = `m${gen}.${MARKER_DOMAIN}`;
    const marker: Doc = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: markerName, namespace: NAMESPACE },
      spec: { hosts: [host], ports: [{ number: this.markerPort, name: 'http-marker', protocol: 'HTTP' }], resolution: 'STATIC', location: 'MESH_INTERNAL', endpoints: [{ address: '127.255.255.254' }] },
    };
    this.write(file, [...docs, marker]);
    if (this.discoveryProcess) await this.settled(markerName, host, timeoutMs);
    const live = this.sidecars.filter((s) => s.proxy.child.exitCode === null);
    await Promise.all(live.map((s) => s.waitForConfig(`"${host}"`, timeoutMs)));
    // A changed listener drains (2 s here) and, as in Envoy, serves requests on its open keep-alive connections
    // meanwhile: "applied" means the old listeners are gone, so the next request sees the new filter chains.
    await Promise.all(live.map((s) => eventually(async () => (await s.stat('listener_manager.total_listeners_draining')) === 0, { timeoutMs, message: () => s.logs() })));
  }

  /** Waits until discovery has loaded the marker and built a push context after that. */
  private async settled(markerName: string, host: string, timeoutMs: number): Promise<void> {
    const d = this.discovery;
    await eventually(
      async () => {
        const all = (await d.debug('/debug/configz')) as { meta: { kind: string; name: string }; spec: { hosts?: string[] } }[];
        return all.some((c) => c.meta.kind === 'ServiceEntry' && c.meta.name === markerName && (c.spec.hosts ?? []).includes(host));
      },
      { timeoutMs, message: () => d.logs() },
    );
    const seen = Date.now();
    await eventually(
      async () => {
        // The push that carried the marker names its host; any push built after we saw the marker loaded has it too.
        const s = (await d.debug('/debug/push_status')) as { lastPush: { at: string; servicesUpdated: string[] } | null };
        return s.lastPush !== null && (s.lastPush.servicesUpdated.includes(host) || Date.parse(s.lastPush.at) > seen);
      },
      { timeoutMs, message: () => d.logs() },
    );
  }

  /** An echo app on `ip` (default: the next free address). */
  async app(name: string, o: { ip?: string; port?: number; handler?: AppHandler } = {}): Promise<App> {
    const a = await startApp({ name, ip: o.ip ?? this.nextIp(), port: o.port ?? 0, ...(o.handler ? { handler: o.handler } : {}) });
    this.apps.push(a);
    return a;
  }

  /**
   * Docs for service `host` (port `this.port`) backed by `workloads`: a ServiceEntry selecting `app=<app>` and one
   * WorkloadEntry per workload (its labels plus app=<app>; its address and port).
   */
  service(o: { name: string; host: string; app?: string; workloads: { name: string; address: string; port: number; labels?: Record<string, string>; locality?: string; weight?: number }[] }): Doc[] {
    const app = o.app ?? o.name;
    return [
      serviceEntry({ name: o.name, host: o.host, port: this.port, app }),
      ...o.workloads.map((w) =>
        workloadEntry({ name: w.name, address: w.address, port: w.port, labels: { ...w.labels, app }, ...(w.locality ? { locality: w.locality } : {}), ...(w.weight !== undefined ? { weight: w.weight } : {}) }),
      ),
    ];
  }

  /** Convenience: `service()` for apps, each a workload labelled `version=<app name>`. */
  serviceFor(name: string, host: string, apps: readonly App[]): Doc[] {
    return this.service({ name, host, workloads: apps.map((a) => ({ name: `${name}-${a.name}`, address: a.ip, port: a.port, labels: { version: a.name } })) });
  }

  /**
   * A client-side sidecar: a Sidecar resource whose egress listener (captureMode NONE) binds `<ip>:<mesh port>` for
   * every service, then the proxy. Resolves once the listener serves the current config.
   */
  async client(o: ClientSidecarOptions): Promise<Sidecar> {
    const ip = o.ip ?? this.nextIp();
    const labels = { 'mesh-proxy': o.name, ...o.labels };
    const doc = sidecar({
      name: `sidecar-${o.name}`,
      labels: { 'mesh-proxy': o.name },
      egress: [
        o.httpProxy ? { port: this.port, bind: ip, hosts: ['*/*'], protocol: 'HTTP_PROXY', name: 'http-proxy' } : { port: this.port, bind: ip, hosts: ['*/*'] },
        { port: this.markerPort, bind: ip, hosts: [`*/*.${MARKER_DOMAIN}`], name: 'http-marker' },
      ],
    });
    return this.startSidecar(o, ip, labels, doc, this.port, o.httpProxy === true);
  }

  /**
   * A server-side sidecar in front of `app`: a Sidecar whose ingress listener binds `<app ip>:<mesh port>` and forwards
   * to the app (defaultEndpoint), plus the WorkloadEntry is up to the caller (address = app ip, port = mesh port).
   */
  async server(o: ServerSidecarOptions): Promise<Sidecar> {
    const ip = o.ip ?? o.app.ip;
    // Istio only accepts defaultEndpoint 127.0.0.1 / 0.0.0.0 (= the workload's own IP) / unix sockets.
    if (ip !== o.app.ip) throw new Error(`server sidecar ${o.name}: the app must listen on the sidecar's IP ${ip}`);
    const labels = { 'mesh-proxy': o.name, ...o.labels };
    const doc = sidecar({
      name: `sidecar-${o.name}`,
      labels: { 'mesh-proxy': o.name },
      ingress: [{ port: this.port, bind: ip, defaultEndpoint: `0.0.0.0:${o.app.port}` }],
      egress: [{ port: this.markerPort, bind: ip, hosts: [`*/*.${MARKER_DOMAIN}`], name: 'http-marker' }],
    });
    return this.startSidecar(o, ip, labels, doc, undefined);
  }

  private async startSidecar(o: SidecarStartOptions, ip: string, labels: Record<string, string>, doc: Doc, egressPort: number | undefined, httpProxy = false): Promise<Sidecar> {
    await this.apply(`sidecar-${o.name}.yaml`, [doc]);
    const labelArg = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
    const proxy = await startProxy({
      discovery: this.discovery.grpc,
      args: ['--ip', ip, '--pod-name', o.name, '--namespace', NAMESPACE, '--labels', labelArg, '--interception-mode', 'NONE', '--drain-duration', '1s', '--listener-drain-duration', '2s', '--log-level', 'warn', ...(o.args ?? [])],
    });
    const s = new Sidecar(o.name, ip, labels, proxy, egressPort, httpProxy ? this.port : undefined);
    this.sidecars.push(s);
    try {
      await proxy.event('ready');
      await s.waitForConfig(`"m${this.generation}.${MARKER_DOMAIN}"`);
      // The Sidecar resource took effect: its listener bound to the workload IP is there.
      await s.waitForConfig(`"${ip}_${this.port}"`, 5_000);
    } catch (e) {
      await proxy.stop(500);
      throw e;
    }
    return s;
  }

  /** Stops every sidecar, discovery and app (by PID / handle) and removes the temp directory. */
  async close(): Promise<void> {
    await Promise.allSettled(this.sidecars.map((s) => s.stop(2_000)));
    await this.discoveryProcess?.stop();
    await Promise.allSettled(this.apps.map((a) => a.close()));
    rmSync(this.root, { recursive: true, force: true });
  }
}

// One `isthmus proxy` process in a mini mesh, seen from a test: its admin endpoints (/stats as numbers, /config_dump
// text, /clusters), every access-log line it printed, and requests sent to its bound listeners.
import type { ProxyProcess } from '../../support/proxy-process.js';
import { send } from './http-client.js';
import type { Reply, RequestOptions } from './http-client.js';
import { eventually } from './net.js';

export class Sidecar {
  /** Access-log lines (stdout lines that are not JSON events), oldest first. */
  readonly accessLines: string[] = [];
  private buf = '';

  constructor(
    readonly name: string,
    /** The workload's loopback IP (its listeners bind here). */
    readonly ip: string,
    readonly labels: Record<string, string>,
    readonly proxy: ProxyProcess,
    /** Port of the client-facing egress listener (`ip:port`), when the sidecar has one. */
    readonly egressPort: number | undefined,
    /** Set when the egress listener is an HTTP proxy: requests go out as `http://host:<servicePort>/path`. */
    readonly httpProxyServicePort?: number,
  ) {
    proxy.child.stdout?.on('data', (c: string | Buffer) => {
      this.buf += typeof c === 'string' ? c : c.toString('utf8');
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        if (line.startsWith('[')) this.accessLines.push(line);
      }
    });
  }

  get pid(): number {
    return this.proxy.pid;
  }

  get admin(): string {
    return this.proxy.started.admin;
  }

  /** `ip:egressPort`: where a test client sends outbound requests. */
  get egressAddress(): string {
    if (this.egressPort === undefined) throw new Error(`sidecar ${this.name} has no egress listener`);
    return `${this.ip}:${this.egressPort}`;
  }

  /** One request through the egress listener (fresh connection unless `agent` is given). */
  request(host: string, path = '/', o: Omit<RequestOptions, 'host' | 'path'> = {}): Promise<Reply> {
    return send(this.egressAddress, { ...o, ...this.target(host, path) });
  }

  /** Host header and request target for `host` + `path` (absolute form in HTTP-proxy mode). */
  target(host: string, path = '/'): { host: string; path: string } {
    if (this.httpProxyServicePort === undefined) return { host, path };
    const authority = `${host}:${this.httpProxyServicePort}`;
    return { host: authority, path: `http://${authority}${path}` };
  }

  async adminGet(path: string): Promise<string> {
    const r = await fetch(`http://${this.admin}${path}`);
    const body = await r.text();
    if (!r.ok) throw new Error(`admin GET ${path}: HTTP ${r.status}: ${body}`);
    return body;
  }

  /** Counters and gauges from /stats whose name matches `filter` (an RE2/JS-compatible regex), as numbers. */
  async stats(filter?: string): Promise<Map<string, number>> {
    const text = await this.adminGet(filter ? `/stats?filter=${encodeURIComponent(filter)}` : '/stats');
    const out = new Map<string, number>();
    for (const line of text.split('\n')) {
      const i = line.lastIndexOf(': ');
      if (i < 0) continue;
      const v = Number(line.slice(i + 2));
      if (Number.isFinite(v)) out.set(line.slice(0, i), v);
    }
    return out;
  }

  /** One stat by exact name (0 when absent). */
  async stat(name: string): Promise<number> {
    const esc = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return (await this.stats(`^${esc}$`)).get(name) ?? 0;
  }

  /** /config_dump as text (optionally one resource kind, e.g. `dynamic_route_configs`). */
  configDump(resource?: string): Promise<string> {
    return this.adminGet(resource ? `/config_dump?resource=${resource}` : '/config_dump');
  }

  /** Polls /config_dump until it contains `needle`. */
  async waitForConfig(needle: string, timeoutMs = 15_000): Promise<void> {
    await eventually(async () => (await this.configDump()).includes(needle), { timeoutMs, message: () => this.logs() });
  }

  /** Access-log lines printed since `from` (an index into accessLines). */
  logsSince(from: number): string[] {
    return this.accessLines.slice(from);
  }

  /** Resolves with the first access-log line (at index >= `from`) matching `re`. */
  async waitForLog(re: RegExp, from = 0, timeoutMs = 5_000): Promise<string> {
    return eventually(() => this.accessLines.slice(from).find((l) => re.test(l)), { timeoutMs, intervalMs: 20, message: () => `access log:\n${this.accessLines.slice(from).join('\n')}` });
  }

  /** Last ~300 lines of the proxy's stdout+stderr. */
  logs(): string {
    return this.proxy.logs();
  }

  stop(graceMs = 2_000): Promise<number | null> {
    return this.proxy.stop(graceMs);
  }
}

/** Fields of Istio's default TEXT access-log line that tests look at. */
export interface AccessLogEntry {
  method: string;
  path: string;
  status: number;
  flags: string;
  details: string;
  authority: string;
  upstreamHost: string;
  upstreamCluster: string;
  routeName: string;
}

const LINE = /^\[[^\]]+\] "(\S+) (\S+) [^"]*" (\d+) (\S+) (\S+) \S+ "[^"]*" \d+ \d+ \S+ \S+ "[^"]*" "[^"]*" "[^"]*" "([^"]*)" "([^"]*)" (\S+) \S+ \S+ \S+ \S+ (\S+)/;

/** Parses one line of Istio's default TEXT format (undefined when it is not one). */
export function parseAccessLog(line: string): AccessLogEntry | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  return { method: m[1], path: m[2], status: Number(m[3]), flags: m[4], details: m[5], authority: m[6], upstreamHost: m[7], upstreamCluster: m[8], routeName: m[9] };
}

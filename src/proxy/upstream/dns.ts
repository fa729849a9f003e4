// STRICT_DNS / LOGICAL_DNS endpoint resolution with periodic refresh (Envoy's dns_refresh_rate, default 5 s).
// STRICT_DNS turns every resolved address into a host; LOGICAL_DNS uses the first address only. IP literals
// (127.x in local mode) need no lookup. A failed lookup keeps the previous addresses of that name.
import { isIP } from 'node:net';
import type { DiscoveryType, Endpoint, LoadAssignment } from '../runtime/types.js';
import type { UpstreamEnv } from './deps.js';

export const DEFAULT_DNS_REFRESH_MS = 5000;

export function needsDns(la: LoadAssignment | undefined): boolean {
  return la !== undefined && la.localities.some((l) => l.endpoints.some((e) => isIP(e.address) === 0));
}

/** Keeps only the address family dns_lookup_family asks for (AUTO/ALL/V4_PREFERRED keep both, v4 first when preferred). */
export function filterFamily(addrs: string[], family: string | undefined): string[] {
  switch (family) {
    case 'V4_ONLY':
      return addrs.filter((a) => isIP(a) === 4);
    case 'V6_ONLY':
      return addrs.filter((a) => isIP(a) === 6);
    case 'V4_PREFERRED':
      return [...addrs.filter((a) => isIP(a) === 4), ...addrs.filter((a) => isIP(a) === 6)];
    default:
      return addrs;
  }
}

export class DnsRefresher {
  private readonly timer: unknown;
  private readonly last = new Map<string, string[]>();
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly la: LoadAssignment,
    private readonly type: DiscoveryType,
    private readonly env: UpstreamEnv,
    private readonly family: string | undefined,
    private readonly apply: (la: LoadAssignment) => void,
    refreshMs = DEFAULT_DNS_REFRESH_MS,
  ) {
    this.timer = env.timers.setInterval(() => void this.refresh(), Math.max(100, refreshMs));
    void this.refresh();
  }

  stop(): void {
    this.stopped = true;
    this.env.timers.clearInterval(this.timer);
  }

  /** Resolves every hostname once and applies the result (concurrent calls share one resolution). */
  refresh(): Promise<void> {
    this.running ??= this.resolve().finally(() => (this.running = undefined));
    return this.running;
  }

  private async resolve(): Promise<void> {
    const names = new Set<string>();
    for (const l of this.la.localities) for (const e of l.endpoints) if (isIP(e.address) === 0) names.add(e.address);
    await Promise.all(
      [...names].map(async (n) => {
        try {
          const addrs = filterFamily(await this.env.dns(n), this.family);
          if (addrs.length > 0) this.last.set(n, addrs);
        } catch {
          // Keep the previous answer (Envoy keeps hosts on resolution failure).
        }
      }),
    );
    if (this.stopped) return;
    this.apply({
      ...this.la,
      localities: this.la.localities.map((l) => ({
        ...l,
        endpoints: l.endpoints.flatMap((e): Endpoint[] => {
          if (isIP(e.address) !== 0) return [e];
          const addrs = this.last.get(e.address) ?? [];
          const use = this.type === 'LOGICAL_DNS' ? addrs.slice(0, 1) : addrs;
          return use.map((a) => ({ ...e, address: a, hostname: e.hostname ?? e.address }));
        }),
      })),
    });
  }
}

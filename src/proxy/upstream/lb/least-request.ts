// LEAST_REQUEST: power of N choices (default 2) when weights are equal; EDF with weight / (active + 1) otherwise,
// as Envoy's LeastRequestLoadBalancer (active_request_bias 1.0).
import { EdfScheduler } from './edf.js';
import { withoutExcluded, type LbHost, type Picker, type Random } from './types.js';

export class LeastRequestPicker<H extends LbHost> implements Picker<H> {
  private readonly edf: EdfScheduler<H> | undefined;
  private readonly choiceCount: number;

  constructor(
    private readonly hosts: readonly H[],
    private readonly random: Random,
    choiceCount = 2,
  ) {
    this.choiceCount = Math.max(1, choiceCount);
    const w0 = hosts[0]?.weight;
    if (hosts.some((h) => h.weight !== w0)) {
      this.edf = new EdfScheduler<H>();
      for (const h of hosts) this.edf.add(h, effectiveWeight(h));
    }
  }

  pick(_hash: number | undefined, exclude: ReadonlySet<string> | undefined): H | undefined {
    if (this.hosts.length === 0) return undefined;
    if (exclude !== undefined && exclude.size > 0) {
      const rest = withoutExcluded(this.hosts, exclude);
      if (rest.length > 0) return this.choose(rest);
    }
    if (this.edf) {
      const h = this.edf.pick() as H;
      this.edf.add(h, effectiveWeight(h));
      return h;
    }
    return this.choose(this.hosts);
  }

  /** Best of `choiceCount` uniformly random hosts (fewest active requests; first seen wins ties). */
  private choose(hosts: readonly H[]): H {
    let best: H | undefined;
    for (let i = 0; i < this.choiceCount; i++) {
      const h = hosts[Math.floor(this.random() * hosts.length)];
      if (best === undefined || h.activeRequests < best.activeRequests) best = h;
    }
    return best as H;
  }
}

function effectiveWeight(h: LbHost): number {
  return h.weight / (h.activeRequests + 1);
}

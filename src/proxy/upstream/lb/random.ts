// RANDOM: a uniformly random available host (Envoy's RandomLoadBalancer ignores weights).
import { withoutExcluded, type LbHost, type Picker, type Random } from './types.js';

export class RandomPicker<H extends LbHost> implements Picker<H> {
  constructor(
    private readonly hosts: readonly H[],
    private readonly random: Random,
  ) {}

  pick(_hash: number | undefined, exclude: ReadonlySet<string> | undefined): H | undefined {
    let hosts = this.hosts;
    if (exclude !== undefined && exclude.size > 0) {
      const rest = withoutExcluded(hosts, exclude);
      if (rest.length > 0) hosts = rest;
    }
    if (hosts.length === 0) return undefined;
    return hosts[Math.floor(this.random() * hosts.length)];
  }
}

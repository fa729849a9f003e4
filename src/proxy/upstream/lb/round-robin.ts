// ROUND_ROBIN: plain rotation when weights are equal, smooth weighted (EDF) otherwise, as Envoy's RoundRobinLoadBalancer.
import { EdfScheduler } from './edf.js';
import { weightedRandom, withoutExcluded, type LbHost, type Picker, type Random } from './types.js';

export class RoundRobinPicker<H extends LbHost> implements Picker<H> {
  private readonly edf: EdfScheduler<H> | undefined;
  private index: number;

  constructor(
    private readonly hosts: readonly H[],
    private readonly random: Random,
  ) {
    // Start at a random position so that many proxies do not all hit the first host together (Envoy does the same).
    this.index = hosts.length > 0 ? Math.floor(random() * hosts.length) : 0;
    const w0 = hosts[0]?.weight;
    if (hosts.some((h) => h.weight !== w0)) {
      this.edf = new EdfScheduler<H>();
      for (const h of hosts) this.edf.add(h, h.weight);
      const prepick = Math.floor(random() * hosts.length);
      for (let i = 0; i < prepick; i++) this.next();
    }
  }

  pick(_hash: number | undefined, exclude: ReadonlySet<string> | undefined): H | undefined {
    if (this.hosts.length === 0) return undefined;
    if (exclude === undefined || exclude.size === 0) return this.next();
    const rest = withoutExcluded(this.hosts, exclude);
    return rest.length > 0 ? weightedRandom(rest, this.random) : this.next();
  }

  private next(): H {
    if (this.edf) {
      const h = this.edf.pick() as H;
      this.edf.add(h, h.weight);
      return h;
    }
    const h = this.hosts[this.index % this.hosts.length];
    this.index = (this.index + 1) % this.hosts.length;
    return h;
  }
}

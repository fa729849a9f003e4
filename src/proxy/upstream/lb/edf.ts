// Earliest-deadline-first scheduler (Envoy's EdfScheduler): smooth weighted picking with a binary heap.

interface Entry<T> {
  item: T;
  deadline: number;
  /** Insertion order, to break deadline ties deterministically (FIFO). */
  seq: number;
}

/**
 * Each item is scheduled at `now + 1 / weight`; `pick()` pops the earliest and the caller adds it back (with its
 * current weight), so a host of weight 3 is picked three times as often as one of weight 1, interleaved smoothly.
 */
export class EdfScheduler<T> {
  private readonly heap: Entry<T>[] = [];
  private now = 0;
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  add(item: T, weight: number): void {
    const e: Entry<T> = { item, deadline: this.now + 1 / weight, seq: this.seq++ };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  /** Removes and returns the item with the earliest deadline (advancing the clock to it). */
  pick(): T | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop() as Entry<T>;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l], h[m])) m = l;
        if (r < h.length && less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    this.now = top.deadline;
    return top.item;
  }
}

function less<T>(a: Entry<T>, b: Entry<T>): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
}

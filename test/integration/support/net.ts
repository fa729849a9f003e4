// Loopback addressing and polling for mini-mesh tests: a random 127.A.B.0/24 per mesh (each workload its own IP,
// as in local mode), free ports, and `eventually` (poll a condition with a deadline instead of sleeping).
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A random /24 inside 127/8 (127.A.B.x, A in 100..199) that other meshes running in parallel are unlikely to pick. */
export function randomSubnet(): string {
  const a = 100 + Math.floor(Math.random() * 100);
  const b = 1 + Math.floor(Math.random() * 254);
  return `127.${a}.${b}`;
}

/** True when `host:port` can be bound right now. */
export async function canBind(host: string, port: number): Promise<boolean> {
  const s = createServer();
  const ok = await new Promise<boolean>((resolve) => {
    s.once('error', () => resolve(false));
    s.listen(port, host, () => resolve(true));
  });
  if (ok) await new Promise((r) => s.close(r));
  return ok;
}

/** A port the kernel hands out on 127.0.0.1 that is also free on every address in `alsoOn`. */
export async function freePort(alsoOn: readonly string[] = []): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const s = createServer().listen(0, '127.0.0.1');
    await once(s, 'listening');
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    let ok = true;
    for (const h of alsoOn) if (!(await canBind(h, port))) ok = false;
    if (ok) return port;
  }
  throw new Error('no free port found');
}

export interface EventuallyOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Shown in the timeout error (e.g. a proxy's logs). */
  message?: () => string;
}

/**
 * Polls `check` until it returns a value other than undefined/false (returned) or the deadline passes (throws with
 * the last error or value seen). Use instead of fixed sleeps when no event can be awaited.
 */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, o: EventuallyOptions = {}): Promise<T> {
  const deadline = Date.now() + (o.timeoutMs ?? 10_000);
  const interval = o.intervalMs ?? 50;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`condition not met within ${o.timeoutMs ?? 10_000} ms (last: ${why})${o.message ? `\n${o.message()}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

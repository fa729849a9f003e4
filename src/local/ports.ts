// Checks, before anything starts, that every address:port the mesh will bind is free, and explains each one that is not.
import { createServer } from 'node:net';
import type { Binding } from './plan.js';

export interface PortProblem extends Binding {
  code: string;
  message: string;
}

function tryBind(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(undefined)));
  });
}

function explain(b: Binding, code: string): string {
  const at = `${b.host}:${b.port}`;
  switch (code) {
    case 'EADDRINUSE':
      return `${at} is already in use (needed by ${b.owner}); stop what listens there (e.g. another isthmus up: isthmus status) or change the port in the mesh file`;
    case 'EADDRNOTAVAIL':
      return `cannot bind ${at} (needed by ${b.owner}): address not available — Linux routes all of 127.0.0.0/8 to the loopback interface; on macOS add an alias first: sudo ifconfig lo0 alias ${b.host}`;
    case 'EACCES':
      return `cannot bind ${at} (needed by ${b.owner}): permission denied — ports below 1024 need privileges; use a port of 1024 or more`;
    default:
      return `cannot bind ${at} (needed by ${b.owner}): ${code}`;
  }
}

/** Every binding that cannot be made right now, with a message naming it (bindings are tried a few at a time). */
export async function busyPorts(list: readonly Binding[]): Promise<PortProblem[]> {
  const out: PortProblem[] = [];
  const seen = new Set<string>();
  const unique = list.filter((b) => {
    const k = `${b.host}:${b.port}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  const width = 16;
  for (let i = 0; i < unique.length; i += width) {
    const batch = unique.slice(i, i + width);
    const codes = await Promise.all(batch.map((b) => tryBind(b.host, b.port)));
    batch.forEach((b, j) => {
      const code = codes[j];
      if (code !== undefined) out.push({ ...b, code, message: explain(b, code) });
    });
  }
  return out;
}

/** Two owners planned on the same address:port (a mesh file mistake the per-field checks cannot see). */
export function duplicateBindings(list: readonly Binding[]): string[] {
  const by = new Map<string, Binding>();
  const out: string[] = [];
  for (const b of list) {
    const k = `${b.host}:${b.port}`;
    const prev = by.get(k);
    if (prev) out.push(`${k} is needed twice: by ${prev.owner} and by ${b.owner}`);
    else by.set(k, b);
  }
  return out;
}

// A TCP port forward run inside the runner (like a Kubernetes Service port → targetPort): 127.0.0.1:hostPort → the
// gateway's address:port, for gateways published on another port than their Gateway server port.
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

export interface Forwarder {
  readonly listen: string;
  readonly target: string;
  close(): Promise<void>;
}

export function startForwarder(host: string, port: number, targetHost: string, targetPort: number): Promise<Forwarder> {
  const sockets = new Set<Socket>();
  const track = (s: Socket): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  const server: Server = createServer((down) => {
    track(down);
    const up = connect({ host: targetHost, port: targetPort });
    track(up);
    down.pipe(up).pipe(down);
    const end = (): void => {
      down.destroy();
      up.destroy();
    };
    down.on('error', end);
    up.on('error', end);
    down.on('close', () => up.end());
    up.on('close', () => down.end());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve({
        listen: `${host}:${port}`,
        target: `${targetHost}:${targetPort}`,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

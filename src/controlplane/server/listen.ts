// Binding and closing the control plane's listeners (gRPC and HTTP) with errors that name the address.
import * as grpc from '@grpc/grpc-js';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode, MeshError } from '../../shared/errors.js';
import type { XdsServer } from './xds-server.js';

export interface HostPort {
  host: string;
  port: number;
}

/** `host:port`, `[v6]:port` or `:port` (127.0.0.1) → host and port; port 0 picks a free one. */
export function parseAddr(addr: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(addr);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new MeshError(ErrorCode.Usage, `invalid listen address "${addr}": want host:port (port 0-65535)`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

export function formatAddr(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export interface GrpcListener {
  server: grpc.Server;
  /** The bound address, with the real port. */
  address: string;
}

/** Starts a grpc-js server serving ADS on `addr` (plaintext). */
export async function listenGrpc(xds: XdsServer, addr: string): Promise<GrpcListener> {
  const { host, port } = parseAddr(addr);
  const server = new grpc.Server({
    'grpc.max_send_message_length': -1,
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    'grpc.keepalive_permit_without_calls': 1,
    // istiod's server keepalive: a dead peer is noticed (and its stuck pushes released) within ~40 s.
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
  });
  xds.register(server);
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(formatAddr(host, port), grpc.ServerCredentials.createInsecure(), (err, p) => {
      if (err) {
        const inUse = /EADDRINUSE|address already in use/i.test(err.message);
        reject(new MeshError(inUse ? ErrorCode.AddressInUse : ErrorCode.Io, `cannot listen for xDS on ${addr}: ${inUse ? 'address already in use' : err.message}`, { cause: err }));
      } else resolve(p);
    });
  });
  return { server, address: formatAddr(host, bound) };
}

/** Graceful gRPC shutdown: tryShutdown, then forceShutdown after `deadlineMs`. */
export async function shutdownGrpc(server: grpc.Server, deadlineMs = 2000): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, deadlineMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export interface HttpListener {
  server: http.Server;
  address: string;
}

/** Starts a node:http server on `addr`; `what` names it in errors ("debug", "monitoring"). */
export async function listenHttp(handler: http.RequestListener, addr: string, what: string): Promise<HttpListener> {
  const { host, port } = parseAddr(addr);
  const server = http.createServer(handler);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const inUse = err.code === 'EADDRINUSE';
      reject(new MeshError(inUse ? ErrorCode.AddressInUse : ErrorCode.Io, `cannot listen for ${what} on ${addr}: ${inUse ? 'address already in use' : err.message}`, { cause: err }));
    });
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return { server, address: formatAddr(host, a.port) };
}

/** Closes an HTTP server and its idle keep-alive connections. */
export async function closeHttp(server: http.Server): Promise<void> {
  if (!server.listening) return;
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 1000).unref();
  });
}

// Where an accepted connection was going (Envoy's original_dst listener filter and use_original_dst hand-off).
//
// Limitation: with iptables REDIRECT the kernel keeps the pre-NAT destination in the conntrack entry, readable only
// with getsockopt(SO_ORIGINAL_DST) (TPROXY: the socket's local address already is the destination). Node exposes
// neither getsockopt nor IP_TRANSPARENT without a native addon, so this module supports:
//   (a) captureMode NONE / bound listeners and TPROXY-like setups: the local address IS the destination;
//   (b) HTTP-proxy mode: the HTTP handler learns the destination from the absolute URI or CONNECT authority;
//   (c) an `OriginalDstHook` the process may install (the traffic-capture issue plugs SO_ORIGINAL_DST in here).
import type { Socket } from 'node:net';
import type { SocketAddress } from '../runtime/types.js';

/** Returns the pre-redirect destination of an accepted socket, or undefined when it cannot tell. */
export type OriginalDstHook = (socket: Socket) => SocketAddress | undefined;

/** `::ffff:10.0.0.1` → `10.0.0.1` (sockets on dual-stack servers report IPv4 peers that way). */
export function normalizeIp(a: string | undefined): string {
  if (a === undefined) return '';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** The socket's own local address: the destination when nothing redirected the connection. */
export function localDestination(socket: Socket): SocketAddress {
  return { address: normalizeIp(socket.localAddress), port: socket.localPort ?? 0 };
}

/** Destination through the hook when it knows, else the local address. */
export function originalDestination(socket: Socket, hook: OriginalDstHook | undefined): SocketAddress {
  return hook?.(socket) ?? localDestination(socket);
}

// Byte tunnels: piping a downstream stream and an upstream socket both ways, and CONNECT in HTTP-proxy mode
// (HTTP/1.1 and HTTP/2) to the cluster the request's authority routes to.
import { isIP, type Socket } from 'node:net';
import { lookup } from 'node:dns';
import type { Duplex } from 'node:stream';
import type { UpstreamCluster, UpstreamError } from '../runtime/contracts.js';
import type { Exchange } from './exchange.js';
import { upstreamFailure } from './local-reply.js';
import { hostOf, portOf } from './route-select.js';

/** Pipes two sockets both ways; either side closing or failing tears the other down after flushing. */
export function pipeBoth(a: Duplex, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  const done = (): void => {
    if (!a.destroyed) a.end();
    if (!b.destroyed) b.end();
  };
  const fail = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', fail);
  b.on('error', fail);
  a.on('close', done);
  b.on('close', done);
}

/** CONNECT host:port → the routed cluster; ORIGINAL_DST clusters get the target resolved as the original destination. */
export function startTunnel(ex: Exchange, cluster: UpstreamCluster): void {
  const host = hostOf(ex.authority).replace(/^\[|\]$/g, '');
  const port = portOf(ex.authority) ?? 443;
  const go = (address: string | undefined): void => {
    if (ex.done) return;
    ex.attemptCount = 1;
    ex.hcm.clusterStats.get(cluster.name).rqTotal.inc();
    cluster.connect(
      { originalDst: address ? { address, port } : ex.conn.info.originalDst, downstreamAddress: ex.conn.remote },
      (err: UpstreamError | null, socket?: Socket, hostKey?: string) => {
        if (ex.done) {
          socket?.destroy();
          return;
        }
        if (err || !socket) {
          ex.sendLocalReply(upstreamFailure(err!, false), true);
          return;
        }
        ex.upstreamHost = hostKey;
        ex.responseCodeDetails = 'via_upstream';
        ex.stopIdleTimer();
        ex.respond(200, [], false, false, false);
        ex.openTunnel(socket);
      },
    );
  };
  if (cluster.config.type !== 'ORIGINAL_DST' || isIP(host)) {
    go(isIP(host) ? host : undefined);
    return;
  }
  lookup(host, (err, address) => {
    if (err) {
      ex.sendLocalReply({ status: 503, body: `dns resolution failure for ${host}`, flag: 'UF', details: 'dns_resolution_failure' }, true);
      return;
    }
    go(address);
  });
}

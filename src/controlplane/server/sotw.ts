// State-of-the-World ADS: request handling (subscribe, ACK, NACK, stale nonces) and per-type responses.
// Protocol: https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#ack-nack-and-resource-type-instance-version
import { isWildcardType } from '../../xds/types.js';
import type { SotwRequest, SotwResponse } from './ads-service.js';
import type { Connection, WatchState } from './connection.js';
import type { ServerContext, TypePush, TypePushResult } from './context.js';
import { namesToGenerate, publishRequest, recordAck, recordNack } from './context.js';

/** Applies a SotW request's resource_names: empty means wildcard for LDS/CDS, '*' means wildcard for any type. */
function setNames(w: WatchState, requested: readonly string[]): boolean {
  const names = new Set(requested.filter((n) => n !== '*'));
  const wildcard = requested.includes('*') || (requested.length === 0 && isWildcardType(w.typeUrl));
  let changed = wildcard !== w.wildcard || names.size !== w.names.size;
  if (!changed) for (const n of names) if (!w.names.has(n)) changed = true;
  w.wildcard = wildcard;
  w.names = names;
  if (!wildcard) for (const n of [...w.sent.keys()]) if (!names.has(n)) w.sent.delete(n);
  return changed;
}

/** Handles one DiscoveryRequest; responds when the client subscribes or changes its names. */
export function handleSotwRequest(ctx: ServerContext, con: Connection<SotwResponse>, req: SotwRequest): void {
  const typeUrl = req.type_url ?? '';
  if (!typeUrl) {
    ctx.log.debug('request without type_url ignored', { node: con.proxy.id });
    return;
  }
  const nonce = req.response_nonce ?? '';
  const names = req.resource_names ?? [];
  const existing = con.watched.get(typeUrl);

  if (req.error_detail) {
    if (existing && nonce === existing.nonceSent) {
      recordNack(ctx, con, existing, nonce, req.error_detail);
      // The request still carries the client's subscription: answer a change of names, never the rejected content.
      if (setNames(existing, names)) pushSotwType(ctx, con, existing, { push: ctx.currentPush(), forced: true });
      publishRequest(con, typeUrl, 'nack');
    } else {
      publishRequest(con, typeUrl, 'stale'); // NACK of an old response, or of one we never sent
    }
    return;
  }
  if (nonce === '' || !existing) {
    // A new subscription (or a client that reconnected to us with a nonce of another server).
    const w = con.watch(typeUrl);
    setNames(w, names);
    pushSotwType(ctx, con, w, { push: ctx.currentPush(), forced: true });
    publishRequest(con, typeUrl, 'subscribe');
    return;
  }
  if (nonce !== existing.nonceSent) {
    publishRequest(con, typeUrl, 'stale'); // a newer response is on its way
    return;
  }
  recordAck(existing, nonce);
  if (setNames(existing, names)) pushSotwType(ctx, con, existing, { push: ctx.currentPush(), forced: true });
  publishRequest(con, typeUrl, 'ack');
}

/** Generates one type for the connection and sends it unless unchanged since the last response (and not forced). */
export function pushSotwType(ctx: ServerContext, con: Connection<SotwResponse>, w: WatchState, tp: TypePush): TypePushResult {
  const started = performance.now();
  const requested = namesToGenerate(w, tp);
  if (requested !== undefined && requested.length === 0 && !tp.forced) return { sent: false, names: [] };
  let resources = ctx.build(con, w.typeUrl, requested, tp.push);
  if (!resources) return { sent: false, names: [] };
  if (requested === undefined && tp.only) resources = resources.filter((r) => tp.only?.(r.name));
  const partial = tp.only !== undefined;

  const next = new Map<string, string>();
  for (const r of resources) next.set(r.name, r.hash);
  if (!tp.forced && unchanged(w, next, requested, partial, tp.resend)) return { sent: false, names: [] };

  const nonce = con.nextNonce();
  const msg: SotwResponse = {
    version_info: tp.push.version,
    resources: resources.map((r) => r.any),
    type_url: w.typeUrl,
    nonce,
    control_plane: ctx.controlPlane,
  };
  if (!con.send(msg)) return { sent: false, names: [] };
  if (w.wildcard && !partial) {
    w.sent = next;
  } else {
    for (const n of requested ?? []) if (!next.has(n)) w.sent.delete(n);
    for (const [n, h] of next) w.sent.set(n, h);
  }
  w.nonceSent = nonce;
  w.versionSent = tp.push.version;
  w.sentAt = Date.now();
  ctx.recordSend(con, w.typeUrl, resources, started);
  return { sent: true, names: [...next.keys()] };
}

function unchanged(w: WatchState, next: ReadonlyMap<string, string>, requested: readonly string[] | undefined, partial: boolean, resend?: ReadonlySet<string>): boolean {
  for (const [n, h] of next) {
    if (w.sent.get(n) !== h) return false;
    if (resend?.has(n)) return false;
  }
  if (w.wildcard && !partial) return w.sent.size === next.size;
  for (const n of requested ?? []) if (!next.has(n) && w.sent.has(n)) return false;
  return true;
}

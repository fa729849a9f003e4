// Delta (incremental) ADS: subscribe/unsubscribe, initial_resource_versions, per-resource versions, removed_resources, ACK/NACK.
// Protocol: https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#incremental-xds
import { isWildcardType } from '../../xds/types.js';
import type { DeltaRequest, DeltaResponse } from './ads-service.js';
import type { Connection, WatchState } from './connection.js';
import type { ServerContext, TypePush, TypePushResult } from './context.js';
import type { RequestEvent } from './context.js';
import { namesToGenerate, publishRequest, recordAck, recordNack } from './context.js';

/** Handles one DeltaDiscoveryRequest: ACK/NACK by nonce, then subscription changes (which may trigger a response). */
export function handleDeltaRequest(ctx: ServerContext, con: Connection<DeltaResponse>, req: DeltaRequest): void {
  const typeUrl = req.type_url ?? '';
  if (!typeUrl) {
    ctx.log.debug('delta request without type_url ignored', { node: con.proxy.id });
    return;
  }
  const first = !con.watched.has(typeUrl);
  const w = con.watch(typeUrl);
  const nonce = req.response_nonce ?? '';
  let kind: RequestEvent['kind'] = 'subscribe';
  if (!first && nonce !== '') {
    if (nonce !== w.nonceSent) kind = 'stale';
    else if (req.error_detail) {
      recordNack(ctx, con, w, nonce, req.error_detail);
      kind = 'nack';
    } else {
      recordAck(w, nonce);
      kind = 'ack';
    }
  }
  const subscribe = req.resource_names_subscribe ?? [];
  const unsubscribe = req.resource_names_unsubscribe ?? [];
  const subscribed = new Set<string>();
  let wildcardOn = false;
  if (first) {
    for (const [n, v] of Object.entries(req.initial_resource_versions ?? {})) w.sent.set(n, v);
    if (subscribe.length === 0 && isWildcardType(typeUrl)) wildcardOn = true;
  }
  for (const n of subscribe) {
    if (n === '*') {
      if (!w.wildcard) wildcardOn = true;
    } else if (!w.names.has(n)) {
      w.names.add(n);
      subscribed.add(n);
    }
  }
  if (wildcardOn) w.wildcard = true;
  for (const n of unsubscribe) {
    if (n === '*') {
      w.wildcard = false;
      for (const s of [...w.sent.keys()]) if (!w.names.has(s)) w.sent.delete(s);
    } else {
      w.names.delete(n);
      if (!w.wildcard) w.sent.delete(n);
    }
  }
  if (first || wildcardOn || subscribed.size > 0) {
    pushDeltaType(ctx, con, w, { push: ctx.currentPush(), forced: first, subscribed });
  }
  publishRequest(con, typeUrl, kind);
}

/** Sends the resources whose version differs from what the client holds, and the names that no longer exist. */
export function pushDeltaType(ctx: ServerContext, con: Connection<DeltaResponse>, w: WatchState, tp: TypePush): TypePushResult {
  const started = performance.now();
  const requested = namesToGenerate(w, tp);
  if (requested !== undefined && requested.length === 0 && !tp.forced) return { sent: false, names: [] };
  let resources = ctx.build(con, w.typeUrl, requested, tp.push);
  if (!resources) return { sent: false, names: [] };
  if (requested === undefined && tp.only) resources = resources.filter((r) => tp.only?.(r.name));

  const generated = new Set<string>();
  const changed = [];
  for (const r of resources) {
    generated.add(r.name);
    if (w.sent.get(r.name) !== r.hash || tp.resend?.has(r.name)) changed.push(r);
  }
  const removed: string[] = [];
  const candidates = requested ?? (tp.only ? [...w.sent.keys()].filter(tp.only) : [...w.sent.keys()]);
  for (const n of candidates) {
    if (generated.has(n)) continue;
    if (w.sent.has(n) || tp.subscribed?.has(n)) removed.push(n);
  }
  if (changed.length === 0 && removed.length === 0 && !tp.forced) return { sent: false, names: [] };

  const nonce = con.nextNonce();
  const msg: DeltaResponse = {
    system_version_info: tp.push.version,
    resources: changed.map((r) => ({ name: r.name, version: r.hash, resource: r.any })),
    type_url: w.typeUrl,
    removed_resources: removed,
    nonce,
    control_plane: ctx.controlPlane,
  };
  if (!con.send(msg)) return { sent: false, names: [] };
  for (const r of changed) w.sent.set(r.name, r.hash);
  for (const n of removed) w.sent.delete(n);
  w.nonceSent = nonce;
  w.versionSent = tp.push.version;
  w.sentAt = Date.now();
  ctx.recordSend(con, w.typeUrl, changed, started);
  return { sent: true, names: changed.map((r) => r.name) };
}

// Incremental (Delta) ADS from the client side: subscribe/unsubscribe diffs, per-resource versions sent back as
// initial_resource_versions on a new stream, removed_resources, ACK/NACK by nonce.
// https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#incremental-xds
import { isWildcardType } from '../../xds/types.js';
import type { DeltaRequest, DeltaResponse } from '../../xds/ads-service.js';
import type { Protocol, ProtocolHost } from './protocol.js';
import { INVALID_ARGUMENT, TYPE_ORDER } from './protocol.js';

export class DeltaProtocol implements Protocol {
  private send: ((req: DeltaRequest) => void) | undefined;
  /** Names subscribed on the current stream, per type (wildcard types: the set stays empty). */
  private subscribedNames = new Map<string, Set<string>>();
  /** Versions of the resources held, per type: survives reconnects (initial_resource_versions). */
  private readonly versions = new Map<string, Map<string, string>>();
  private nodeSent = false;

  constructor(private readonly host: ProtocolHost) {}

  start(send: (req: object) => void): void {
    this.send = send;
    this.subscribedNames = new Map();
    this.nodeSent = false;
    for (const t of TYPE_ORDER) this.subscribeInitial(t);
  }

  onResponse(raw: unknown): void {
    const res = raw as Partial<DeltaResponse>;
    const typeUrl = res.type_url ?? '';
    const nonce = res.nonce ?? '';
    const subs = this.subscribedNames.get(typeUrl);
    const wildcard = isWildcardType(typeUrl);
    // Named types: resources we did not (or no longer) subscribe to are ignored.
    const items = (res.resources ?? []).filter((r) => r.resource !== undefined && (wildcard || subs?.has(r.name) === true));
    const detail = this.host.handle({
      typeUrl,
      version: res.system_version_info ?? '',
      nonce,
      resources: items.map((r) => ({ name: r.name, typeUrl: r.resource.type_url, value: r.resource.value })),
      removed: res.removed_resources ?? [],
      full: false,
    });
    if (detail === undefined) {
      let v = this.versions.get(typeUrl);
      if (!v) this.versions.set(typeUrl, (v = new Map()));
      for (const n of res.removed_resources ?? []) v.delete(n);
      for (const r of items) v.set(r.name, r.version);
    }
    const ack: DeltaRequest = { type_url: typeUrl, response_nonce: nonce };
    if (detail !== undefined) ack.error_detail = { code: INVALID_ARGUMENT, message: detail };
    this.write(ack);
    this.sync();
  }

  sync(): void {
    if (!this.send) return;
    for (const t of TYPE_ORDER) {
      if (isWildcardType(t)) continue;
      const subs = this.subscribedNames.get(t);
      if (!subs) {
        this.subscribeInitial(t);
        continue;
      }
      const wanted = this.host.wanted(t);
      const want = new Set(wanted === '*' ? [] : wanted);
      const add = [...want].filter((n) => !subs.has(n));
      const drop = [...subs].filter((n) => !want.has(n));
      if (add.length === 0 && drop.length === 0) continue;
      for (const n of add) subs.add(n);
      const held = this.versions.get(t);
      for (const n of drop) {
        subs.delete(n);
        held?.delete(n);
      }
      this.write({ type_url: t, resource_names_subscribe: add, resource_names_unsubscribe: drop });
    }
  }

  subscribed(typeUrl: string): string[] | '*' {
    if (isWildcardType(typeUrl)) return '*';
    return [...(this.subscribedNames.get(typeUrl) ?? [])].sort();
  }

  /** The first request of a type on this stream (wildcard types: an empty subscribe list = legacy wildcard). */
  private subscribeInitial(typeUrl: string): void {
    const wanted = this.host.wanted(typeUrl);
    if (wanted !== '*' && wanted.length === 0) return;
    const names = wanted === '*' ? [] : wanted;
    const held = this.versions.get(typeUrl) ?? new Map<string, string>();
    const initial: Record<string, string> = {};
    for (const [n, v] of held) if (wanted === '*' || names.includes(n)) initial[n] = v;
    this.subscribedNames.set(typeUrl, new Set(names));
    this.write({ type_url: typeUrl, resource_names_subscribe: names, initial_resource_versions: initial });
  }

  private write(req: DeltaRequest): void {
    if (!this.send) return;
    if (!this.nodeSent) {
      req.node = this.host.node as Record<string, unknown>;
      this.nodeSent = true;
    }
    this.send(req);
  }
}

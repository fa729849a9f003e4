// State-of-the-World ADS from the client side: every request of a type carries its full name list, the last accepted
// version and the last nonce; ACK = that version + the response nonce, NACK = the previous version + error_detail.
// https://www.envoyproxy.io/docs/envoy/latest/api-docs/xds_protocol#ack-nack-and-resource-type-instance-version
import { isWildcardType } from '../../xds/types.js';
import type { SotwRequest, SotwResponse } from '../../xds/ads-service.js';
import type { Protocol, ProtocolHost } from './protocol.js';
import { INVALID_ARGUMENT, TYPE_ORDER } from './protocol.js';

interface TypeStream {
  /** Names in the last request sent on this stream; undefined = nothing sent yet. */
  sent?: string[];
  nonce: string;
}

export class SotwProtocol implements Protocol {
  private send: ((req: SotwRequest) => void) | undefined;
  private types = new Map<string, TypeStream>();
  private nodeSent = false;

  constructor(private readonly host: ProtocolHost) {}

  start(send: (req: object) => void): void {
    this.send = send;
    this.types = new Map();
    this.nodeSent = false;
    for (const t of TYPE_ORDER) if (this.host.wanted(t) === '*' || this.host.wanted(t).length > 0) this.request(t, '');
  }

  onResponse(raw: unknown): void {
    const res = raw as Partial<SotwResponse>;
    const typeUrl = res.type_url ?? '';
    const nonce = res.nonce ?? '';
    const ts = this.types.get(typeUrl) ?? { nonce: '' };
    ts.nonce = nonce;
    this.types.set(typeUrl, ts);
    const wanted = this.host.wanted(typeUrl);
    const detail = this.host.handle({
      typeUrl,
      version: res.version_info ?? '',
      nonce,
      resources: (res.resources ?? []).map((a) => ({ typeUrl: a.type_url, value: a.value })),
      removed: [],
      full: wanted === '*',
    });
    this.request(typeUrl, nonce, detail);
    this.sync();
  }

  sync(): void {
    if (!this.send) return;
    for (const t of TYPE_ORDER) {
      if (isWildcardType(t)) continue;
      const wanted = this.host.wanted(t);
      const names = wanted === '*' ? [] : wanted;
      const ts = this.types.get(t);
      if (ts?.sent === undefined && names.length === 0) continue;
      if (ts?.sent !== undefined && sameList(ts.sent, names)) continue;
      this.request(t, ts?.nonce ?? '');
    }
  }

  subscribed(typeUrl: string): string[] | '*' {
    if (isWildcardType(typeUrl)) return '*';
    return this.types.get(typeUrl)?.sent ?? [];
  }

  private request(typeUrl: string, nonce: string, errorDetail?: string): void {
    if (!this.send) return;
    const wanted = this.host.wanted(typeUrl);
    const names = wanted === '*' ? [] : wanted;
    const req: SotwRequest = { type_url: typeUrl, version_info: this.host.acceptedVersion(typeUrl), resource_names: names, response_nonce: nonce };
    if (!this.nodeSent) {
      req.node = this.host.node as Record<string, unknown>;
      this.nodeSent = true;
    }
    if (errorDetail !== undefined) req.error_detail = { code: INVALID_ARGUMENT, message: errorDetail };
    const ts = this.types.get(typeUrl) ?? { nonce };
    ts.sent = names;
    this.types.set(typeUrl, ts);
    this.send(req);
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

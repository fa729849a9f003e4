// Decodes the resources of one xDS response, all-or-nothing, reusing the decoded object of a resource whose bytes did
// not change (no re-decode, no regex recompilation, and object identity consumers can rely on).
import type { Resource, ResourceDecoder } from '../runtime/decode/index.js';
import { bytesHash, typeName } from '../runtime/decode/util.js';

/** One resource of a response: SotW gives only the Any; Delta also its name. */
export interface RawResource {
  name?: string;
  typeUrl: string;
  value: Uint8Array;
}

export type DecodedResponse = { ok: true; values: Map<string, Resource>; commit: () => void } | { ok: false; errors: string[] };

interface Entry {
  name: string;
  value: Resource;
}

export class DecodeCache {
  /** Per type: bytes hash → decoded resource. */
  private readonly byType = new Map<string, Map<string, Entry>>();

  constructor(private readonly decoders: ReadonlyMap<string, ResourceDecoder>) {}

  /** Decodes every resource; on success `commit()` records them for reuse (call it once the update is applied). */
  decode(typeUrl: string, items: readonly RawResource[]): DecodedResponse {
    const dec = this.decoders.get(typeUrl);
    if (!dec) return { ok: false, errors: [`unsupported resource type ${typeUrl}`] };
    const cache = this.byType.get(typeUrl);
    const errors: string[] = [];
    const values = new Map<string, Resource>();
    const fresh: [string, Entry][] = [];
    items.forEach((r, i) => {
      if (r.typeUrl !== typeUrl) {
        errors.push(`resources[${i}]: type ${typeName(r.typeUrl)} in a ${typeName(typeUrl)} response`);
        return;
      }
      const hash = bytesHash(r.value);
      let entry = cache?.get(hash);
      if (!entry) {
        const d = dec.decode(r.value);
        if (!d.ok) {
          errors.push(...d.errors);
          return;
        }
        entry = { name: dec.nameOf(d.value), value: d.value };
        fresh.push([hash, entry]);
      }
      if (r.name !== undefined && r.name !== entry.name) {
        errors.push(`resources[${i}]: resource name "${r.name}" differs from the name inside it "${entry.name}"`);
        return;
      }
      if (values.has(entry.name)) {
        errors.push(`resources[${i}]: duplicate resource name "${entry.name}"`);
        return;
      }
      values.set(entry.name, entry.value);
    });
    if (errors.length > 0) return { ok: false, errors };
    return {
      ok: true,
      values,
      commit: () => {
        let m = this.byType.get(typeUrl);
        if (!m) this.byType.set(typeUrl, (m = new Map()));
        for (const [h, e] of fresh) m.set(h, e);
      },
    };
  }

  /** Forgets entries that are not what is held now (`current(name)` returns the held object). */
  retain(typeUrl: string, current: (name: string) => unknown): void {
    const m = this.byType.get(typeUrl);
    if (!m) return;
    for (const [h, e] of [...m]) if (current(e.name) !== e.value) m.delete(h);
  }
}

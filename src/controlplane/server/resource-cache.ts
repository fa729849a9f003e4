// Encodes each generated resource once and shares the bytes between proxies that got an identical object
// (keyed by a hash of its JSON), keeping the entries of the current and the previous push version only.
import { createHash } from 'node:crypto';
import type { AnyMessage } from '../../xds/codec.js';
import { encode } from '../../xds/codec.js';
import type { Resource } from '../generate/types.js';

export interface EncodedResource {
  name: string;
  /** The resource as google.protobuf.Any, bytes shared between proxies. */
  any: AnyMessage;
  /** Version of this resource: a hash of its bytes (Delta xDS per-resource version). */
  hash: string;
}

interface Entry {
  any: AnyMessage;
  hash: string;
}

export class ResourceCache {
  private current = new Map<string, Entry>();
  private previous = new Map<string, Entry>();
  private version = '';
  /** Encodes actually performed (the rest were cache hits); for tests and debug. */
  encodes = 0;
  hits = 0;

  constructor(private readonly maxEntries = 200_000) {}

  /** Starts a push version: entries of older versions than the previous one are dropped. */
  begin(version: string): void {
    if (version === this.version) return;
    this.version = version;
    this.rotate();
  }

  private rotate(): void {
    this.previous = this.current;
    this.current = new Map();
  }

  /** Bytes and hash of one resource; throws what protobufjs throws on a malformed object. */
  encode(typeUrl: string, r: Resource): EncodedResource {
    const key = `${typeUrl}\n${r.name}\n${createHash('sha1').update(JSON.stringify(r.resource)).digest('base64')}`;
    let e = this.current.get(key);
    if (e) {
      this.hits++;
    } else {
      e = this.previous.get(key);
      if (e) {
        this.hits++;
      } else {
        const value = encode(typeUrl, r.resource);
        this.encodes++;
        e = { any: { type_url: typeUrl, value }, hash: createHash('sha1').update(value).digest('hex').slice(0, 16) };
      }
      if (this.current.size >= this.maxEntries) this.rotate();
      this.current.set(key, e);
    }
    return { name: r.name, any: e.any, hash: e.hash };
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }
}

// Hash function of the hash-based load balancers (RING_HASH, MAGLEV): MurmurHash3 x86 32-bit over UTF-8 bytes.
// Envoy uses xxHash64; exact host choices cannot match Envoy's anyway (ring contents differ), so we use the
// cheaper 32-bit MurmurHash3, which needs no BigInt. Routers hash request keys (header, cookie, source IP) with
// the same `hashKey` so the ring and the keys share one hash space (uint32).

/** MurmurHash3_x86_32 of a byte buffer. */
export function murmur3(bytes: Uint8Array, seed = 0): number {
  let h = seed >>> 0;
  const n = bytes.length;
  const blocks = n & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rem = n & 3;
  if (rem > 0) {
    let k = 0;
    if (rem === 3) k ^= bytes[blocks + 2] << 16;
    if (rem >= 2) k ^= bytes[blocks + 1] << 8;
    k ^= bytes[blocks];
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= n;
  return fmix(h);
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const ascii = new Uint8Array(256);

/** uint32 hash of a string's UTF-8 bytes (no allocation for short ASCII strings). */
export function hashKey(s: string, seed = 0): number {
  if (s.length <= ascii.length) {
    let isAscii = true;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) {
        isAscii = false;
        break;
      }
      ascii[i] = c;
    }
    if (isAscii) return murmur3(ascii.subarray(0, s.length), seed);
  }
  return murmur3(Buffer.from(s, 'utf8'), seed);
}

/** Combines two hashes (for several hash policies on one route), as Envoy's `(h1 << 1) ^ h2` does. */
export function combineHashes(a: number, b: number): number {
  return (((a << 1) | (a >>> 31)) ^ b) >>> 0;
}

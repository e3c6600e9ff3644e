/**
 * A 64-bit hash of bytes in two 32-bit lanes: lane 1 is MurmurHash3's block mix four bytes a step
 * (FNV-1a for the tail), lane 2 an FNV-style multiply by MurmurHash2's constant, so that the lanes are
 * independent. The structure scan's digest is this hash (reference-structure-scanner.ts; the
 * WebAssembly scanner computes the same), and so is the content hash of a held run of rules
 * (rule-runs.ts). Four bytes a step: hashing is most of a scan's time.
 */
export const LANE1_OFFSET = 0x811c9dc5 | 0;
export const LANE2_OFFSET = (0x811c9dc5 ^ 0x9e3779b9) | 0;
const FNV_PRIME = 0x01000193;
const LANE2_PRIME = 0x5bd1e995;

export class TwoLaneHash {
  constructor(
    public h1 = LANE1_OFFSET,
    public h2 = LANE2_OFFSET,
  ) {}

  /** Adds bytes[start, end). */
  bytes(bytes: Uint8Array, start: number, end: number): void {
    let h1 = this.h1;
    let h2 = this.h2;
    let i = start;
    for (; i + 4 <= end; i += 4) {
      const w = (bytes[i] as number) | ((bytes[i + 1] as number) << 8) | ((bytes[i + 2] as number) << 16) | ((bytes[i + 3] as number) << 24);
      let k = Math.imul(w, 0xcc9e2d51);
      k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
      h1 ^= k;
      h1 = (Math.imul((h1 << 13) | (h1 >>> 19), 5) + 0xe6546b64) | 0;
      h2 = Math.imul(h2 ^ w, LANE2_PRIME);
      h2 ^= h2 >>> 15;
    }
    for (; i < end; i++) {
      const b = bytes[i] as number;
      h1 = Math.imul(h1 ^ b, FNV_PRIME);
      h2 = Math.imul(h2 ^ b, LANE2_PRIME);
      h2 ^= h2 >>> 13;
    }
    this.h1 = h1;
    this.h2 = h2;
  }

  /** Adds one byte (or a mark in place of some). */
  byte(b: number): void {
    this.h1 = Math.imul(this.h1 ^ b, FNV_PRIME);
    const h2 = Math.imul(this.h2 ^ b, LANE2_PRIME);
    this.h2 = h2 ^ (h2 >>> 13);
  }
}

const scratch = new TwoLaneHash();

/**
 * TwoLaneHash.byte over each char code of an ASCII text, from the offsets: what DumpParser computes
 * over a chain name's bytes. The result is one shared object, overwritten by the next call: read its
 * lanes at once.
 */
export function hashNameLanes(text: string): Readonly<TwoLaneHash> {
  scratch.h1 = LANE1_OFFSET;
  scratch.h2 = LANE2_OFFSET;
  for (let i = 0; i < text.length; i++) scratch.byte(text.charCodeAt(i));
  return scratch;
}

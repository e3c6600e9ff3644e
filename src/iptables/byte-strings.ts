/**
 * Strings made from the stream's bytes without decoding whole lines: an FNV-1a hash the tokenizer
 * computes as it scans, and two tables that hand out one shared string per distinct byte sequence.
 * All of it is ASCII only (the fast path declines anything else).
 */

export const FNV_OFFSET = 0x811c9dc5 | 0;
export const FNV_PRIME = 0x01000193;

/** FNV-1a of a string's char codes: the hash the tokenizer computes over the same bytes. */
export function hashText(text: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h;
}

export function sameText(text: string, bytes: Uint8Array, start: number, end: number): boolean {
  if (text.length !== end - start) return false;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== bytes[start + i]) return false;
  return true;
}

/** latin1 is a plain byte copy (the callers checked the bytes are ASCII). */
export function latin1(bytes: Buffer, start: number, end: number): string {
  return bytes.toString('latin1', start, end);
}

/** bytes equal: a byte copy of a string compares faster than the string's charCodeAt. */
export function sameBytes(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
}

/** bytes[start, end) begins with `prefix`. */
export function startsWithBytes(bytes: Uint8Array, start: number, end: number, prefix: Uint8Array): boolean {
  return end - start >= prefix.length && sameBytes(bytes, start, prefix, 0, prefix.length);
}

/** A short copy: `set(subarray())` would allocate a Buffer view per call. */
function copyBytes(from: Uint8Array, start: number, end: number, to: Uint8Array, at: number): void {
  for (let i = start; i < end; i++) to[at++] = from[i] as number;
}

/** Values up to this long keep a byte copy in RecentStrings; longer ones (rare) compare as strings. */
const SLOT_BYTES = 64;
/** Slots of NameTable's front cache. */
const FRONT_BITS = 8;

/**
 * Direct-mapped cache of recent strings by content hash: repeated values (a service's comment, the
 * pod CIDR, `tcp`) share one string, and memory stays fixed whatever the input.
 */
export class RecentStrings {
  private readonly hashes: Int32Array;
  private readonly strings: (string | undefined)[];
  /** A byte copy of each slot's string (up to SLOT_BYTES), to verify a hit. */
  private readonly copies: Uint8Array;
  private readonly mask: number;

  constructor(bits: number) {
    this.mask = (1 << bits) - 1;
    this.hashes = new Int32Array(this.mask + 1);
    this.strings = new Array<string | undefined>(this.mask + 1).fill(undefined);
    this.copies = new Uint8Array((this.mask + 1) * SLOT_BYTES);
  }

  /** The string for bytes[start, end), whose FNV-1a hash is `h`; on a miss from `source` if given, else decoded. */
  get(bytes: Buffer, start: number, end: number, h: number, source: NameTable | null = null): string {
    const slot = (h ^ (h >>> 15)) & this.mask;
    const cached = this.strings[slot];
    const length = end - start;
    if (cached !== undefined && this.hashes[slot] === h && cached.length === length) {
      if (length <= SLOT_BYTES ? sameBytes(this.copies, slot * SLOT_BYTES, bytes, start, length) : sameText(cached, bytes, start, end)) return cached;
    }
    const text = source === null ? latin1(bytes, start, end) : source.lookup(bytes, start, end, h);
    this.hashes[slot] = h;
    this.strings[slot] = text;
    if (length <= SLOT_BYTES) copyBytes(bytes, start, end, this.copies, slot * SLOT_BYTES);
    return text;
  }
}

/** How many names past the last chain `chain()` looks at before the table (chains without rules in between). */
const LOOKAHEAD = 4;

/**
 * Every chain name seen (declarations and jump targets), one string each: a rule's chain and target
 * are then the declared chain's own string without a decode and a Map lookup per rule. A dump holds
 * these strings anyway; the table is cleared past `limit` so garbage input cannot grow it forever.
 */
export class NameTable {
  /**
   * Most target lookups are a few well-known targets (KUBE-MARK-MASQ, DNAT, RETURN): a small
   * direct-mapped front stays in the CPU cache, while the big table below is a cache miss or three.
   */
  private readonly front = new RecentStrings(FRONT_BITS);
  /** Open addressing, two Int32 per slot: the hash, and 1 + the name's index in `names` (0: empty). */
  private slots = new Int32Array(2048);
  /** Names in first-seen order (declaration order in iptables-save output), and their hashes. */
  private names: string[] = [];
  private hashes = new Int32Array(1024);
  /** Index in `names` just after the last chain() result. */
  private cursor = 0;

  constructor(private readonly limit = 1 << 20) {}

  /** The front keeps its few strings: equal text, so a later hit there is as good as one here. */
  clear(): void {
    this.slots = new Int32Array(2048);
    this.names = [];
    this.hashes = new Int32Array(1024);
    this.cursor = 0;
  }

  /** The string for bytes[start, end), whose FNV-1a hash is `h`: a jump target or declared name. */
  get(bytes: Buffer, start: number, end: number, h: number): string {
    return this.front.get(bytes, start, end, h, this);
  }

  /**
   * The same for a rule's own chain. iptables-save lists the chains' rules in the order it declared
   * the chains, so the name is the last one's or one of the next few: a look in memory that is read
   * in order, instead of a random probe (a few cache misses) into a table of 200k names.
   */
  chain(bytes: Buffer, start: number, end: number, h: number): string {
    const names = this.names;
    const hashes = this.hashes;
    const from = this.cursor > 0 ? this.cursor - 1 : 0;
    const to = Math.min(names.length, this.cursor + LOOKAHEAD);
    for (let i = from; i < to; i++) {
      if (hashes[i] === h && sameText(names[i] as string, bytes, start, end)) {
        this.cursor = i + 1;
        return names[i] as string;
      }
    }
    const index = this.indexOf(bytes, start, end, h);
    this.cursor = index + 1;
    return this.names[index] as string;
  }

  /** The big table's lookup: RecentStrings calls it on a miss in the front. */
  lookup(bytes: Buffer, start: number, end: number, h: number): string {
    return this.names[this.indexOf(bytes, start, end, h)] as string;
  }

  /** Index in `names` of bytes[start, end), added when new. */
  private indexOf(bytes: Buffer, start: number, end: number, h: number): number {
    let slots = this.slots;
    let mask = (slots.length >> 1) - 1;
    let slot = (h ^ (h >>> 15)) & mask;
    for (;;) {
      const entry = slots[2 * slot + 1] as number;
      if (entry === 0) break;
      if (slots[2 * slot] === h && sameText(this.names[entry - 1] as string, bytes, start, end)) return entry - 1;
      slot = (slot + 1) & mask;
    }
    if (this.names.length >= this.limit) {
      this.clear();
      slots = this.slots;
      mask = (slots.length >> 1) - 1;
      slot = (h ^ (h >>> 15)) & mask;
    }
    const index = this.names.length;
    this.names.push(latin1(bytes, start, end));
    if (index === this.hashes.length) {
      const hashes = new Int32Array(index * 2);
      hashes.set(this.hashes);
      this.hashes = hashes;
    }
    this.hashes[index] = h;
    slots[2 * slot] = h;
    slots[2 * slot + 1] = index + 1;
    if ((index + 1) * 2 > mask) this.grow();
    return index;
  }

  /** Twice the slots, refilled from `hashes` (the names keep their indices). */
  private grow(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = (slots.length >> 1) - 1;
    for (let i = 0; i < this.names.length; i++) {
      const h = this.hashes[i] as number;
      let slot = (h ^ (h >>> 15)) & mask;
      while (slots[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
      slots[2 * slot] = h;
      slots[2 * slot + 1] = i + 1;
    }
    this.slots = slots;
  }
}

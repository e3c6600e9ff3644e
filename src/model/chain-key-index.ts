/**
 * The entries of a chain cache (endpoint-chain-cache.ts, ladder-chain-cache.ts) by the two hashes the
 * parser gives a run of a chain's rules (rule-runs.ts): its chain name's and its content's, two
 * 32-bit lanes each. Open addressing on the name hash; each cache keeps its entries' values in arrays
 * of its own, by entry number, and probes with `first`/`next`/`entryAt` to test them as it needs.
 */
export class ChainKeyIndex {
  /** 4 per entry: name lanes, content lanes. */
  private keys: Int32Array;
  /** 1 + entry, 0 empty. */
  private slots: Int32Array;
  private entries = 0;

  /** `capacity`: entries expected (it grows as needed). */
  constructor(capacity: number) {
    this.keys = new Int32Array(4 * capacity);
    this.slots = new Int32Array(slotCount(capacity));
  }

  /** Entries added. */
  get size(): number {
    return this.entries;
  }

  /** The first slot to probe for a name whose first hash lane is `name1`. */
  first(name1: number): number {
    return (name1 ^ (name1 >>> 16)) & (this.slots.length - 1);
  }

  /** The slot to probe after `slot`. */
  next(slot: number): number {
    return (slot + 1) & (this.slots.length - 1);
  }

  /** The entry in `slot`, or -1 when it is empty (the probe ends there). */
  entryAt(slot: number): number {
    return (this.slots[slot] as number) - 1;
  }

  hasName(e: number, name1: number, name2: number): boolean {
    return this.keys[4 * e] === name1 && this.keys[4 * e + 1] === name2;
  }

  hasKeys(e: number, name1: number, name2: number, content1: number, content2: number): boolean {
    const k = 4 * e;
    const keys = this.keys;
    return keys[k] === name1 && keys[k + 1] === name2 && keys[k + 2] === content1 && keys[k + 3] === content2;
  }

  /** Adds `from`'s entry `e` (its four lanes); returns its number here. */
  addFrom(from: ChainKeyIndex, e: number): number {
    const k = 4 * e;
    const keys = from.keys;
    return this.add(keys[k] as number, keys[k + 1] as number, keys[k + 2] as number, keys[k + 3] as number);
  }

  /** Adds an entry; returns its number (0, 1, …). */
  add(name1: number, name2: number, content1: number, content2: number): number {
    const e = this.entries++;
    if (4 * this.entries > this.keys.length) {
      const keys = new Int32Array(this.keys.length * 2);
      keys.set(this.keys);
      this.keys = keys;
    }
    const k = 4 * e;
    this.keys[k] = name1;
    this.keys[k + 1] = name2;
    this.keys[k + 2] = content1;
    this.keys[k + 3] = content2;
    if (this.entries * 5 > this.slots.length * 4) {
      this.slots = new Int32Array(this.slots.length * 2);
      for (let i = 0; i < this.entries; i++) this.insert(i);
    } else {
      this.insert(e);
    }
    return e;
  }

  /** Forgets every entry. */
  clear(): void {
    this.entries = 0;
    this.slots.fill(0);
  }

  private insert(e: number): void {
    let slot = this.first(this.keys[4 * e] as number);
    while (this.slots[slot] !== 0) slot = this.next(slot);
    this.slots[slot] = e + 1;
  }
}

/** A power of two at least 1.25 × the entries (linear probing stays short below 80% full). */
function slotCount(entries: number): number {
  let size = 1024;
  while (size * 4 < entries * 5) size *= 2;
  return size;
}

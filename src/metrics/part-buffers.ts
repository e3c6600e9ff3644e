/**
 * A few reusable buffers for the page's plain parts while they wait to be compressed. A part lives a
 * few milliseconds (encoded, deflated, dropped), but long enough for V8 to promote its Buffer object,
 * so each new buffer would stay allocated until the next full GC: measured at 20,000 services x 10
 * endpoints, 60-80 MiB of freed parts were always waiting for it. Reused buffers make no such garbage.
 */
export class PartBuffers {
  private readonly capacity: number;
  private readonly max: number;
  private readonly free: Buffer[] = [];
  private readonly owned = new WeakSet<ArrayBufferLike>();
  private made = 0;

  /**
   * `capacity`: bytes per buffer (a part that does not fit gets a buffer of its own; pages that were
   * never written are not resident, so room for multi-byte text costs nothing); `max`: buffers made at
   * most (parts in flight beyond that get buffers of their own, which the garbage collector frees).
   */
  constructor(capacity: number, max: number) {
    this.capacity = capacity;
    this.max = max;
  }

  /** `text` as UTF-8: in a reused buffer when one is free and the text fits, else in a new one. */
  encode(text: string): Buffer {
    return this.encodeAll([text]);
  }

  /**
   * `texts` one after the other as UTF-8, like encode(texts.join('')), but joined a few thousand at a
   * time straight into the reused buffer: a part's text as one string (a million characters) was made
   * in V8's large-object space for every part, the page's whole size in such strings per render (35-50
   * MiB at 10,000 services x 5 endpoints); strings of a few thousand texts die young. Measured at that
   * size on the 2-core VM: a render ~380 ms before, ~310 ms after.
   */
  encodeAll(texts: readonly string[]): Buffer {
    const buffer = this.take();
    if (buffer !== undefined) {
      let offset = 0;
      for (let i = 0; i < texts.length && offset >= 0; i += JOIN_TEXTS) {
        const chunk = texts.length <= JOIN_TEXTS ? texts.join('') : texts.slice(i, i + JOIN_TEXTS).join('');
        const size = Buffer.byteLength(chunk, 'utf8');
        if (offset + size > this.capacity) {
          offset = -1;
        } else {
          buffer.write(chunk, offset, size, 'utf8');
          offset += size;
        }
      }
      if (offset >= 0) return buffer.subarray(0, offset);
      this.free.push(buffer);
    }
    return Buffer.from(texts.join(''), 'utf8');
  }

  /** True when `part` lives in a reused buffer: whoever keeps it past release() must copy it. */
  reused(part: Buffer): boolean {
    return this.owned.has(part.buffer);
  }

  /** A free reused buffer, or a new one while fewer than `max` were made. */
  private take(): Buffer | undefined {
    let buffer = this.free.pop();
    if (buffer === undefined && this.made < this.max) {
      buffer = Buffer.allocUnsafeSlow(this.capacity);
      this.owned.add(buffer.buffer);
      this.made++;
    }
    return buffer;
  }

  /** Takes back the buffer of a part encode() made, once nothing reads it any more (others are left to the GC). */
  release(part: Buffer): void {
    if (this.owned.has(part.buffer)) this.free.push(Buffer.from(part.buffer, 0, this.capacity));
  }
}

/** Texts encodeAll() joins into one string at a time: ~70 KiB of exposition text, a young-generation string. */
const JOIN_TEXTS = 2048;

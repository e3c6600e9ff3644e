/**
 * A rendered page's kube_balance_* bytes, held compressed. Each ~1 MiB part is deflated as soon as the
 * render hands it over and its plain bytes are given back once that succeeded, so a page costs its
 * deflate size (exposition text compresses ~25x: 74 MiB of plain text at 20,000 services x 10 endpoints
 * is 3 MiB) and the render of the next page never has a second plain copy next to it. Gzip scrapes
 * (Prometheus asks for gzip) send the deflated parts as they are; the first plain scrape of a page
 * inflates them once and the page keeps that plain copy for the plain scrapes after it.
 */
import type { PartBuffers } from './part-buffers.js';
import type { PageTotals, PartSink } from './page-writer.js';

export interface PageStoreCodec {
  /**
   * Raw deflate of one part ending in a sync flush (not final), so the outputs concatenate into one
   * stream. Synchronous (the exporter's) or not (tests): a part deflated at once gives its buffer back at
   * once, so a render reuses one or two part buffers.
   */
  readonly deflate: (plain: Buffer) => Buffer | Promise<Buffer>;
  /** The inverse of `deflate` for one part. */
  readonly inflate: (deflated: Buffer) => Promise<Buffer>;
}

interface Slot {
  /** Until `deflated` is made (and kept on when making it failed: a later gzip scrape tries again). */
  plain: Buffer | null;
  deflated: Buffer | null;
  job: Promise<Buffer> | null;
  /** Taken back by dropLast(): nothing will read it. */
  dropped: boolean;
}

export class PageStore implements PartSink {
  private readonly codec: PageStoreCodec;
  private readonly buffers: PartBuffers;
  private readonly slots: Slot[] = [];
  private totals: PageTotals = { size: 0, crc: 0 };
  /** The plain parts, once a plain scrape asked for them (and again after a failure). */
  private plainParts: Promise<readonly Buffer[]> | null = null;
  private plainBytes = 0;

  constructor(codec: PageStoreCodec, buffers: PartBuffers) {
    this.codec = codec;
    this.buffers = buffers;
  }

  encode(texts: readonly string[]): Buffer {
    return this.buffers.encodeAll(texts);
  }

  /** Appends the next part of the page and starts compressing it. */
  add(part: Buffer): void {
    const slot: Slot = { plain: part, deflated: null, job: null, dropped: false };
    this.slots.push(slot);
    // A failure here is not a scrape's: the part stays plain and the next gzip scrape tries again.
    this.deflateSlot(slot).catch(() => undefined);
  }

  dropLast(count: number): void {
    for (const slot of this.slots.splice(this.slots.length - count, count)) {
      slot.dropped = true;
      // A part still being compressed is given back when that ends.
      if (slot.job === null && slot.plain !== null) this.buffers.release(slot.plain);
    }
  }

  /** Records the page's totals once every part was added. */
  seal(totals: PageTotals): void {
    this.totals = totals;
  }

  /** Plain length of the page. */
  get size(): number {
    return this.totals.size;
  }

  /** CRC-32 of the plain page. */
  get crc(): number {
    return this.totals.crc;
  }

  /** Bytes the page holds now: its deflated parts, parts not deflated yet, and the plain copy if a plain scrape made one. */
  get heldBytes(): number {
    let held = this.plainBytes;
    for (const slot of this.slots) held += slot.deflated?.length ?? slot.plain?.length ?? 0;
    return held;
  }

  /** The page as non-final raw deflate, part by part. Rejects when compressing a part failed (not cached). */
  deflated(): Promise<readonly Buffer[]> {
    return Promise.all(this.slots.map((slot) => slot.deflated ?? this.deflateSlot(slot)));
  }

  /** The page's UTF-8 bytes, part by part: made once per page, on the first call. */
  plain(): Promise<readonly Buffer[]> {
    if (this.plainParts === null) {
      // A part not deflated yet may sit in a reused buffer that is given back once it is: copy it.
      const pending = Promise.all(
        this.slots.map((slot) => (slot.plain !== null ? (this.buffers.reused(slot.plain) ? Buffer.from(slot.plain) : slot.plain) : this.codec.inflate(slot.deflated as Buffer))),
      );
      this.plainParts = pending;
      pending.then(
        (parts) => {
          if (this.plainParts === pending) this.plainBytes = parts.reduce((n, part) => n + part.length, 0);
        },
        () => {
          if (this.plainParts === pending) this.plainParts = null;
        },
      );
    }
    return this.plainParts;
  }

  private deflateSlot(slot: Slot): Promise<Buffer> {
    if (slot.job !== null) return slot.job;
    const plain = slot.plain as Buffer;
    const done = (deflated: Buffer): Buffer => {
      slot.deflated = deflated;
      slot.plain = null;
      slot.job = null;
      this.buffers.release(plain);
      return deflated;
    };
    const failed = (error: unknown): never => {
      slot.job = null;
      if (slot.dropped) this.buffers.release(plain);
      throw error;
    };
    let result: Buffer | Promise<Buffer>;
    try {
      result = this.codec.deflate(plain);
    } catch (error) {
      return Promise.reject(error);
    }
    if (Buffer.isBuffer(result)) return Promise.resolve(done(result));
    slot.job = result.then(done, failed);
    return slot.job;
  }
}

/** Turns the page's text into UTF-8 parts of about 1 MiB while it is rendered, one family at a time. */
import { crc32 } from 'node:zlib';

/** Where the writer's parts go, in page order, as soon as they are encoded. */
export interface PartSink {
  /** `texts` one after the other as UTF-8 (the sink may reuse the buffer once the part is done with). */
  encode(texts: readonly string[]): Buffer;
  /** The next part of the page; the sink owns it from then on (it may reuse its buffer at once). */
  add(part: Buffer): void;
  /** Takes back the last `count` parts added: the family they belong to was dropped. */
  dropLast(count: number): void;
}

/** What the parts handed out add up to. */
export interface PageTotals {
  /** Total length of the parts. */
  readonly size: number;
  /** CRC-32 of the parts one after the other: the gzip trailer continues it with the registry's part. */
  readonly crc: number;
}

/**
 * Text is encoded once this much (UTF-16 units) is waiting. Small enough that encoding and checksumming
 * a part takes a millisecond or two (a render slice is ~10 ms), large enough that a 121 MiB page is a
 * hundred-odd parts: one deflate job each (page-store.ts), one write each per scrape.
 */
export const PART_CHARS = 1 << 20;

/** The texts as UTF-8, emptying the array (which keeps its capacity: it fills again at once). */
function encode(sink: PartSink, texts: string[]): Buffer {
  const bytes = sink.encode(texts);
  texts.length = 0;
  return bytes;
}

/**
 * The page is written family by family: `write()` the family's text, then `commitFamily()`, or
 * `dropFamily()` when the family threw half-way, which removes every byte it wrote (a family is on
 * the page whole or not at all). Text is turned into bytes as it accumulates, so the whole page never
 * exists as one string next to its bytes, and each part goes to the sink as soon as it is encoded, in
 * page order (the page store compresses it while the render goes on); a dropped family's parts are
 * taken back.
 */
export class PageWriter {
  private readonly sink: PartSink;
  private readonly partChars: number;
  private size = 0;
  private crc = 0;
  /** Text of committed families not encoded yet. */
  private committed: string[] = [];
  private committedChars = 0;
  /** The open family: its text not encoded yet, and its parts already added (with their running CRC). */
  private open: string[] = [];
  private openChars = 0;
  private openParts = 0;
  private openSize = 0;
  private openCrc = 0;

  /** `partChars`: text waiting before it is encoded (tests make it small to cross part boundaries). */
  constructor(sink: PartSink, partChars = PART_CHARS) {
    this.sink = sink;
    this.partChars = partChars;
  }

  write(text: string): void {
    this.open.push(text);
    this.openChars += text.length;
    if (this.openChars >= this.partChars) this.encodeOpen();
  }

  commitFamily(): void {
    if (this.openParts > 0) {
      // encodeOpen() emptied `committed` before the family's first part, so its parts follow directly.
      this.size += this.openSize;
      this.crc = this.openCrc;
    }
    if (this.committed.length === 0) {
      // The common case (the family before was encoded, or left nothing): hand the pieces over whole
      // instead of copying tens of thousands of them.
      [this.committed, this.open] = [this.open, this.committed];
    } else {
      for (const text of this.open) this.committed.push(text);
    }
    this.committedChars += this.openChars;
    this.resetOpen();
    if (this.committedChars >= this.partChars) this.encodeCommitted();
  }

  dropFamily(): void {
    if (this.openParts > 0) this.sink.dropLast(this.openParts);
    this.resetOpen();
  }

  /** Hands out the last part; the totals of every committed family. The writer must not be used afterwards. */
  finish(): PageTotals {
    this.dropFamily();
    this.encodeCommitted();
    return { size: this.size, crc: this.crc };
  }

  private encodeCommitted(): void {
    if (this.committedChars === 0) {
      this.committed.length = 0;
      return;
    }
    const part = encode(this.sink, this.committed);
    this.committedChars = 0;
    this.size += part.length;
    this.crc = crc32(part, this.crc);
    // Last: the sink may reuse the part's buffer as soon as it has it.
    this.sink.add(part);
  }

  private encodeOpen(): void {
    // Committed text first: the open family's parts follow it, and can be taken back after it.
    if (this.openParts === 0) {
      this.encodeCommitted();
      this.openCrc = this.crc;
    }
    const part = encode(this.sink, this.open);
    this.openChars = 0;
    this.openParts++;
    this.openSize += part.length;
    this.openCrc = crc32(part, this.openCrc);
    // Last: the sink may reuse the part's buffer as soon as it has it.
    this.sink.add(part);
  }

  private resetOpen(): void {
    this.open.length = 0;
    this.openChars = 0;
    this.openParts = 0;
    this.openSize = 0;
    this.openCrc = 0;
  }
}

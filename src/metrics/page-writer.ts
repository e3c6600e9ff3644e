/** Collects the page's text as UTF-8 parts of about 1 MiB while it is rendered, one family at a time. */
import { crc32 } from 'node:zlib';

/** The kube_balance_* part of the page as bytes. Read-only once made: scrapes write the parts as they are. */
export interface PageBytes {
  /** The page's UTF-8 bytes in consecutive parts; none for an empty page. */
  readonly parts: readonly Buffer[];
  /** Total length of the parts. */
  readonly size: number;
  /** CRC-32 of the parts one after the other: the gzip trailer continues it with the registry's part. */
  readonly crc: number;
}

export const EMPTY_PAGE_BYTES: PageBytes = { parts: [], size: 0, crc: 0 };

/**
 * Text is encoded once this much (UTF-16 units) is waiting. Small enough that encoding and checksumming
 * a part takes a millisecond or two (a render slice is ~10 ms), large enough that a 121 MiB page is a
 * hundred-odd parts: one write each per scrape, one deflate job each when gzip is first asked for.
 */
const PART_CHARS = 1 << 20;

/** The texts as UTF-8, emptying the array (which keeps its capacity: it fills again at once). */
function encode(texts: string[]): Buffer {
  const bytes = Buffer.from(texts.join(''), 'utf8');
  texts.length = 0;
  return bytes;
}

/**
 * The page is written family by family: `write()` the family's text, then `commitFamily()`, or
 * `dropFamily()` when the family threw half-way, which removes every byte it wrote (a family is on
 * the page whole or not at all). Text is turned into bytes as it accumulates, so the whole page never
 * exists as one string next to its bytes.
 */
export class PageWriter {
  private readonly partChars: number;
  private readonly parts: Buffer[] = [];
  private size = 0;
  private crc = 0;
  /** Text of committed families not encoded yet. */
  private readonly committed: string[] = [];
  private committedChars = 0;
  /** The open family: its text not encoded yet, and its parts already encoded (with their running CRC). */
  private readonly open: string[] = [];
  private openChars = 0;
  private openParts: Buffer[] = [];
  private openSize = 0;
  private openCrc = 0;

  /** `partChars`: text waiting before it is encoded (tests make it small to cross part boundaries). */
  constructor(partChars = PART_CHARS) {
    this.partChars = partChars;
  }

  write(text: string): void {
    this.open.push(text);
    this.openChars += text.length;
    if (this.openChars >= this.partChars) this.encodeOpen();
  }

  commitFamily(): void {
    if (this.openParts.length > 0) {
      // encodeOpen() emptied `committed` before the family's first part, so its parts follow directly.
      for (const part of this.openParts) this.parts.push(part);
      this.size += this.openSize;
      this.crc = this.openCrc;
    }
    for (const text of this.open) this.committed.push(text);
    this.committedChars += this.openChars;
    this.resetOpen();
    if (this.committedChars >= this.partChars) this.encodeCommitted();
  }

  dropFamily(): void {
    this.resetOpen();
  }

  /** The bytes of every committed family. The writer must not be used afterwards. */
  finish(): PageBytes {
    this.resetOpen();
    this.encodeCommitted();
    return { parts: this.parts, size: this.size, crc: this.crc };
  }

  private encodeCommitted(): void {
    if (this.committed.length === 0) return;
    const part = encode(this.committed);
    this.committedChars = 0;
    if (part.length === 0) return;
    this.parts.push(part);
    this.size += part.length;
    this.crc = crc32(part, this.crc);
  }

  private encodeOpen(): void {
    // Committed text first, so the open family's parts can be appended whole at commitFamily().
    if (this.openParts.length === 0) {
      this.encodeCommitted();
      this.openCrc = this.crc;
    }
    const part = encode(this.open);
    this.openChars = 0;
    this.openParts.push(part);
    this.openSize += part.length;
    this.openCrc = crc32(part, this.openCrc);
  }

  private resetOpen(): void {
    this.open.length = 0;
    this.openChars = 0;
    this.openParts = [];
    this.openSize = 0;
    this.openCrc = 0;
  }
}

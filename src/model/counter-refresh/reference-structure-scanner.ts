/**
 * The StructureScanner algorithm in plain TypeScript, kept as the reference the WebAssembly scanner
 * (structure-scanner.ts, structure-scan.wat) is tested against: the tests feed both the same chunks
 * and require the same digest, line count, packets and notReusable. Not used in production. Runs of
 * KUBE-SERVICES and KUBE-NODEPORTS rules are digested as multisets (unordered-chains.ts).
 *
 * One change from the scanner it was: the packets array grows to every line it must hold (it grew
 * one doubling per counter, so a counter more than a doubling past the array was dropped — the first
 * rules after a long run of chain headers — and lines past it without a counter were cut off).
 */
import { startsWithBytes } from '../../iptables/byte-strings.js';
import { MAX_LINE_BYTES } from '../../iptables/parse-dump.js';
import { TwoLaneHash } from '../../iptables/two-lane-hash.js';
import { fmix32, lineKindOf, mixUnordered, RuleOrder, type UnorderedRun } from './unordered-chains.js';
import type { StructureScan } from './structure-scanner.js';

/** Hashed in place of a counter's digits, so `[0:0]` and no counter at all still differ. */
const COUNTER_MARK = 0xff;
/** parse-rule.ts accepts 1–20 digits per counter. */
const MAX_DIGITS = 20;

/** `# Warning:` — iptables-nft-save's note about legacy tables, which the parser turns into a warning. */
const WARNING_PREFIX = Buffer.from('# Warning:');

/**
 * Push chunks (Buffers or text), then end(). Holds at most one partial line between chunks. Never
 * throws on bad input: anything it cannot read exactly marks the scan not reusable.
 */
export class ReferenceStructureScanner {
  /** The digest (two-lane-hash.ts; the WebAssembly scanner's is the same). */
  private readonly lanes = new TwoLaneHash();
  /** The run of KUBE-SERVICES or KUBE-NODEPORTS rules being read (unordered-chains.ts). */
  private readonly run: UnorderedRun = { kind: RuleOrder.Kept, sum1: 0, sum2: 0 };
  private bytes = 0;
  private line = 0;
  private packets = new Float64Array(1 << 12);
  private pending: Buffer | null = null;
  private notReusable: string | null = null;

  push(chunk: string | Uint8Array): void {
    if (this.notReusable !== null) return;
    let bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    if (this.pending !== null) {
      // Only the line that spans the chunks is joined; the rest of the chunk is read in place.
      const first = bytes.indexOf(10);
      if (first < 0) {
        bytes = Buffer.concat([this.pending, bytes]);
        this.pending = null;
      } else {
        const joined = Buffer.concat([this.pending, bytes.subarray(0, first)]);
        this.pending = null;
        this.scanLine(joined, 0, joined.length);
        start = first + 1;
      }
    }
    let nl = bytes.indexOf(10, start);
    while (nl >= 0) {
      this.scanLine(bytes, start, nl);
      start = nl + 1;
      nl = bytes.indexOf(10, start);
    }
    if (start < bytes.length) {
      if (bytes.length - start > MAX_LINE_BYTES) {
        this.notReusable = `line ${this.line + 1} is longer than ${MAX_LINE_BYTES} bytes`;
        return;
      }
      // A copy: the caller's chunk can be freed.
      this.pending = Buffer.from(bytes.subarray(start));
    }
  }

  end(): StructureScan {
    if (this.notReusable === null && this.pending !== null) {
      const last = this.pending;
      this.pending = null;
      this.scanLine(last, 0, last.length);
    }
    this.endRun(RuleOrder.Kept);
    const digest =
      this.notReusable === null
        ? `${(this.lanes.h1 >>> 0).toString(16).padStart(8, '0')}${(this.lanes.h2 >>> 0).toString(16).padStart(8, '0')}:${this.line}:${this.bytes}`
        : '';
    this.reserve();
    return { digest, lineCount: this.line, packets: this.packets.subarray(0, this.line + 1), notReusable: this.notReusable };
  }

  /** Room for the current line's counter. */
  private reserve(): void {
    if (this.line < this.packets.length) return;
    let length = this.packets.length * 2;
    while (length <= this.line) length *= 2;
    const grown = new Float64Array(length);
    grown.set(this.packets);
    this.packets = grown;
  }

  private scanLine(bytes: Buffer, start: number, end: number): void {
    if (this.notReusable !== null) return;
    this.line++;
    if (end - start > MAX_LINE_BYTES) {
      this.notReusable = `line ${this.line} is longer than ${MAX_LINE_BYTES} bytes`;
      return;
    }
    const kind = lineKindOf(bytes, start, end);
    this.endRun(kind);
    const first = bytes[start];
    if (first === 91 /* [ */) {
      const close = this.readCounters(bytes, start, end, true);
      if (close < 0) return;
      if (kind === RuleOrder.Kept) this.hash(bytes, close + 1, end);
      else return this.unorderedLine(kind, bytes, close + 1, end);
    } else if (first === 58 /* : */) {
      // `:CHAIN POLICY [packets:bytes]`: the counters end the header (trailing CR/blanks aside).
      let last = end - 1;
      while (last > start && (bytes[last] as number) <= 32) last--;
      const open = bytes[last] === 93 /* ] */ ? bytes.lastIndexOf(91 /* [ */, last) : -1;
      if (open > start) {
        this.hash(bytes, start, open);
        if (this.readCounters(bytes, open, last + 1, false) < 0) return;
        this.hash(bytes, last + 1, end);
      } else {
        this.hash(bytes, start, end);
      }
    } else if (first === 35 /* # */ && !startsWithBytes(bytes, start, end, WARNING_PREFIX)) {
      // A comment the parser ignores (timestamps): only its line counts.
    } else if (kind !== RuleOrder.Kept) {
      return this.unorderedLine(kind, bytes, start, end);
    } else {
      this.hash(bytes, start, end);
    }
    this.mix(10);
  }

  /** A line of an unordered run: its own hash goes into the run's sums, its kind into the digest. */
  private unorderedLine(kind: RuleOrder, bytes: Buffer, start: number, end: number): void {
    const line = new TwoLaneHash();
    line.bytes(bytes, start, end);
    line.byte(10);
    this.bytes += end - start + 1;
    this.run.sum1 = (this.run.sum1 + fmix32(line.h1)) | 0;
    this.run.sum2 = (this.run.sum2 + fmix32(line.h2)) | 0;
    this.mix(kind);
  }

  /** Before a line of `kind`: a run of another kind ends, and its sums go into the digest. */
  private endRun(kind: RuleOrder): void {
    if (this.run.kind !== RuleOrder.Kept && this.run.kind !== kind) this.bytes += mixUnordered(this.lanes, this.run);
    this.run.kind = kind;
  }

  /**
   * Reads `[digits:digits]` starting at `open`; hashes a mark for it and returns the index of `]`,
   * or -1 (and marks the scan not reusable) when it is not exactly that.
   */
  private readCounters(bytes: Buffer, open: number, end: number, keepPackets: boolean): number {
    let i = open + 1;
    let packets = 0;
    const packetsStart = i;
    while (i < end && (bytes[i] as number) >= 48 && (bytes[i] as number) <= 57) {
      packets = packets * 10 + ((bytes[i] as number) - 48);
      i++;
    }
    const packetDigits = i - packetsStart;
    if (packetDigits === 0 || packetDigits > MAX_DIGITS || bytes[i] !== 58 /* : */) return this.malformed();
    i++;
    const bytesStart = i;
    while (i < end && (bytes[i] as number) >= 48 && (bytes[i] as number) <= 57) i++;
    const byteDigits = i - bytesStart;
    if (byteDigits === 0 || byteDigits > MAX_DIGITS || bytes[i] !== 93 /* ] */) return this.malformed();
    if (keepPackets) {
      // The parser's rounding for more than 15 digits (Number() of the text).
      if (packetDigits > 15) packets = Number(bytes.toString('latin1', packetsStart, packetsStart + packetDigits));
      this.reserve();
      this.packets[this.line] = packets;
    }
    this.mix(COUNTER_MARK);
    return i;
  }

  private malformed(): number {
    this.notReusable = `line ${this.line}: counters are not [packets:bytes]`;
    return -1;
  }

  private hash(bytes: Buffer, start: number, end: number): void {
    this.lanes.bytes(bytes, start, end);
    this.bytes += end - start;
  }

  private mix(b: number): void {
    this.lanes.byte(b);
    this.bytes++;
  }
}

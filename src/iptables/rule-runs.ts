/**
 * Runs of one chain's rules, held back so a consumer can decline to have them parsed.
 *
 * iptables-save prints a chain's rules one after another. A consumer that folds a chain into a few
 * fields (the KUBE-SEP chains, model/endpoint-chain-cache.ts) may already know the fold of a chain
 * whose rules are, byte for byte, ones it folded before: kube-proxy leaves most chains alone from one
 * sync to the next. DumpParser therefore holds the lines of a run of a gated chain's rules, hashes
 * them (everything from `-A`, so not the counters), and asks the gate at the run's end whether to parse
 * them; a skipped run costs a hash of its bytes instead of a parse into Rule objects and strings.
 */

import { sameBytes } from './byte-strings.js';
import { LANE1_OFFSET, LANE2_OFFSET, TwoLaneHash } from './two-lane-hash.js';

/** What a gate's `skip` may read of the held run: each line's number and packet counter. */
export interface HeldRun {
  /** Lines held. */
  readonly lines: number;
  /** Line number of each held line. */
  readonly lineNumbers: readonly number[];
  /** Packet counter of each held line, from its `[packets:bytes]` prefix; -1 for a line without one. */
  readonly packets: readonly number[];
  /** Every line of the run began with a `[packets:bytes]` counter. */
  readonly allCounted: boolean;
  /** Known once the run is parsed: some line's counters were not its prefix's (`-c` inside the rule, which wins). */
  readonly inlineCounters: boolean;
}

/**
 * One of DumpParserOptions.ruleRuns' gates. Names are ASCII; the hashes are two 32-bit lanes each.
 * The gates' prefixes must not overlap: a chain's runs go to the first gate whose prefix it has.
 */
export interface RuleRunGate {
  /** The nat chains whose runs are held and offered to `skip`: those whose names start with these (ASCII) bytes, and are longer. */
  readonly prefix: Uint8Array;
  /**
   * false: the gate will skip nothing in this dump (it knows no chain yet), so runs are parsed as they
   * stream, unheld; `parsing` and `parsed` are still called for each.
   */
  readonly skips: boolean;
  /**
   * At a held run's end: true drops its lines unparsed (the gate answers for the chain's rules from now
   * on). `name1/name2`: the chain name's hash; `content1/content2`: the hash of the run's lines from `-A`
   * on; `run`: the lines' numbers and counters (read them here: the run is cleared after).
   */
  skip(name1: number, name2: number, content1: number, content2: number, run: HeldRun): boolean;
  /** Just before a run's lines are parsed (each then goes through DumpParserOptions.onRule). */
  parsing(name1: number, name2: number): void;
  /**
   * After a run's lines were parsed: its hashes, whether they parsed without a skipped line or a
   * warning, and the run (of an unheld run only `allCounted` and `inlineCounters` are kept).
   */
  parsed(name1: number, name2: number, content1: number, content2: number, clean: boolean, run: HeldRun): void;
}

/** One held run: its lines (views of the pushed chunks, or copies once its chunk is done) and hashes. */
export class RuleRun implements HeldRun {
  lines = 0;
  /** The gate this run's chain goes to. */
  gate: RuleRunGate | null = null;
  name1 = 0;
  name2 = 0;
  /** Of the run's lines from `-A` on, each followed by a line break. */
  readonly content = new TwoLaneHash();
  /** A held line began with a `[packets:bytes]` counter. */
  hasCounters = false;
  allCounted = true;
  inlineCounters = false;
  /** false: the lines are parsed as they come (RuleRunGate.skips); only hashes and line count are kept. */
  held = true;
  /** The parser's skipped-line and warning counts when an unheld run opened. */
  skippedAtOpen = 0;
  warningsAtOpen = 0;
  readonly bytes: Buffer[] = [];
  readonly starts: number[] = [];
  readonly ends: number[] = [];
  readonly lineNumbers: number[] = [];
  readonly packets: number[] = [];
  /** Where the chain name is in the first line (`bytes[0]`), to tell whether a later line is of the same chain. */
  private nameStart = 0;
  private nameLength = 0;

  /**
   * Starts a run with its first line: bytes[start, end) is the line, [nameStart, nameEnd) its chain name,
   * `packets` the line's `[packets:bytes]` packets (-1 without that prefix).
   */
  open(bytes: Buffer, start: number, end: number, ruleStart: number, nameStart: number, nameEnd: number, lineNumber: number, packets: number): void {
    this.nameStart = nameStart;
    this.nameLength = nameEnd - nameStart;
    this.content.h1 = LANE1_OFFSET;
    this.content.h2 = LANE2_OFFSET;
    this.hasCounters = false;
    this.allCounted = true;
    this.inlineCounters = false;
    this.add(bytes, start, end, ruleStart, lineNumber, packets);
  }

  /**
   * Where the chain name at bytes[nameStart…] ends when it is this run's name and a space follows it
   * (before `end`); else -1. Such a line continues the run: its gate and name are the run's, read
   * already, so the parser need not look for the gate or scan the name again.
   */
  sameNameEnd(bytes: Uint8Array, nameStart: number, end: number): number {
    const nameEnd = nameStart + this.nameLength;
    return nameEnd < end && bytes[nameEnd] === 32 && sameBytes(this.bytes[0] as Buffer, this.nameStart, bytes, nameStart, this.nameLength) ? nameEnd : -1;
  }

  add(bytes: Buffer, start: number, end: number, ruleStart: number, lineNumber: number, packets: number): void {
    const k = this.lines++;
    if (this.held || k === 0) {
      // An unheld run keeps its first line until the next: its name is compared with the next line's.
      this.bytes[k] = bytes;
      this.starts[k] = start;
      this.ends[k] = end;
      this.lineNumbers[k] = lineNumber;
      this.packets[k] = packets;
    }
    if (packets >= 0) this.hasCounters = true;
    else this.allCounted = false;
    // A line break after each line, so that lines split differently hash differently.
    this.content.bytes(bytes, ruleStart, end);
    this.content.byte(10);
  }

  /** Copies the held lines out of the chunk that is about to be handed back (a caller may reuse it). */
  detach(): void {
    this.nameStart -= this.starts[0] as number;
    for (let k = 0; k < (this.held ? this.lines : 1); k++) {
      const bytes = this.bytes[k] as Buffer;
      // Buffer.from(Buffer) copies.
      this.bytes[k] = Buffer.from(bytes.subarray(this.starts[k], this.ends[k]));
      this.ends[k] = (this.ends[k] as number) - (this.starts[k] as number);
      this.starts[k] = 0;
    }
  }

  /** Forgets the lines (the chunks they view can be freed). */
  clear(): void {
    for (let k = 0; k < (this.held ? this.lines : Math.min(this.lines, 1)); k++) this.bytes[k] = EMPTY;
    this.lines = 0;
  }
}

const EMPTY = Buffer.alloc(0);

/** Streaming one-pass parser for iptables-save / `iptables -S -v` / iptables-restore text: table → chains → rules → COMMIT. */
import { FNV_OFFSET, FNV_PRIME, sameBytes, startsWithBytes } from './byte-strings.js';
import { FastRuleReader, readBracketCounters, readBracketPackets } from './fast-rule.js';
import { parseBracketCounters, parseRule, RuleSyntaxError, type RuleInterner } from './parse-rule.js';
import { RuleRun, type RuleRunGate } from './rule-runs.js';
import { LANE1_OFFSET, LANE2_OFFSET, TwoLaneHash } from './two-lane-hash.js';
import { tokenize, TokenizeError } from './tokenize.js';
import type { Chain, Counters, ParsedDump, Rule, SkippedLine, SkipReason, Table } from './types.js';

const EXCERPT_LENGTH = 120;
/** Skipped lines are counted always but listed only up to this many, so a garbage input cannot exhaust memory. */
export const MAX_LISTED_SKIPPED = 10_000;
/**
 * No iptables rule comes near this; a longer "line" (NULs, one endless line from a broken
 * iptables-save) is skipped as it streams instead of being held whole.
 */
export const MAX_LINE_BYTES = 1 << 20;
/** Warnings beyond this many are summarised: they describe structure, a handful is enough. */
const MAX_WARNINGS = 100;
/** The table kube-proxy's rules live in; headerless excerpts (`iptables -t nat -S`, grep output) are read as it. */
const IMPLICIT_TABLE = 'nat';

/**
 * The rules of every chain declared without rules so far, shared: chains whose rules keepChain drops
 * never get one (without dropDeclarations they stay declared, empty), and an empty array each is
 * 32 bytes and one more object for the GC, 200k times on a large cluster. Frozen, so that a push
 * into a parsed dump's empty chain fails loudly instead of filling every empty chain.
 */
const NO_RULES = Object.freeze([]) as unknown as Rule[];

interface MutableChain {
  name: string;
  declaredAt: number | null;
  policyCounters: Counters | null;
  rules: Rule[];
}

interface MutableTable {
  name: string;
  chains: Map<string, MutableChain>;
}

export interface DumpParserOptions {
  /** Keep rules only for chains this returns true for (default: all). Saves memory on huge dumps. */
  readonly keepChain?: (table: string, chain: string) => boolean;
  /**
   * Called with every parsed rule as it is read, kept or not: with `keepChain` a consumer can fold
   * chains it only summarises (e.g. one entry per KUBE-SEP chain) without the dump retaining their rules.
   */
  readonly onRule?: (table: string, rule: Rule) => void;
  /**
   * With `keepChain`: the chains it drops stay out of the dump altogether, declarations (`:NAME`, `-N`,
   * `-P`) included, not only their rules. A consumer that folds 200k KUBE-SEP chains saves a chain
   * object and a Map entry each; what a declaration, `-F` or `-X` of such a chain means for its rules
   * reaches it through `onRulesReplaced` all the same. Default: kept, as declared-empty chains.
   */
  readonly dropDeclarations?: boolean;
  /**
   * With dropDeclarations: the nat chains keepChain drops are exactly those whose names begin with these
   * bytes. Such a chain's declaration (`:NAME`) in a `*nat` block before the block's first command
   * line (`-…` or `[…`) replaces no rules (none were read) and keeps nothing, so the fast path makes
   * no string for it and only tells `onDroppedDeclaration`, not `onRulesReplaced` (iptables-save
   * declares every chain first: 200k KUBE-SEP declarations at 20,000 services × 10 endpoints).
   */
  readonly droppedPrefix?: Uint8Array;
  /** With droppedPrefix: one declaration of a dropped chain that replaced nothing. */
  readonly onDroppedDeclaration?: (table: string) => void;
  /**
   * Asked about each rule of a kept chain just after `onRule` saw it: false leaves the rule out of the
   * dump (a consumer folds it instead, e.g. a ladder chain's jumps to KUBE-SEP chains), while the
   * chain itself stays, as declared or as the rule would have created it.
   */
  readonly keepRule?: (table: string, rule: Rule) => boolean;
  /**
   * Called when rules read so far stop counting: a chain declared again (`:NAME` or `-N` of a chain the
   * dump holds), flushed (`-F`) or deleted (`-X`); or, with chain null, a whole table listed again. A
   * consumer folding rules (`keepRule`, or `keepChain` + `onRule`) starts that chain's fold afresh, as
   * the dump's chain does. For a chain whose rules keepChain drops, the dump cannot tell whether it
   * holds the chain (with dropDeclarations it never does): each of its declarations, `-F` and `-X` is
   * reported, which replaces nothing when none of its rules came before.
   */
  readonly onRulesReplaced?: (table: string, chain: string | null) => void;
  /**
   * Read plain `-A` lines and chain headers straight from the bytes (default true). false sends every
   * line through tokenize + parseRule, the reference the fast path is tested against.
   */
  readonly fastPath?: boolean;
  /**
   * Hold each run of a gated nat chain's rules (iptables-save prints a chain's rules together) and
   * parse it only when its gate declines to skip it (rule-runs.ts). A skipped run's lines reach
   * neither `onRule` nor the dump: the gate answers for that chain. Lines are numbered as without it.
   */
  readonly ruleRuns?: readonly RuleRunGate[];
}

/**
 * Push text in chunks of any size (`push`), then `end()` to get the ParsedDump. Holds at most one
 * partial line between chunks. Never throws on bad input: bad lines are recorded in `skipped`.
 */
export class DumpParser {
  private readonly tables = new Map<string, MutableTable>();
  private readonly skipped: SkippedLine[] = [];
  private readonly warnings: string[] = [];
  private readonly keepChain: ((table: string, chain: string) => boolean) | undefined;
  private readonly onRule: ((table: string, rule: Rule) => void) | undefined;
  private readonly dropDeclarations: boolean;
  private readonly droppedPrefix: Uint8Array | null;
  private readonly onDroppedDeclaration: ((table: string) => void) | undefined;
  /** A command line (`-…`, `[…`) was read since the last `*table` line: a declaration may replace rules. */
  private commandsSinceTable = false;
  private readonly keepRule: ((table: string, rule: Rule) => boolean) | undefined;
  private readonly onRulesReplaced: ((table: string, chain: string | null) => void) | undefined;
  /** Chains some of whose rules keepRule left out: declared again, they replace rules as a chain holding rules does. */
  private readonly leftOutRules = new Set<MutableChain>();
  private skippedCount = 0;
  private warningCount = 0;
  private current: MutableTable | null = null;
  private explicitTableOpen = false;
  private hasCounters = false;
  private lineNumber = 0;
  /** Pieces of a line that spans chunks; joined once, when its newline arrives. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Excerpt of the current line once it exceeded MAX_LINE_BYTES: the rest is dropped until its newline. */
  private oversizedLine: string | null = null;
  private ended = false;
  private lastComment = '';
  private readonly interner: RuleInterner = {
    // Targets are chain names: reuse the declared chain's string instead of one copy per rule.
    target: (name) => this.current?.chains.get(name)?.name ?? name,
    // A SEP chain's hairpin and DNAT rules carry the same comment: keep one string for both.
    comment: (text) => (text === this.lastComment ? this.lastComment : (this.lastComment = text)),
  };
  private readonly fast: FastRuleReader | null;
  private readonly headerParts = new Int32Array(8);
  /** The chain the last rule was appended to: a chain's rules are consecutive, so most appends skip the Map. */
  private lastChain: MutableChain | null = null;
  private lastChainTable: MutableTable | null = null;
  private readonly ruleRuns: readonly RuleRunGate[];
  /** The run of a gated chain's rules held so far (ruleRuns). */
  private readonly run: RuleRun | null;
  /** settleRun is parsing the held lines: they go past the gate. */
  private replaying = false;
  /** The gate's hash of a rule's chain name. */
  private readonly nameHash = new TwoLaneHash();

  constructor(options: DumpParserOptions = {}) {
    this.keepChain = options.keepChain;
    this.onRule = options.onRule;
    this.dropDeclarations = options.dropDeclarations === true;
    this.droppedPrefix = this.dropDeclarations && this.keepChain !== undefined ? (options.droppedPrefix ?? null) : null;
    this.onDroppedDeclaration = options.onDroppedDeclaration;
    this.keepRule = options.keepRule;
    this.onRulesReplaced = options.onRulesReplaced;
    this.fast = options.fastPath === false ? null : new FastRuleReader();
    this.ruleRuns = options.ruleRuns ?? [];
    this.run = this.ruleRuns.length === 0 ? null : new RuleRun();
  }

  /** Number of lines consumed so far. */
  get lines(): number {
    return this.lineNumber;
  }

  /** Feed the next chunk; Buffers from a child's stdout are scanned without decoding whole chunks. */
  push(chunk: string | Uint8Array): void {
    if (this.ended) throw new Error('DumpParser.push after end()');
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    let nl = bytes.indexOf(10);
    if (this.pendingBytes > 0 || this.oversizedLine !== null) {
      if (nl < 0) {
        this.holdPartialLine(bytes, 0);
        return;
      }
      this.finishPendingLine(bytes.subarray(0, nl));
      start = nl + 1;
      nl = bytes.indexOf(10, start);
    }
    while (nl >= 0) {
      this.parseLine(bytes, start, nl);
      start = nl + 1;
      nl = bytes.indexOf(10, start);
    }
    if (start < bytes.length) this.holdPartialLine(bytes, start);
    // The caller may reuse the chunk: a run still open keeps copies of its lines.
    if (this.run !== null && this.run.lines > 0) this.run.detach();
  }

  /** Keeps the tail of a chunk (a copy, so the chunk can be freed) without re-copying earlier pieces. */
  private holdPartialLine(bytes: Buffer, start: number): void {
    if (this.oversizedLine !== null) return;
    const piece = Buffer.from(bytes.subarray(start));
    this.pending.push(piece);
    this.pendingBytes += piece.length;
    if (this.pendingBytes > MAX_LINE_BYTES) {
      this.oversizedLine = Buffer.concat(this.pending).toString('utf8', 0, EXCERPT_LENGTH * 4);
      this.pending = [];
      this.pendingBytes = 0;
    }
  }

  private finishPendingLine(lastPiece: Buffer): void {
    if (this.oversizedLine !== null) {
      this.lineNumber++;
      this.skip('not-iptables', this.oversizedLine);
      this.oversizedLine = null;
      return;
    }
    const line = Buffer.concat([...this.pending, lastPiece]);
    this.pending = [];
    this.pendingBytes = 0;
    this.parseLine(line, 0, line.length);
  }

  end(): ParsedDump {
    if (!this.ended) {
      this.ended = true;
      if (this.pendingBytes > 0 || this.oversizedLine !== null) this.finishPendingLine(Buffer.alloc(0));
      this.settleRun();
      this.leftOutRules.clear();
      // A pushed-to array keeps room for 16 elements: a KUBE-SEP chain's 2 rules would carry 14 empty
      // slots (~110 bytes) each. An exact-size copy saves ~20 MB on a 200k-endpoint dump.
      // forEach, not for-of: this runs once per dump, before V8 optimises it, and an unoptimised for-of
      // over a Map allocates a result object per entry (200k chains on a large cluster).
      this.tables.forEach((table) => {
        // An empty array has no element storage at all: only chains with rules are copied.
        table.chains.forEach((chain) => {
          if (chain.rules.length > 0 && chain.rules.length < 16) chain.rules = chain.rules.slice();
        });
      });
    }
    const truncated = this.explicitTableOpen;
    if (truncated && this.current !== null) {
      this.warn(`table ${this.current.name} has no COMMIT: the input ended early (truncated dump)`);
    }
    if (this.skippedCount > this.skipped.length) {
      this.warn(`${this.skippedCount} lines skipped; the first ${this.skipped.length} are listed`);
    }
    if (this.warningCount > this.warnings.length) {
      this.warnings.push(`${this.warningCount - this.warnings.length} more warnings not listed`);
    }
    return {
      tables: this.tables as Map<string, Table>,
      skipped: this.skipped,
      hasCounters: this.hasCounters,
      lineCount: this.lineNumber,
      truncated,
      warnings: this.warnings,
    };
  }

  private parseLine(bytes: Buffer, start: number, end: number): void {
    this.lineNumber++;
    // Trim trailing CR / whitespace and leading whitespace.
    while (end > start && (bytes[end - 1] as number) <= 32) end--;
    while (start < end && (bytes[start] as number) <= 32) start++;
    if (start === end) return;
    // A held run ends at any line but a rule (or `[counters]` and a rule), which parseRuleLine decides.
    if (this.run !== null && this.run.lines > 0 && bytes[start] !== 45 /* - */ && bytes[start] !== 91 /* [ */) this.settleRun();
    this.dispatchLine(bytes, start, end);
  }

  /**
   * With `ruleRuns`, for a rule line whose counters (if any) the parser has read: holds the line
   * (true) when it is a rule of a gated nat chain. Any other line first settles the run held so far,
   * so that lines are parsed in their order. `lineStart`: where the line, counters included, starts.
   */
  private gateRule(bytes: Buffer, lineStart: number, start: number, end: number, packets: number): boolean {
    const run = this.run as RuleRun;
    let i = start;
    while (i < end && bytes[i] === 32) i++;
    const table = this.current;
    if (i + 3 >= end || bytes[i] !== 45 || bytes[i + 1] !== 65 || bytes[i + 2] !== 32 || table === null || table.name !== 'nat') return this.notGated();
    const ruleStart = i;
    const nameStart = i + 3;
    // Most gated lines continue the run (a ladder chain's ~2 per endpoint): the run's name and a space
    // after `-A ` settle it (the scan below would stop at that space, having checked what the run's
    // first line checked), and only a run's first line has its name hashed.
    if (run.lines > 0 && run.sameNameEnd(bytes, nameStart, end) >= 0) {
      run.add(bytes, lineStart, end, ruleStart, this.lineNumber, packets);
      return run.held;
    }
    // Most rule lines are of other chains: their name's first bytes settle it.
    const gate = this.gateOf(bytes, nameStart, end);
    if (gate === null) return this.notGated();
    const prefix = gate.prefix;
    let j = nameStart;
    while (j < end) {
      const c = bytes[j] as number;
      if (c === 32) break;
      if (c > 127 || c < 32) return this.notGated();
      j++;
    }
    if (j - nameStart <= prefix.length || j === end) return this.notGated();
    // As hashNameLanes hashes a chain name's text, so that the cache finds a skipped chain by its name.
    const name = this.nameHash;
    name.h1 = LANE1_OFFSET;
    name.h2 = LANE2_OFFSET;
    for (let k = nameStart; k < j; k++) name.byte(bytes[k] as number);
    const h1 = name.h1;
    const h2 = name.h2;
    this.settleRun();
    run.name1 = h1;
    run.name2 = h2;
    run.gate = gate;
    run.held = gate.skips;
    if (run.held) {
      run.open(bytes, lineStart, end, ruleStart, nameStart, j, this.lineNumber, packets);
      return true;
    }
    // Nothing will be skipped: parse the line now, and keep only the run's hashes.
    gate.parsing(h1, h2);
    run.skippedAtOpen = this.skippedCount;
    run.warningsAtOpen = this.warningCount;
    run.open(bytes, lineStart, end, ruleStart, nameStart, j, this.lineNumber, packets);
    return false;
  }

  /** The gate whose prefix the chain name at bytes[nameStart…] has (and is longer than), or null. */
  private gateOf(bytes: Buffer, nameStart: number, end: number): RuleRunGate | null {
    const gates = this.ruleRuns;
    for (let g = 0; g < gates.length; g++) {
      const gate = gates[g] as RuleRunGate;
      const prefix = gate.prefix;
      if (nameStart + prefix.length < end && sameBytes(bytes, nameStart, prefix, 0, prefix.length)) return gate;
    }
    return null;
  }

  /** A rule of the run being parsed whose counters are not its prefix's (the rule's own `-c` won): the run says so. */
  private noteInlineCounters(rule: Rule, prefixCounters: Counters | null): void {
    // Not `-A` in a gated chain, the run was settled before this line and holds none.
    if (rule.counters !== prefixCounters && this.run !== null && this.run.lines > 0) this.run.inlineCounters = true;
  }

  private notGated(): false {
    this.settleRun();
    return false;
  }

  /** The held run's lines: dropped when the gate skips them, else parsed with their own line numbers. */
  private settleRun(): void {
    const run = this.run;
    if (run === null || run.lines === 0 || this.replaying) return;
    const gate = run.gate as RuleRunGate;
    if (!run.held) {
      gate.parsed(run.name1, run.name2, run.content.h1, run.content.h2, this.skippedCount === run.skippedAtOpen && this.warningCount === run.warningsAtOpen, run);
      run.clear();
      return;
    }
    if (gate.skip(run.name1, run.name2, run.content.h1, run.content.h2, run)) {
      if (run.hasCounters) this.hasCounters = true;
      run.clear();
      return;
    }
    gate.parsing(run.name1, run.name2);
    const now = this.lineNumber;
    const skipped = this.skippedCount;
    const warnings = this.warningCount;
    this.replaying = true;
    for (let k = 0; k < run.lines; k++) {
      this.lineNumber = run.lineNumbers[k] as number;
      this.dispatchLine(run.bytes[k] as Buffer, run.starts[k] as number, run.ends[k] as number);
    }
    this.replaying = false;
    this.lineNumber = now;
    gate.parsed(run.name1, run.name2, run.content.h1, run.content.h2, this.skippedCount === skipped && this.warningCount === warnings, run);
    run.clear();
  }

  /** One trimmed, non-empty line. */
  private dispatchLine(bytes: Buffer, start: number, end: number): void {
    switch (bytes[start]) {
      case 45 /* - */:
        this.commandsSinceTable = true;
        this.parseRuleLine(bytes, start, start, end, null);
        return;
      case 91 /* [ */:
        this.commandsSinceTable = true;
        this.parseCounterPrefixed(bytes, start, end);
        return;
      case 58 /* : */:
        if (this.fast === null || !this.parsePlainChainHeader(bytes, start, end)) this.parseChainHeader(bytes.toString('utf8', start, end));
        return;
      case 42 /* * */:
        this.openTable(bytes.toString('utf8', start + 1, end).trim());
        return;
      case 35 /* # */:
        this.parseCommentLine(bytes.toString('utf8', start, end));
        return;
      default:
        if (end - start === 6 && bytes.toString('latin1', start, end) === 'COMMIT') {
          this.explicitTableOpen = false;
          this.current = null;
          return;
        }
        this.skip('not-iptables', bytes.toString('utf8', start, Math.min(end, start + EXCERPT_LENGTH * 4)));
    }
  }

  private parseCommentLine(line: string): void {
    // iptables-nft-save warns when legacy tables exist too: the node may have rules in both backends.
    if (line.startsWith('# Warning:')) this.warn(`line ${this.lineNumber}: ${line.slice(2)}`);
  }

  private openTable(name: string): void {
    if (!/^[a-z_]+$/.test(name)) {
      this.skip('not-iptables', `*${name}`);
      return;
    }
    if (this.tables.has(name)) {
      // A second block of the same table (a duplicated paste): the later listing is the current one.
      this.warn(`line ${this.lineNumber}: table ${name} appears again; the later block replaces the earlier`);
      this.onRulesReplaced?.(name, null);
    }
    const table: MutableTable = { name, chains: new Map() };
    this.tables.set(name, table);
    this.current = table;
    this.lastChain = null;
    this.explicitTableOpen = true;
    this.commandsSinceTable = false;
    this.fast?.resetNames();
  }

  private tableForContent(): MutableTable {
    if (this.current !== null) return this.current;
    let table = this.tables.get(IMPLICIT_TABLE);
    if (table === undefined) {
      this.warn(`line ${this.lineNumber}: rules without a *table header; reading them as table ${IMPLICIT_TABLE}`);
      table = { name: IMPLICIT_TABLE, chains: new Map() };
      this.tables.set(IMPLICIT_TABLE, table);
    }
    this.current = table;
    return table;
  }

  private parseChainHeader(line: string): void {
    // `:NAME POLICY [p:b]` — POLICY is `-` for user chains.
    const parts = line.slice(1).split(/\s+/);
    const name = parts[0];
    if (name === undefined || name.length === 0 || parts.length < 2) {
      this.skip('malformed-chain', line);
      return;
    }
    let policyCounters: Counters | null = null;
    const counterText = parts[2];
    if (counterText !== undefined) {
      policyCounters = parseBracketCounters(counterText);
      if (policyCounters === null) {
        this.skip('malformed-chain', line);
        return;
      }
    }
    this.declareChain(this.tableForContent(), name, parts[1] === '-' ? null : policyCounters);
  }

  /**
   * `:NAME POLICY [p:b]` read from the bytes when it is plain (ASCII, space/tab separated); false sends
   * the line to parseChainHeader, whose `split(/\s+/)` decides the odd cases.
   */
  private parsePlainChainHeader(bytes: Buffer, start: number, end: number): boolean {
    // Up to four words: NAME POLICY [p:b] and one more, which makes the line odd (the slow path decides).
    const parts = this.headerParts;
    let words = 0;
    let nameHash = FNV_OFFSET;
    let i = start + 1;
    if (i >= end || bytes[i] === 32 || bytes[i] === 9) return false;
    while (i < end && words < 4) {
      const s = i;
      while (i < end) {
        const c = bytes[i] as number;
        if (c === 32 || c === 9) break;
        if (c > 127 || (c >= 10 && c <= 13)) return false;
        if (words === 0) nameHash = Math.imul(nameHash ^ c, FNV_PRIME);
        i++;
      }
      parts[2 * words] = s;
      parts[2 * words + 1] = i;
      words++;
      while (i < end && (bytes[i] === 32 || bytes[i] === 9)) i++;
    }
    if (words < 2 || i < end) return false;
    const fast = this.fast as FastRuleReader;
    let policyCounters: Counters | null = null;
    if (words >= 3) {
      policyCounters = readBracketCounters(bytes, parts[4] as number, (parts[5] as number) - 1, fast.zero);
      if (policyCounters === null) return false;
    }
    const table = this.tableForContent();
    if (this.declaresDroppedChain(table, bytes, parts[0] as number, parts[1] as number)) return true;
    const name = fast.names.lookup(bytes, parts[0] as number, parts[1] as number, nameHash);
    const userChain = (parts[3] as number) - (parts[2] as number) === 1 && bytes[parts[2] as number] === 45;
    this.declareChain(table, name, userChain ? null : policyCounters);
    return true;
  }

  /**
   * A declaration of a chain whose rules and declarations are dropped (droppedPrefix), where it can
   * replace nothing: inside a `*nat` block (which started its table's folds afresh, if it had any)
   * before any command line of it. Counted; true when so.
   */
  private declaresDroppedChain(table: MutableTable, bytes: Buffer, nameStart: number, nameEnd: number): boolean {
    const prefix = this.droppedPrefix;
    if (prefix === null || this.commandsSinceTable || !this.explicitTableOpen || table.name !== 'nat' || !startsWithBytes(bytes, nameStart, nameEnd, prefix)) return false;
    this.onDroppedDeclaration?.(table.name);
    return true;
  }

  /** keepChain drops the chain's rules: the dump holds none of them, and with dropDeclarations not the chain either. */
  private dropsRules(table: MutableTable, name: string): boolean {
    return this.keepChain !== undefined && !this.keepChain(table.name, name);
  }

  private declareChain(table: MutableTable, name: string, policyCounters: Counters | null): void {
    if (this.dropsRules(table, name)) {
      // Whether rules of it were read the dump cannot tell: the consumer folding them can.
      this.onRulesReplaced?.(table.name, name);
      if (!this.dropDeclarations) this.addChain(table, name, policyCounters);
      return;
    }
    const existing = table.chains.get(name);
    if (existing !== undefined) {
      this.onRulesReplaced?.(table.name, name);
      if (existing.rules.length > 0 || this.leftOutRules.has(existing)) {
        // The same chain listed twice (e.g. `iptables -S CHAIN` before and after a change): the later
        // listing is the current one.
        this.warn(`line ${this.lineNumber}: chain ${name} declared again; its earlier rules are replaced`);
      }
    }
    this.addChain(table, name, policyCounters);
  }

  private addChain(table: MutableTable, name: string, policyCounters: Counters | null): void {
    table.chains.set(name, { name, declaredAt: this.lineNumber, policyCounters, rules: NO_RULES });
    this.lastChain = null;
  }

  private parseCounterPrefixed(bytes: Buffer, start: number, end: number): void {
    // `[p:b]` is a few bytes: a loop is cheaper than a native indexOf call per line.
    let close = start;
    while (close < end && bytes[close] !== 93 /* ] */) close++;
    // A gated rule's line is held first: a held line's Counters would be made again when it is parsed,
    // and most held lines are dropped unparsed (one object per line, 600k at 20,000 services).
    let gated = false;
    if (this.run !== null && !this.replaying && this.fast !== null && close < end) {
      const packets = readBracketPackets(bytes, start, close);
      // A malformed prefix is skipped below, as without the gate.
      if (packets >= 0) {
        if (this.gateRule(bytes, start, close + 1, end, packets)) return;
        gated = true;
      }
    }
    const counters =
      close >= end
        ? null
        : this.fast !== null
          ? readBracketCounters(bytes, start, close, this.fast.zero)
          : parseBracketCounters(bytes.toString('latin1', start, close + 1));
    if (counters === null) {
      this.settleRun();
      this.skip('malformed-rule', excerptOf(bytes, start, end));
      return;
    }
    this.parseRuleLine(bytes, start, close + 1, end, counters, gated);
  }

  /**
   * The fast path for plain `-A` lines; everything else (and anything it declines) goes to parseCommand.
   * `gated`: gateRule has seen the line already (and did not hold it).
   */
  private parseRuleLine(bytes: Buffer, lineStart: number, start: number, end: number, prefixCounters: Counters | null, gated = false): void {
    if (this.run !== null && !gated && !this.replaying && this.gateRule(bytes, lineStart, start, end, prefixCounters === null ? -1 : prefixCounters.packets)) return;
    const rule = this.fast?.read(bytes, start, end, prefixCounters, this.lineNumber) ?? null;
    if (rule === null) {
      this.parseCommand(bytes, start, end, prefixCounters);
      return;
    }
    const table = this.tableForContent();
    if (rule.counters !== null) this.hasCounters = true;
    if (rule.lossy) this.skip('lossy-rule', excerptOf(bytes, start, end));
    this.noteInlineCounters(rule, prefixCounters);
    this.onRule?.(table.name, rule);
    if (this.keepChain !== undefined && !this.keepChain(table.name, rule.chain)) return;
    this.appendRule(table, rule.chain, rule);
  }

  private appendRule(table: MutableTable, chainName: string, rule: Rule): void {
    const chain = this.chainForRule(table, chainName);
    if (this.keepRule !== undefined && !this.keepRule(table.name, rule)) {
      // The chain stays as if the rule were kept (declared, or created by it).
      this.leftOutRules.add(chain);
      return;
    }
    if (chain.rules === NO_RULES) chain.rules = [];
    chain.rules.push(rule);
  }

  private chainForRule(table: MutableTable, chainName: string): MutableChain {
    const last = this.lastChain;
    // Valid while the Map still holds that object (declareChain, -X and a new table clear it).
    if (last !== null && last.name === chainName && table === this.lastChainTable) return last;
    let chain = table.chains.get(chainName);
    if (chain === undefined) {
      // iptables-save declares every chain before its rules; excerpts may not.
      chain = { name: chainName, declaredAt: null, policyCounters: null, rules: NO_RULES };
      table.chains.set(chainName, chain);
    }
    this.lastChain = chain;
    this.lastChainTable = table;
    return chain;
  }

  private parseCommand(bytes: Buffer, start: number, end: number, prefixCounters: Counters | null): void {
    let tokens: string[];
    try {
      // One decode per line: the tokens then slice this short string, never the stream's chunks.
      tokens = tokenize(decodeLine(bytes, start, end));
    } catch (error) {
      if (error instanceof TokenizeError) {
        this.skip('malformed-rule', excerptOf(bytes, start, end));
        return;
      }
      throw error;
    }
    const line = (): string => excerptOf(bytes, start, end);
    const command = tokens[0];
    const chainName = tokens[1];
    if (command === undefined) return;
    switch (command) {
      case '-A':
      case '--append': {
        if (chainName === undefined || chainName.startsWith('-')) {
          this.skip('malformed-rule', line());
          return;
        }
        const table = this.tableForContent();
        const keep = this.keepChain === undefined || this.keepChain(table.name, chainName);
        const chain = table.chains.get(chainName);
        let rule: Rule;
        try {
          rule = parseRule(tokens, 2, chain?.name ?? chainName, this.lineNumber, prefixCounters, this.interner);
        } catch (error) {
          if (error instanceof RuleSyntaxError) {
            this.skip('malformed-rule', line());
            return;
          }
          throw error;
        }
        if (rule.counters !== null) this.hasCounters = true;
        if (rule.lossy) this.skip('lossy-rule', line());
        this.noteInlineCounters(rule, prefixCounters);
        this.onRule?.(table.name, rule);
        if (!keep) return;
        this.appendRule(table, chainName, rule);
        return;
      }
      case '-N':
      case '--new-chain':
      case '-P':
      case '--policy': {
        if (chainName === undefined) {
          this.skip('malformed-chain', line());
          return;
        }
        const table = this.tableForContent();
        if (command === '-N' || command === '--new-chain') this.declareChain(table, chainName, null);
        // -P declares only a chain the dump has not seen and replaces no rules (not even a dropped chain's,
        // which the dump does not hold). With dropDeclarations, a dropped chain would be an empty one, as good as none.
        else if (!table.chains.has(chainName) && !(this.dropDeclarations && this.dropsRules(table, chainName))) this.addChain(table, chainName, null);
        return;
      }
      case '-X':
      case '--delete-chain':
      case '-F':
      case '--flush': {
        // kube-proxy's restore input deletes stale chains with -X and flushes with -F.
        if (chainName === undefined) {
          this.skip('unsupported-command', line());
          return;
        }
        const table = this.tableForContent();
        this.lastChain = null;
        // A dropped chain's rules were folded, not kept: its -F and -X are reported as a held chain's are.
        if (table.chains.has(chainName) || this.dropsRules(table, chainName)) this.onRulesReplaced?.(table.name, chainName);
        if (command === '-X' || command === '--delete-chain') table.chains.delete(chainName);
        else {
          const flushed = table.chains.get(chainName);
          if (flushed !== undefined) {
            flushed.rules = NO_RULES;
            this.leftOutRules.delete(flushed);
          }
        }
        return;
      }
      default:
        this.skip(/^-[A-Za-z]$|^--[a-z-]+$/.test(command) ? 'unsupported-command' : 'not-iptables', line());
    }
  }

  private skip(reason: SkipReason, line: string): void {
    this.skippedCount++;
    if (this.skipped.length < MAX_LISTED_SKIPPED) {
      this.skipped.push({ line: this.lineNumber, reason, excerpt: line.slice(0, EXCERPT_LENGTH) });
    }
  }

  private warn(message: string): void {
    this.warningCount++;
    if (this.warnings.length < MAX_WARNINGS) this.warnings.push(message);
  }
}

/** latin1 is a plain byte copy (fast); fall back to UTF-8 only when the line has non-ASCII bytes. */
function decodeLine(bytes: Buffer, start: number, end: number): string {
  for (let i = start; i < end; i++) if ((bytes[i] as number) > 127) return bytes.toString('utf8', start, end);
  return bytes.toString('latin1', start, end);
}

function excerptOf(bytes: Buffer, start: number, end: number): string {
  return bytes.toString('utf8', start, Math.min(end, start + EXCERPT_LENGTH * 4));
}

/** Parses a whole dump held in memory. Prefer DumpParser when reading a stream. */
export function parseDump(text: string | Uint8Array, options: DumpParserOptions = {}): ParsedDump {
  const parser = new DumpParser(options);
  parser.push(text);
  return parser.end();
}

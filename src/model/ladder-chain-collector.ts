/**
 * Streaming form of readLadderChain: folds the nat ladder chains (KUBE-SVC/SVL/XLB) as the parser
 * reads them, so that the dump need not keep their rules: one jump to a KUBE-SEP chain per endpoint,
 * at 20,000 services × 10 endpoints 200k Rule objects and their comments, the largest part of a
 * parsed read's peak heap, and a masquerade rule per chain (20,000 more, ~6 MiB). The dump keeps the
 * chains and the one kind of rule the build reads there, a jump to another service chain (a pre-1.24
 * KUBE-XLB's to KUBE-SVC: collectServicePorts registers its target), so service ports are found from
 * the dump as before; buildServiceModel reads each folded chain from `finish()` (its `ladderChains`).
 *
 * Wire it into a DumpParser with `keepRule`, `onRule` and `onRulesReplaced`. The parser tells it
 * when it drops rules it had read (a chain declared again, `-F`, `-X`, a table listed again), so a
 * fold always covers the rules the dump's chain would hold, and it still warns about a chain
 * declared again after rules it left out: the model is the same as from a dump that kept every rule,
 * warnings included (test/model/chain-folding.test.ts: every fixture and real dump, and restore-style
 * inputs).
 *
 * Given the last parse's cache (ladder-chain-cache.ts), it is also a `ruleRuns` gate for each ladder
 * chain prefix: a run the cache knows by name and content is not parsed, and its fold is resumed from
 * the cache's template with the run's lines and counters. The chains a parse reads cleanly are
 * recorded for the next parse's cache when the model build is done with them (FoldedLadders.release).
 */
import type { HeldRun, RuleRunGate } from '../iptables/rule-runs.js';
import type { Rule } from '../iptables/types.js';
import { type ServiceChainPrefix, serviceChainPrefix } from './chain-names.js';
import { ChainFolds } from './chain-folds.js';
import { LadderChainCache } from './ladder-chain-cache.js';
import { LadderChainFold, type LadderChainRead } from './ladder-chain.js';

export interface LadderChainCollector {
  /** For DumpParserOptions.onRule: every rule, kept or not. */
  readonly onRule: (table: string, rule: Rule) => void;
  /** For DumpParserOptions.keepRule: drops a ladder chain's rules (folded instead) but its jumps to other service chains. */
  readonly keepRule: (table: string, rule: Rule) => boolean;
  /** For DumpParserOptions.onRulesReplaced. */
  readonly onRulesReplaced: (table: string, chain: string | null) => void;
  /** For DumpParserOptions.ruleRuns: one gate per ladder chain prefix, skipping the runs the last cache knows. */
  readonly ruleRuns: readonly RuleRunGate[];
  /** The folded chains (those with rules), by name. The collector is then ready for the next dump, whose cache is this one's. */
  finish(): FoldedLadders;
}

/** A chain's single run, parsed cleanly: what its read is recorded under once the build is done with it. */
interface RecordableRun {
  readonly name1: number;
  readonly name2: number;
  readonly content1: number;
  readonly content2: number;
  readonly firstLine: number;
}

/** The cache a parse makes for the next one, and what it records from. */
class LadderRecorder {
  readonly cache: LadderChainCache;
  constructor(
    capacity: number,
    private readonly runs: Map<string, RecordableRun>,
  ) {
    this.cache = new LadderChainCache(capacity);
  }

  /** The build is done with `chain`'s read, whose ladder has `fingerprint`. */
  record(chain: string, read: LadderChainRead, fingerprint: string): void {
    const run = this.runs.get(chain);
    if (run === undefined) return;
    this.runs.delete(chain);
    this.cache.record(run.name1, run.name2, run.content1, run.content2, chain, run.firstLine, read, fingerprint);
    if (this.runs.size === 0) this.cache.doneRecording();
  }
}

/**
 * The folded ladder chains of one dump. A chain's read is finished when first asked for, that is in
 * the model build, which runs in slices: finishing 20,000 folds at the end of the parse held the event
 * loop for 100–160 ms at 20,000 services × 10 endpoints.
 */
export class FoldedLadders {
  private readonly reads = new Map<string, LadderChainRead>();
  /** Some chain was released: the folds no longer cover the dump's ladder chains. */
  private spent = false;

  constructor(
    private readonly folds: Map<string, LadderChainFold>,
    private readonly recorder: LadderRecorder,
    /** Chains whose runs were resumed from the last cache instead of parsed. */
    readonly reused = 0,
  ) {}

  /** For the next parse's collector: the chains this parse read, recorded as the build releases them, and those it reused. */
  get cache(): LadderChainCache {
    return this.recorder.cache;
  }

  /**
   * A resumed read proved inexact (the build needed a comment its template dropped, DROPPED_COMMENT):
   * the next parse must read every ladder chain, so the cache made for it forgets its entries.
   */
  forgetCache(): void {
    this.recorder.cache.clear();
  }

  /** Chains folded and not released. */
  get size(): number {
    return this.folds.size;
  }

  /**
   * The read of a folded chain; undefined for a chain not folded (read it from the dump). Throws once
   * a chain was released: the dump does not hold the folded rules, so reading it instead would give a
   * ladder without endpoints.
   */
  get(chain: string): LadderChainRead | undefined {
    if (this.spent) throw new Error(`model: the folded ladder chains were released by the model build that read them (${chain}); a parse is built into a model once`);
    let read = this.reads.get(chain);
    if (read !== undefined) return read;
    const fold = this.folds.get(chain);
    if (fold === undefined) return undefined;
    read = fold.finish();
    this.reads.set(chain, read);
    return read;
  }

  /** Frees a chain's fold and read once its ladder (with `fingerprint`) is built (BuildServiceModelOptions.releaseFolds). */
  release(chain: string, fingerprint: string): void {
    this.spent = true;
    const read = this.reads.get(chain);
    if (read !== undefined) this.recorder.record(chain, read, fingerprint);
    this.folds.delete(chain);
    this.reads.delete(chain);
  }
}

/** The prefixes of the chains readLadderChain reads (one ruleRuns gate each). */
const LADDER_PREFIXES: readonly ServiceChainPrefix[] = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-XLB-'];

/** KUBE-SVC, KUBE-SVL and KUBE-XLB chains: the ones readLadderChain reads. */
export function isLadderChain(chain: string): boolean {
  const prefix = serviceChainPrefix(chain);
  return prefix !== null && LADDER_PREFIXES.includes(prefix);
}

/** `lastCache`: the cache of the last parse of this family's output (FoldedLadders.cache), if any. */
export function createLadderChainCollector(lastCache?: LadderChainCache): LadderChainCollector {
  let last = lastCache;
  const folds = new ChainFolds<LadderChainFold>(isLadderChain, () => new LadderChainFold());
  /** Runs recordable so far, by chain. */
  let recordable = new Map<string, RecordableRun>();
  /**
   * Chains with rules from a run in this dump (parsed or resumed): a later run of one is neither
   * resumed (it continues the chain's fold) nor recorded (its read holds both runs).
   */
  const withRuns = new Set<string>();
  /** The cache entries this dump resumed: copied into the next cache at finish. */
  let resumed: number[] = [];
  let inRun = false;
  /** The run being parsed: its chain (at its first rule), first line, rules seen, and whether it can be recorded. */
  let runChain: string | null = null;
  let runFirstLine = 0;
  let runRules = 0;
  let runRecordable = false;
  /** A ladder rule reached the folds outside a run: nothing more is resumed in this dump (as for KUBE-SEP chains). */
  let ungated = false;
  const taint = (chain: string): void => {
    recordable.delete(chain);
  };
  const gate = (prefix: string): RuleRunGate => ({
    prefix: Buffer.from(prefix, 'latin1'),
    get skips() {
      return last !== undefined && last.size > 0;
    },
    skip(name1, name2, content1, content2, run: HeldRun) {
      // Only a run whose lines all carry `[packets:bytes]` prefixes gives every counter a template needs.
      if (last === undefined || ungated || !run.allCounted) return false;
      const e = last.find(name1, name2, content1, content2);
      if (e < 0) return false;
      const chain = last.chainOf(e);
      if (withRuns.has(chain)) return false;
      withRuns.add(chain);
      folds.put(chain, last.resume(e, run));
      resumed.push(e);
      return true;
    },
    parsing() {
      inRun = true;
      runChain = null;
      runRules = 0;
      runRecordable = true;
    },
    parsed(name1, name2, content1, content2, clean, run) {
      inRun = false;
      const chain = runChain;
      if (chain === null) return;
      // A template takes counters from the lines' prefixes: not from a run whose rules carry their own.
      if (clean && runRecordable && !ungated && !run.inlineCounters) recordable.set(chain, { name1, name2, content1, content2, firstLine: runFirstLine });
      else taint(chain);
    },
  });
  const ruleRuns = LADDER_PREFIXES.map(gate);
  return {
    onRule(table, rule) {
      const fold = folds.foldOf(table, rule.chain);
      if (fold === null) return;
      if (!inRun) {
        ungated = true;
        taint(rule.chain);
      } else if (runChain === null) {
        runChain = rule.chain;
        runFirstLine = rule.line;
        // A chain's second run (or a first one after a resumed run) is not recorded: its read holds both.
        if (withRuns.has(rule.chain)) {
          runRecordable = false;
          taint(rule.chain);
        }
        withRuns.add(rule.chain);
      }
      if (inRun) {
        // A template gives each rule its line by its index in the run: only a run of consecutive lines is recorded.
        if (rule.line !== runFirstLine + runRules) runRecordable = false;
        runRules++;
      }
      fold.add(rule);
    },
    // The parser asks just after onRule, about the same rule: the answer for its chain is cached.
    keepRule(table, rule) {
      if (!folds.folds(table, rule.chain)) return true;
      if (rule.target === null || serviceChainPrefix(rule.target) === null) return false;
      // The dump keeps this rule, which a resumed run would not give it.
      runRecordable = false;
      taint(rule.chain);
      return true;
    },
    onRulesReplaced(table, chain) {
      folds.rulesReplaced(table, chain);
      if (table !== 'nat') return;
      if (chain === null) recordable.clear();
      else taint(chain);
    },
    ruleRuns,
    finish() {
      const next = new LadderRecorder(Math.max(recordable.size + resumed.length, 1024), recordable);
      if (last !== undefined) for (const e of resumed) next.cache.copy(last, e);
      if (recordable.size === 0) next.cache.doneRecording();
      const folded = new FoldedLadders(folds.take(), next, resumed.length);
      last = next.cache;
      recordable = new Map();
      withRuns.clear();
      resumed = [];
      ungated = false;
      return folded;
    },
  };
}

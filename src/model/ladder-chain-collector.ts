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
 */
import type { Rule } from '../iptables/types.js';
import { serviceChainPrefix } from './chain-names.js';
import { ChainFolds } from './chain-folds.js';
import { LadderChainFold, type LadderChainRead } from './ladder-chain.js';

export interface LadderChainCollector {
  /** For DumpParserOptions.onRule: every rule, kept or not. */
  readonly onRule: (table: string, rule: Rule) => void;
  /** For DumpParserOptions.keepRule: drops a ladder chain's rules (folded instead) but its jumps to other service chains. */
  readonly keepRule: (table: string, rule: Rule) => boolean;
  /** For DumpParserOptions.onRulesReplaced. */
  readonly onRulesReplaced: (table: string, chain: string | null) => void;
  /** The folded chains (those with rules), by name. The collector is then ready for the next dump. */
  finish(): FoldedLadders;
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

  constructor(private readonly folds: Map<string, LadderChainFold>) {}

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

  /** Frees a chain's fold and read once its ladder is built (BuildServiceModelOptions.releaseFolds). */
  release(chain: string): void {
    this.spent = true;
    this.folds.delete(chain);
    this.reads.delete(chain);
  }
}

/** KUBE-SVC, KUBE-SVL and KUBE-XLB chains: the ones readLadderChain reads. */
export function isLadderChain(chain: string): boolean {
  const prefix = serviceChainPrefix(chain);
  return prefix === 'KUBE-SVC-' || prefix === 'KUBE-SVL-' || prefix === 'KUBE-XLB-';
}

export function createLadderChainCollector(): LadderChainCollector {
  const folds = new ChainFolds<LadderChainFold>(isLadderChain, () => new LadderChainFold());
  return {
    onRule(table, rule) {
      folds.foldOf(table, rule.chain)?.add(rule);
    },
    // The parser asks just after onRule, about the same rule: the answer for its chain is cached.
    keepRule: (table, rule) => !folds.folds(table, rule.chain) || (rule.target !== null && serviceChainPrefix(rule.target) !== null),
    onRulesReplaced: (table, chain) => folds.rulesReplaced(table, chain),
    finish: () => new FoldedLadders(folds.take()),
  };
}

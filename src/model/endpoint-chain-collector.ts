/**
 * Streaming form of readEndpointChain: folds nat KUBE-SEP-* rules as the parser reads them, so the dump
 * need not retain them (about half of a large dump's rules, two per endpoint), nor the chains at all.
 * The collector is the DumpParser's options (`new DumpParser(collector)`); then pass `finish()` to
 * buildServiceModel as `endpointChains`. The model is the same as from a dump that kept every rule
 * (test/model/endpoint-chain-collector.test.ts: every fixture and real dump, and restore-style inputs).
 *
 * A chain's fold covers the rules the dump's chain would hold because the parser says when rules read
 * so far stop counting (`onRulesReplaced`: a chain declared again, `-F`, `-X`, the table listed again),
 * as it does for the ladder folds (both keep theirs in a ChainFolds): the fold is then dropped and the
 * next rule starts a new one. One known difference: the parser's "chain … declared again" warning, which it
 * gives for a chain holding rules, is absent for a KUBE-SEP chain (the dump holds none of its rules;
 * iptables-save never declares a chain twice).
 */
import type { Rule } from '../iptables/types.js';
import { isEndpointChain } from './chain-names.js';
import { ChainFolds } from './chain-folds.js';
import { type EndpointChainInfo, foldEndpointRule, type MutableEndpointChainInfo } from './endpoint-chain.js';

export interface EndpointChainCollector {
  /** For DumpParserOptions.keepChain: drops the rules this collector folds (nat KUBE-SEP-*). */
  readonly keepChain: (table: string, chain: string) => boolean;
  /** For DumpParserOptions.dropDeclarations: the folded chains' declarations stay out of the dump too. */
  readonly dropDeclarations: true;
  /** For DumpParserOptions.onRule. */
  readonly onRule: (table: string, rule: Rule) => void;
  /** For DumpParserOptions.onRulesReplaced. */
  readonly onRulesReplaced: (table: string, chain: string | null) => void;
  /**
   * What readEndpointChain would give for each folded chain of the finished dump. Chains without an
   * entry (no rules since their last declaration, flush or deletion) read as the dump's chain does.
   * The collector is then ready for the next dump.
   */
  finish(): Map<string, EndpointChainInfo>;
}

export function createEndpointChainCollector(): EndpointChainCollector {
  // The folds serve as the infos as they are, objects of just the four fields the model reads: a copy
  // into a second Map would be 200k more objects at the end of a large cluster's parse.
  const folds = new ChainFolds<MutableEndpointChainInfo>(isEndpointChain, () => ({ dnat: null, hairpinIP: null, comment: null, protocol: null }));
  // Comments and protocols repeat across the chains (one comment per service port, not per endpoint):
  // one string of each is kept.
  let strings = new Map<string, string>();
  const intern = (text: string): string => {
    const known = strings.get(text);
    if (known !== undefined) return known;
    strings.set(text, text);
    return text;
  };
  // The protocol is the same word chain after chain: the last one is checked before the Map.
  let lastProtocol = '';
  const internProtocol = (text: string): string => (text === lastProtocol ? lastProtocol : (lastProtocol = intern(text)));
  return {
    keepChain: (table, chain) => !folds.folds(table, chain),
    dropDeclarations: true,
    onRule(table, rule) {
      const info = folds.foldOf(table, rule.chain);
      if (info !== null) foldEndpointRule(info, rule, intern, internProtocol);
    },
    onRulesReplaced: (table, chain) => folds.rulesReplaced(table, chain),
    finish() {
      strings = new Map();
      lastProtocol = '';
      return folds.take();
    },
  };
}

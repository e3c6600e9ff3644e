/**
 * Streaming form of readEndpointChain: folds nat KUBE-SEP-* rules as the parser reads them, so the dump
 * need not retain them (about half of a large dump's rules, two per endpoint), nor the chains at all.
 * The collector is the DumpParser's options (`new DumpParser(collector)`); then pass `finish()` to
 * buildServiceModel as `endpointChains`. The model is the same as from a dump that kept every rule
 * (test/model/endpoint-chain-collector.test.ts: every fixture and real dump, and restore-style inputs).
 *
 * A chain's fold covers the rules the dump's chain would hold because the parser says when rules read
 * so far stop counting (`onRulesReplaced`: a chain declared again, `-F`, `-X`, the table listed again),
 * as it does for the ladder folds (ladder-chain-collector.ts): the fold is then dropped and the next
 * rule starts a new one. One known difference: the parser's "chain … declared again" warning, which it
 * gives for a chain holding rules, is absent for a KUBE-SEP chain (the dump holds none of its rules;
 * iptables-save never declares a chain twice).
 */
import type { Rule } from '../iptables/types.js';
import { isEndpointChain } from './chain-names.js';
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

function folds(table: string, chain: string): boolean {
  return table === 'nat' && isEndpointChain(chain);
}

export function createEndpointChainCollector(): EndpointChainCollector {
  // The folds serve as the infos as they are, objects of just the four fields the model reads: a copy
  // into a second Map would be 200k more objects at the end of a large cluster's parse.
  let infos = new Map<string, MutableEndpointChainInfo>();
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
  // A chain's rules come one after another, and the parser asks keepChain about each rule just after
  // onRule: the last answer and fold skip the prefix test and the Map for all but a chain's first rule.
  let lastChain = '';
  let lastFolds = false;
  let lastInfo: MutableEndpointChainInfo | null = null;
  let lastTable = '';
  const decide = (table: string, chain: string): boolean => {
    if (chain !== lastChain || table !== lastTable) {
      lastChain = chain;
      lastTable = table;
      lastFolds = folds(table, chain);
      lastInfo = null;
    }
    return lastFolds;
  };
  return {
    keepChain: (table, chain) => !decide(table, chain),
    dropDeclarations: true,
    onRule(table, rule) {
      if (!decide(table, rule.chain)) return;
      let info = lastInfo ?? infos.get(rule.chain);
      if (info === undefined) infos.set(rule.chain, (info = { dnat: null, hairpinIP: null, comment: null, protocol: null }));
      lastInfo = info;
      foldEndpointRule(info, rule, intern, internProtocol);
    },
    onRulesReplaced(table, chain) {
      if (table !== 'nat') return;
      // Every declaration of a KUBE-SEP chain comes here; iptables-save's come before any rule, while
      // the Map is still empty.
      if (chain === null) infos.clear();
      else infos.delete(chain);
      lastInfo = null;
    },
    finish() {
      const collected = infos;
      infos = new Map();
      strings = new Map();
      lastProtocol = '';
      lastChain = '';
      lastTable = '';
      lastInfo = null;
      return collected;
    },
  };
}

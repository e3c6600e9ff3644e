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
 *
 * Given the last parse's cache (endpoint-chain-cache.ts), it is also the parser's `ruleRuns` gate: a
 * run of a KUBE-SEP chain's rules that the cache knows by name and content is not parsed, and the cache
 * answers for that chain (`finished().cached`), until the parser says its rules stopped counting. Each
 * dump makes the cache for the next (`finished().cache`).
 */
import type { RuleRunGate } from '../iptables/rule-runs.js';
import type { Rule } from '../iptables/types.js';
import { ENDPOINT_CHAIN_PREFIX, isEndpointChain } from './chain-names.js';
import { ChainFolds } from './chain-folds.js';
import { EndpointChainCache } from './endpoint-chain-cache.js';
import { type EndpointChainInfo, foldEndpointRule, type MutableEndpointChainInfo } from './endpoint-chain.js';

/** The folded KUBE-SEP chains of one dump, for buildServiceModel: parsed ones and those the last parse's cache answered for. */
export interface EndpointChains {
  get(chain: string): EndpointChainInfo | undefined;
  /** Chains it answers for. */
  readonly size: number;
  /** Frees them (releaseEndpointChains); the cache made for the next parse stays. */
  clear(): void;
}

export interface EndpointChainCollector {
  /** For DumpParserOptions.keepChain: drops the rules this collector folds (nat KUBE-SEP-*). */
  readonly keepChain: (table: string, chain: string) => boolean;
  /** For DumpParserOptions.dropDeclarations: the folded chains' declarations stay out of the dump too. */
  readonly dropDeclarations: true;
  /** For DumpParserOptions.droppedPrefix: `KUBE-SEP-`, the names keepChain drops in nat. */
  readonly droppedPrefix: Uint8Array;
  /** For DumpParserOptions.onDroppedDeclaration. */
  readonly onDroppedDeclaration: (table: string) => void;
  /** For DumpParserOptions.onRule. */
  readonly onRule: (table: string, rule: Rule) => void;
  /** For DumpParserOptions.onRulesReplaced. */
  readonly onRulesReplaced: (table: string, chain: string | null) => void;
  /** For DumpParserOptions.ruleRuns: the KUBE-SEP chains' runs of rules, skipped where `last` knows them (one gate). */
  readonly ruleRuns: readonly RuleRunGate[];
  /**
   * What readEndpointChain would give for each folded chain of the finished dump that was parsed;
   * `finished().cached` answers for the chains the last cache answered for. Chains without an entry in
   * either (no rules since their last declaration, flush or deletion) read as the dump's chain does.
   * The collector is then ready for the next dump, whose cache is this one's.
   */
  finish(): Map<string, EndpointChainInfo>;
  /**
   * After finish: what the finished dump took from the cache, and the cache for the dump after it.
   * A method (the collector is spread into parser options, which would read a getter).
   */
  finished(): FinishedEndpointChains;
}

export interface FinishedEndpointChains {
  /** The chains the last parse's cache answered for (their runs were not parsed). */
  readonly cached: EndpointChains;
  /**
   * For the next parse's collector (createEndpointChainCollector): the cache this dump made, as it is.
   * Not copied into exact-size arrays: that was a 15–30 ms stretch at the end of a large parse, with
   * three caches alive at its peak, to save the ~25% slack of arrays grown by doubling.
   */
  readonly cache: EndpointChainCache;
  /** Chains the dump took from the last cache instead of parsing them. */
  readonly reused: number;
}

const SEP_PREFIX = Buffer.from(ENDPOINT_CHAIN_PREFIX, 'latin1');

/** `lastCache`: the cache of the last parse of this family's output (FinishedEndpointChains.cache), if any. */
export function createEndpointChainCollector(lastCache?: EndpointChainCache): EndpointChainCollector {
  let last = lastCache;
  /** The cache this dump makes: what it took from `last`, and the runs it parsed. Made at the dump's first run. */
  let making: EndpointChainCache | null = null;
  /**
   * KUBE-SEP chains declared before the first run (iptables-save declares every chain first): the
   * cache is made that large, not grown by doubling (a quarter of it slack, and the copies garbage).
   */
  let declared = 0;
  const made = (): EndpointChainCache => (making ??= new EndpointChainCache(Math.max(declared, last?.entryCount ?? 0) + 1024));
  // A chain's fold starts from the cached info when a run of it was skipped before (a second run).
  const folds = new ChainFolds<MutableEndpointChainInfo>(isEndpointChain, (chain) => making?.presentInfo(chain) ?? { dnat: null, hairpinIP: null, comment: null, protocol: null });
  // Comments and protocols repeat across the chains (one comment per service port, not per endpoint):
  // one string of each is kept.
  const strings = new Map<string, string>();
  const intern = (text: string): string => {
    const known = strings.get(text);
    if (known !== undefined) return known;
    strings.set(text, text);
    return text;
  };
  // The protocol is the same word chain after chain: the last one is checked before the Map.
  let lastProtocol = '';
  const internProtocol = (text: string): string => (text === lastProtocol ? lastProtocol : (lastProtocol = intern(text)));
  /** The parser is parsing a run (between parsing() and parsed()). */
  let inRun = false;
  /**
   * A KUBE-SEP rule reached the folds outside a run (not iptables-save's shape: `--append`, a tab, no
   * table header): a fold may then hold rules a later run's cache entry does not cover, so no more runs
   * are skipped in this dump.
   */
  let ungated = false;
  let reused = 0;
  /**
   * Per entry of `last` (one per chain name): a run of that chain came before in this dump, skipped or
   * parsed. Made at the dump's first run. In place of asking the cache being made for the name: the
   * entries are met in order here (see `hint`), where that cache's table is probed at random.
   */
  let seen: Uint8Array | null = null;
  /** The entry of `last` after the one the last skipped run took: the next run's, nearly always. */
  let hint = 0;
  const seenOf = (from: EndpointChainCache): Uint8Array => (seen ??= new Uint8Array(from.entryCount));
  const gate: RuleRunGate = {
    prefix: SEP_PREFIX,
    get skips() {
      return last !== undefined;
    },
    skip(name1, name2, content1, content2) {
      // A chain seen before in this dump is parsed: its fold (or the cached info it resumes) is running.
      const next = made();
      if (last !== undefined && !ungated) {
        const e = last.find(name1, name2, content1, content2, hint);
        const marks = seenOf(last);
        if (e >= 0 && marks[e] === 0) {
          marks[e] = 1;
          hint = e + 1;
          next.copyPresent(last, e);
          reused++;
          return true;
        }
      }
      return false;
    },
    parsing(name1, name2) {
      inRun = true;
      if (last === undefined) return;
      const e = last.entryNamed(name1, name2);
      if (e >= 0) seenOf(last)[e] = 1;
    },
    parsed(name1, name2, content1, content2, clean) {
      inRun = false;
      // The fold covers this run alone unless a run of the chain came before (recordRun then records
      // nothing) or a rule outside runs did (ungated).
      const fold = folds.current;
      made().recordRun(name1, name2, content1, content2, clean && !ungated ? fold : null);
    },
  };
  let finished: FinishedEndpointChains | null = null;
  return {
    finished() {
      if (finished === null) throw new Error('EndpointChainCollector.finished() before finish()');
      return finished;
    },
    keepChain: (table, chain) => !folds.folds(table, chain),
    dropDeclarations: true,
    droppedPrefix: SEP_PREFIX,
    // What onRulesReplaced does with a declaration that replaces nothing: count it.
    onDroppedDeclaration(table) {
      if (table === 'nat' && making === null) declared++;
    },
    ruleRuns: [gate],
    onRule(table, rule) {
      const info = folds.foldOf(table, rule.chain);
      if (info === null) return;
      if (!inRun) ungated = true;
      foldEndpointRule(info, rule, intern, internProtocol);
    },
    onRulesReplaced(table, chain) {
      folds.rulesReplaced(table, chain);
      if (table !== 'nat') return;
      if (making !== null) making.replace(chain);
      else if (chain !== null && isEndpointChain(chain)) declared++;
    },
    finish() {
      strings.clear();
      lastProtocol = '';
      made().doneRecording();
      finished = finishedOf(made(), reused);
      // The next dump through this collector starts from this one's cache.
      last = finished.cache;
      making = null;
      declared = 0;
      ungated = false;
      reused = 0;
      seen = null;
      hint = 0;
      return folds.take();
    },
  };
}

function finishedOf(made: EndpointChainCache, reused: number): FinishedEndpointChains {
  // What answers for the skipped chains until the build is done with them.
  let answering: EndpointChainCache | null = made;
  return {
    cached: {
      get: (chain) => answering?.presentInfo(chain),
      get size() {
        return answering?.presentCount ?? 0;
      },
      clear() {
        answering = null;
      },
    },
    cache: made,
    reused,
  };
}

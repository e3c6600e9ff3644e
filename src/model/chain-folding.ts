/**
 * What a parsed read folds while the output streams instead of keeping it in the dump: the KUBE-SEP
 * chains (endpoint-chain-collector.ts) and the ladder chains' jumps to them (ladder-chain-collector.ts),
 * together most of a large dump's rules. One DumpParser's options for both, and the folds, which
 * buildServiceModel takes as options (`{ ...folded }`). Both folds learn from the parser's
 * `onRulesReplaced` which rules stop counting, so each sees every such event.
 */
import type { DumpParserOptions } from '../iptables/parse-dump.js';
import type { EndpointChainCache } from './endpoint-chain-cache.js';
import { createEndpointChainCollector, type EndpointChains } from './endpoint-chain-collector.js';
import { createLadderChainCollector, type FoldedLadders } from './ladder-chain-collector.js';

export interface FoldedChains {
  readonly endpointChains: EndpointChains;
  readonly ladderChains: FoldedLadders;
  /** Frees the KUBE-SEP folds: a releasing build calls it once every ladder is read (BuildServiceModelOptions.releaseFolds). */
  readonly releaseEndpointChains: () => void;
  /** For the next parse of the same family's output (createChainFolding): the KUBE-SEP chains it need not parse. */
  readonly endpointChainCache: EndpointChainCache;
  /** KUBE-SEP chains this parse took from the last parse's cache (endpoint-chain-cache.ts). */
  readonly reusedEndpointChains: number;
}

export interface ChainFolding {
  /** For `new DumpParser(...)`. */
  readonly parserOptions: DumpParserOptions;
  /**
   * The folds of the dump the parser just finished (they read nothing from it: the parser reports all
   * they follow as it reads). The folding is then ready for the next dump, which starts from this
   * one's KUBE-SEP cache.
   */
  finish(): FoldedChains;
}

/** `lastCache`: the last parse's FoldedChains.endpointChainCache for the same family's output, if any. */
export function createChainFolding(lastCache?: EndpointChainCache): ChainFolding {
  const endpoints = createEndpointChainCollector(lastCache);
  const ladders = createLadderChainCollector();
  return {
    parserOptions: {
      keepChain: endpoints.keepChain,
      dropDeclarations: endpoints.dropDeclarations,
      keepRule: ladders.keepRule,
      ruleRuns: endpoints.ruleRuns,
      onRule(table, rule) {
        endpoints.onRule(table, rule);
        ladders.onRule(table, rule);
      },
      onRulesReplaced(table, chain) {
        endpoints.onRulesReplaced(table, chain);
        ladders.onRulesReplaced(table, chain);
      },
    },
    finish() {
      const parsed = endpoints.finish();
      const { cached, cache, reused } = endpoints.finished();
      const endpointChains: EndpointChains = {
        get: (chain) => parsed.get(chain) ?? cached.get(chain),
        get size() {
          return parsed.size + cached.size;
        },
        clear() {
          parsed.clear();
          cached.clear();
        },
      };
      const ladderChains = ladders.finish();
      return { endpointChains, ladderChains, releaseEndpointChains: () => endpointChains.clear(), endpointChainCache: cache, reusedEndpointChains: reused };
    },
  };
}

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
import type { LadderChainCache } from './ladder-chain-cache.js';
import { createLadderChainCollector, type FoldedLadders } from './ladder-chain-collector.js';

/**
 * What one parse leaves the next parse of the same family's output: the chains it need not parse
 * (endpoint-chain-cache.ts, ladder-chain-cache.ts). The ladder cache fills as the model build
 * releases the folds (BuildServiceModelOptions.releaseFolds).
 */
export interface ChainCaches {
  readonly endpoints: EndpointChainCache;
  readonly ladders?: LadderChainCache;
}

export interface FoldedChains {
  readonly endpointChains: EndpointChains;
  readonly ladderChains: FoldedLadders;
  /** Frees the KUBE-SEP folds: a releasing build calls it once every ladder is read (BuildServiceModelOptions.releaseFolds). */
  readonly releaseEndpointChains: () => void;
  /** For the next parse of the same family's output (createChainFolding): the chains it need not parse. */
  readonly caches: ChainCaches;
  /** KUBE-SEP chains this parse took from the last parse's cache (endpoint-chain-cache.ts). */
  readonly reusedEndpointChains: number;
  /** Ladder chains this parse resumed from the last parse's cache (ladder-chain-cache.ts). */
  readonly reusedLadderChains: number;
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

/** `lastCaches`: the last parse's FoldedChains.caches for the same family's output, if any. */
export function createChainFolding(lastCaches?: ChainCaches): ChainFolding {
  const endpoints = createEndpointChainCollector(lastCaches?.endpoints);
  const ladders = createLadderChainCollector(lastCaches?.ladders);
  return {
    parserOptions: {
      keepChain: endpoints.keepChain,
      dropDeclarations: endpoints.dropDeclarations,
      droppedPrefix: endpoints.droppedPrefix,
      onDroppedDeclaration: endpoints.onDroppedDeclaration,
      keepRule: ladders.keepRule,
      // KUBE-SEP first: most gated runs are theirs.
      ruleRuns: [...endpoints.ruleRuns, ...ladders.ruleRuns],
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
      return {
        endpointChains,
        ladderChains,
        releaseEndpointChains: () => endpointChains.clear(),
        caches: { endpoints: cache, ladders: ladderChains.cache },
        reusedEndpointChains: reused,
        reusedLadderChains: ladderChains.reused,
      };
    },
  };
}

/** Reads one KUBE-SVC / KUBE-SVL / KUBE-XLB chain: its masquerade rule, affinity rules and load-balancing ladder. */
import type { Chain, ProbabilityMatch, Rule } from '../iptables/types.js';
import { isEndpointChain } from './chain-names.js';
import { hostAddress } from './endpoint-chain.js';

/** One reachable `-j KUBE-SEP-…` ladder rule. */
export interface LadderRule {
  readonly chain: string;
  readonly probability: ProbabilityMatch | null;
  readonly line: number;
  /** Packets of this jump; null when the rule carried no counters. */
  readonly packets: number | null;
  /** Sum of packets of the `--rcheck` affinity rules that jump to the same SEP chain; null when none or no counters. */
  affinityPackets: number | null;
  /** Lines of those `--rcheck` rules (empty when none): whose counters a counter refresh re-reads. */
  affinityLines: readonly number[];
  /** DROPPED_COMMENT once the model build dropped a comment it does not read again (build-service-model.ts, readLadder). */
  comment: string | null;
}

/** The masquerade rule kube-proxy puts first in KUBE-SVC (`"<svc> cluster IP" ... -j KUBE-MARK-MASQ`). */
export interface MasqueradeRule {
  readonly clusterIP: string | null;
  readonly servicePort: number | null;
  readonly protocol: string | null;
  readonly comment: string | null;
}

export interface LadderChainRead {
  readonly rules: readonly LadderRule[];
  readonly masquerade: MasqueradeRule | null;
  /** Seconds of the first `-m recent --rcheck` rule; undefined when the chain has no affinity rules. */
  readonly affinityTimeoutSeconds: number | null | undefined;
  /** Rules after the first unconditional jump to a KUBE-SEP chain. */
  readonly unreachableRules: number;
  /** Comments of rules that are neither ladder nor masquerade rules (`<svc> has no local endpoints`). */
  readonly otherComment: string | null;
  /** Affinity rules naming a SEP chain no ladder rule jumps to (kube-proxy never writes these). */
  readonly orphanAffinityChains: readonly string[];
  /** An unconditional jump to a KUBE-SEP chain was read: any rule after it is unreachable. */
  readonly ended: boolean;
  /**
   * The ladder's fingerprint (Ladder.fingerprint, a function of `rules`' chains and probabilities),
   * when known before the build: a read resumed from the last parse's cache and not added to since.
   */
  readonly fingerprint: string | undefined;
}

/**
 * A ladder rule's comment once the model build has dropped it: the build reads a comment again only
 * where the rule's KUBE-SEP chain has no DNAT target, and 200k comments are ~10 MiB. One shared string
 * (a NUL cannot be in a comment iptables prints), told apart from a rule that had no comment: a read
 * resumed from the cache (ladder-chain-cache.ts) carries it, and a build that would need the text
 * it stood for stops (build-service-model.ts).
 */
export const DROPPED_COMMENT = '\u0000dropped';

/** What a read finds in a ladder chain besides its ladder rules and affinity rules. */
export type LadderChainFindings = Pick<LadderChainRead, 'masquerade' | 'affinityTimeoutSeconds' | 'unreachableRules' | 'otherComment' | 'ended'>;

/** A fold's state, to resume a fold from (LadderChainFold.resumed). */
export interface LadderFoldState extends LadderChainFindings {
  readonly rules: LadderRule[];
  /** Per SEP chain, its `--rcheck` rules' packets (null without counters) and lines; null when none. */
  readonly affinity: Map<string, { packets: number | null; lines: number[] }> | null;
  /** The fingerprint of `rules`' ladder, when known. */
  readonly fingerprint: string | undefined;
}

/** Shared by every ladder rule without affinity rules (the field is read-only). */
const NO_LINES: readonly number[] = Object.freeze([]);
const NO_RULES: readonly Rule[] = Object.freeze([]);
/** Shared by every ladder without affinity rules. */
const NO_CHAINS: readonly string[] = Object.freeze([]);

function addPackets(total: number | null, rule: Rule): number | null {
  if (rule.counters === null) return total;
  return (total ?? 0) + rule.counters.packets;
}

/**
 * Walks the rules once, in order. kube-proxy (pkg/proxy/iptables/proxier.go, writeServiceToEndpointRules)
 * writes the ClientIP-affinity `--rcheck` rules for every endpoint first, then one `--probability`
 * rule per endpoint with the last one unconditional. Anything after that unconditional jump can
 * never match (real dump 10 pastes the chain twice): it is counted, not used.
 */
export function readLadderChain(chain: Chain | undefined): LadderChainRead {
  const fold = new LadderChainFold();
  // Indexed, not for-of: a parsed read's model runs this before V8 optimises it, and an unoptimised
  // for-of allocates at every step.
  const chainRules = chain === undefined ? NO_RULES : chain.rules;
  for (let i = 0; i < chainRules.length; i++) fold.add(chainRules[i] as Rule);
  return fold.finish();
}

/**
 * readLadderChain one rule at a time: what a parser-side collector folds a chain's rules into as they
 * stream (ladder-chain-collector.ts), so that the dump need not keep them.
 */
export class LadderChainFold {
  private rules: LadderRule[] = [];
  // Created at the first `--rcheck` rule: most services have no affinity, and two Maps per ladder are
  // a good part of the model's allocations on a large cluster.
  private affinity: Map<string, { packets: number | null; lines: number[] }> | null = null;
  private masquerade: MasqueradeRule | null = null;
  private affinityTimeoutSeconds: number | null | undefined = undefined;
  private unreachableRules = 0;
  private otherComment: string | null = null;
  private finished = false;
  private fingerprint: string | undefined = undefined;

  /** A fold that has read what `state` says. */
  static resumed(state: LadderFoldState): LadderChainFold {
    const fold = new LadderChainFold();
    fold.rules = state.rules;
    fold.affinity = state.affinity;
    fold.masquerade = state.masquerade;
    fold.affinityTimeoutSeconds = state.affinityTimeoutSeconds;
    fold.unreachableRules = state.unreachableRules;
    fold.otherComment = state.otherComment;
    fold.finished = state.ended;
    fold.fingerprint = state.fingerprint;
    return fold;
  }

  /** The chain's next rule, in rule order. */
  add(rule: Rule): void {
    // A resumed fold read on (a second run of the chain, restore-style): its ladder may differ.
    this.fingerprint = undefined;
    if (this.finished) {
      this.unreachableRules++;
      return;
    }
    const target = rule.target;
    if (target !== null && isEndpointChain(target)) {
      if (rule.recent !== null && rule.recent.mode === 'rcheck') {
        if (this.affinityTimeoutSeconds === undefined) this.affinityTimeoutSeconds = rule.recent.seconds;
        this.affinity ??= new Map();
        const seen = this.affinity.get(target);
        if (seen === undefined) this.affinity.set(target, { packets: addPackets(null, rule), lines: [rule.line] });
        else {
          seen.packets = addPackets(seen.packets, rule);
          seen.lines.push(rule.line);
        }
        return;
      }
      this.rules.push({
        chain: target,
        probability: rule.probability,
        line: rule.line,
        packets: rule.counters === null ? null : rule.counters.packets,
        affinityPackets: null,
        affinityLines: NO_LINES,
        comment: rule.comment,
      });
      if (!rule.conditional) this.finished = true;
    } else if (target === 'KUBE-MARK-MASQ') {
      // Only the cluster-IP masquerade rule has `-d`; a transitional NodePort masquerade rule
      // (`--dport <nodePort> -j KUBE-MARK-MASQ`) must not be read as the service port.
      if (this.masquerade === null && rule.destination !== null && !rule.destination.negated) {
        this.masquerade = {
          clusterIP: hostAddress(rule.destination.address),
          servicePort: rule.dport,
          protocol: rule.protocol,
          comment: rule.comment,
        };
      } else if (this.otherComment === null && rule.comment !== null) {
        this.otherComment = rule.comment;
      }
    } else if (this.otherComment === null && rule.comment !== null) {
      this.otherComment = rule.comment;
    }
  }

  /** The read of the rules added so far. Call once. */
  finish(): LadderChainRead {
    const { rules, masquerade, affinityTimeoutSeconds, unreachableRules, otherComment, affinity, finished: ended, fingerprint } = this;
    if (affinity === null) return { rules, masquerade, affinityTimeoutSeconds, unreachableRules, otherComment, orphanAffinityChains: NO_CHAINS, ended, fingerprint };
    const orphanAffinityChains: string[] = [];
    // The first ladder rule of each SEP chain gets its affinity rules.
    const byChain = new Map<string, LadderRule>();
    for (const ladderRule of rules) if (!byChain.has(ladderRule.chain)) byChain.set(ladderRule.chain, ladderRule);
    for (const [sep, hit] of affinity) {
      const ladderRule = byChain.get(sep);
      if (ladderRule === undefined) orphanAffinityChains.push(sep);
      else {
        ladderRule.affinityPackets = hit.packets;
        ladderRule.affinityLines = hit.lines;
      }
    }
    return { rules, masquerade, affinityTimeoutSeconds, unreachableRules, otherComment, orphanAffinityChains, ended, fingerprint };
  }
}

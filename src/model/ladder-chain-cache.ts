/**
 * The ladder chains' (KUBE-SVC/SVL/XLB) reads of the last parse, by chain name and content, so that the
 * next parse need not parse the chains kube-proxy left alone: the KUBE-SEP cache's counterpart
 * (endpoint-chain-cache.ts) for the other large part of a dump, ~220k of 868k lines at 20,000
 * services × 10 endpoints, and most of what a parse after a rules change still parsed and held at
 * its peak (their Rule objects, comments and SEP chain names: docs/benchmarks.md).
 *
 * A ladder chain's read is a function of its rules' text but for what a skipped run gives anyway: each
 * rule's line and packet counter. So an entry keeps a template, the read without those: per ladder
 * rule its KUBE-SEP chain, its probability and its position in the run (and where its `--rcheck`
 * affinity rules are), and the chain's other findings. A skipped run's lines and counters
 * (rule-runs.ts HeldRun) complete it into the fold it stands for (LadderChainFold.resumed), which the
 * collector treats as a parsed chain's (a second run continues it, `-F` drops it).
 *
 * Comments. A template keeps the ladder rules' comments as the last model's build left them: the first
 * naming comment, and those of rules whose KUBE-SEP chain had no DNAT target (resolveEndpoint reads
 * the endpoint from the comment only then); the others are DROPPED_COMMENT. 200k comments would be
 * ~10 MiB held between parses. A build that meets a dropped comment whose KUBE-SEP chain now has no
 * DNAT target stops with an error rather than give a wrong endpoint (kube-proxy always writes the
 * DNAT target; a hand-written input can drop it).
 *
 * Entries are recorded only from a chain's single run, parsed cleanly, of consecutive lines, with no
 * rule whose own `-c` counters won over its prefix's, no rule the dump keeps (a pre-1.24 KUBE-XLB's
 * jump to KUBE-SVC) and no orphan affinity rule: the shapes a template reproduces exactly. A run is
 * resumed only when every line has a `[packets:bytes]` prefix: the counters a template takes. Like
 * the KUBE-SEP cache it is a memo, needing no invalidation: each parse makes the next one's from the
 * entries it used and the chains it recorded.
 */
import type { ProbabilityMatch } from '../iptables/types.js';
import type { HeldRun } from '../iptables/rule-runs.js';
import { ChainKeyIndex } from './chain-key-index.js';
import { type LadderChainFindings, type LadderChainRead, LadderChainFold, type LadderRule } from './ladder-chain.js';

/** A ladder chain's read without its lines and counters. */
interface LadderTemplate extends LadderChainFindings {
  readonly chain: string;
  /** Per ladder rule, its KUBE-SEP chain (the model's endpoints hold the same strings). */
  readonly seps: readonly string[];
  /** Per ladder rule; shared by every template with the same texts (kube-proxy's are 1/n, 1/(n-1), …). */
  readonly probabilities: readonly (ProbabilityMatch | null)[];
  /** Per ladder rule, its index in the run; a number: the rules are consecutive from that index. */
  readonly indexes: number | readonly number[];
  /** The first ladder rule's comment, as the build left it. */
  readonly firstComment: string | null;
  /** The later rules' comments as the build left them; one value (most often DROPPED_COMMENT) when they are all that. */
  readonly laterComments: readonly (string | null)[] | string | null;
  /** Per KUBE-SEP chain with `--rcheck` rules, their indexes in the run; null when none. */
  readonly affinity: readonly { readonly sep: string; readonly indexes: readonly number[] }[] | null;
  /** The ladder's fingerprint, as the build computed it: a function of `seps` and `probabilities`. */
  readonly fingerprint: string;
}

const NO_LINES: readonly number[] = Object.freeze([]);

export class LadderChainCache {
  private readonly index: ChainKeyIndex;
  private templates: LadderTemplate[] = [];
  /** Probability arrays by their texts (recording only). */
  private readonly probabilityLists = new Map<string, readonly (ProbabilityMatch | null)[]>();

  constructor(capacity = 1024) {
    this.index = new ChainKeyIndex(capacity);
  }

  get size(): number {
    return this.index.size;
  }

  /** The entry of this name and content, or -1. */
  find(name1: number, name2: number, content1: number, content2: number): number {
    const index = this.index;
    for (let slot = index.first(name1); ; slot = index.next(slot)) {
      const e = index.entryAt(slot);
      if (e < 0 || index.hasKeys(e, name1, name2, content1, content2)) return e;
    }
  }

  /** The chain name of entry `e`. */
  chainOf(e: number): string {
    return (this.templates[e] as LadderTemplate).chain;
  }

  /** The fold that entry `e`'s chain read as, with the lines and counters of `run` (a run of it with the entry's content). */
  resume(e: number, run: HeldRun): LadderChainFold {
    const t = this.templates[e] as LadderTemplate;
    const { lineNumbers, packets } = run;
    const n = t.seps.length;
    const rules: LadderRule[] = new Array<LadderRule>(n);
    for (let i = 0; i < n; i++) {
      const at = typeof t.indexes === 'number' ? t.indexes + i : (t.indexes[i] as number);
      rules[i] = {
        chain: t.seps[i] as string,
        probability: t.probabilities[i] as ProbabilityMatch | null,
        line: lineNumbers[at] as number,
        packets: packets[at] as number,
        affinityPackets: null,
        affinityLines: NO_LINES,
        comment: i === 0 ? t.firstComment : t.laterComments === null || typeof t.laterComments === 'string' ? t.laterComments : (t.laterComments[i - 1] as string | null),
      };
    }
    let affinity: Map<string, { packets: number | null; lines: number[] }> | null = null;
    if (t.affinity !== null) {
      affinity = new Map();
      for (const { sep, indexes } of t.affinity) {
        let sum = 0;
        for (const at of indexes) sum += packets[at] as number;
        affinity.set(sep, { packets: sum, lines: indexes.map((at) => lineNumbers[at] as number) });
      }
    }
    return LadderChainFold.resumed({
      rules,
      affinity,
      masquerade: t.masquerade,
      affinityTimeoutSeconds: t.affinityTimeoutSeconds,
      unreachableRules: t.unreachableRules,
      otherComment: t.otherComment,
      ended: t.ended,
      fingerprint: t.fingerprint,
    });
  }

  /** Takes `from`'s entry `e` into this cache. */
  copy(from: LadderChainCache, e: number): void {
    this.templates[this.index.addFrom(from.index, e)] = from.templates[e] as LadderTemplate;
  }

  /**
   * Records `read` (its build is done with it: its comments are as the build left them), the read of
   * `chain`'s single run whose first line was `firstLine`, for the next parse; not a read of a shape a
   * template does not reproduce (an orphan affinity rule). `fingerprint`: its ladder's.
   */
  record(name1: number, name2: number, content1: number, content2: number, chain: string, firstLine: number, read: LadderChainRead, fingerprint: string): void {
    if (read.orphanAffinityChains.length > 0) return;
    const rules = read.rules;
    const n = rules.length;
    const seps = new Array<string>(n);
    const texts = new Array<string>(n);
    let consecutive = true;
    let sameLater = true;
    const affinity: { sep: string; indexes: number[] }[] = [];
    for (let i = 0; i < n; i++) {
      const rule = rules[i] as LadderRule;
      seps[i] = rule.chain;
      texts[i] = rule.probability === null ? '' : rule.probability.text;
      if (i > 0 && rule.line !== (rules[i - 1] as LadderRule).line + 1) consecutive = false;
      if (i > 1 && rule.comment !== (rules[1] as LadderRule).comment) sameLater = false;
      if (rule.affinityLines.length > 0) affinity.push({ sep: rule.chain, indexes: rule.affinityLines.map((line) => line - firstLine) });
    }
    const key = texts.join(' ');
    let probabilities = this.probabilityLists.get(key);
    if (probabilities === undefined) this.probabilityLists.set(key, (probabilities = rules.map((rule) => rule.probability)));
    const first = rules[0];
    this.add(name1, name2, content1, content2, {
      chain,
      seps,
      probabilities,
      indexes: first === undefined ? 0 : consecutive ? first.line - firstLine : rules.map((rule) => rule.line - firstLine),
      firstComment: first === undefined ? null : first.comment,
      laterComments: n < 2 ? null : sameLater ? (rules[1] as LadderRule).comment : rules.slice(1).map((rule) => rule.comment),
      affinity: affinity.length === 0 ? null : affinity,
      masquerade: read.masquerade,
      affinityTimeoutSeconds: read.affinityTimeoutSeconds,
      unreachableRules: read.unreachableRules,
      otherComment: read.otherComment,
      ended: read.ended,
      fingerprint,
    });
  }

  /** The parse that makes this cache is done recording. */
  doneRecording(): void {
    this.probabilityLists.clear();
  }

  /** Forgets every entry (a template proved inexact: the next parse reads every ladder chain). */
  clear(): void {
    this.templates = [];
    this.index.clear();
  }

  private add(name1: number, name2: number, content1: number, content2: number, template: LadderTemplate): void {
    this.templates[this.index.add(name1, name2, content1, content2)] = template;
  }
}

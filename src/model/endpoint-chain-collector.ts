/**
 * Streaming form of readEndpointChain: folds nat KUBE-SEP-* rules as the parser reads them, so the dump
 * need not retain them (about half of a large dump's rules, two per endpoint), nor the chains at all.
 * The collector is the DumpParser's options (`new DumpParser(collector)`); then pass `finish(dump)` to
 * buildServiceModel as `endpointChains`. The model is the same as from a dump that kept every rule
 * (test/model/endpoint-chain-collector.test.ts: every fixture and real dump).
 *
 * The parser tells the collector about the folded chains' rules and declarations: a declaration after
 * rules replaces them (a pasted chain listed again, or declared again in a second `*nat` block). Given
 * only `keepChain` + `onRule`, the parser keeps the declarations and finish() reads them from the
 * dump's `declaredAt`. Not followed, as the parser does not report them (restore-style input only,
 * never iptables-save): a KUBE-SEP chain flushed (`-F`) or deleted (`-X`) after its rules, or one whose
 * rules precede a second `*nat` block that does not declare it; and the parser's "chain … declared
 * again" warning, which it gives only for a chain holding rules, is absent for a KUBE-SEP chain.
 */
import type { ParsedDump, Rule } from '../iptables/types.js';
import { isEndpointChain } from './chain-names.js';
import { type EndpointChainInfo, foldEndpointRule, type MutableEndpointChainInfo } from './endpoint-chain.js';

/**
 * The fold of one run of consecutive lines of a chain's rules. A chain's rules are normally one run;
 * a new run starts when other lines come between (a chain listed again), so that a later declaration
 * of the chain, which drops its earlier rules, can be honoured in finish().
 */
interface Run extends MutableEndpointChainInfo {
  /** Line of the run's first rule, and of its last. */
  readonly start: number;
  last: number;
  /** The chain's previous run, if any. */
  readonly earlier: Run | null;
}

export interface EndpointChainCollector {
  /** For DumpParserOptions.keepChain: drops the rules this collector folds (nat KUBE-SEP-*). */
  readonly keepChain: (table: string, chain: string) => boolean;
  /** For DumpParserOptions.onRule. */
  readonly onRule: (table: string, rule: Rule) => void;
  /** For DumpParserOptions.onDroppedDeclaration: the folded chains' declarations stay out of the dump. */
  readonly onDroppedDeclaration: (table: string, chain: string, line: number) => void;
  /**
   * What readEndpointChain would give for each folded chain of the finished dump (its four fields; an
   * entry may carry the fold's bookkeeping too). Chains without an entry (no rules, or only rules an
   * earlier declaration replaced) read as the dump's chain does. The collector is then ready for the
   * next dump.
   */
  finish(dump: ParsedDump): Map<string, EndpointChainInfo>;
}

function folds(table: string, chain: string): boolean {
  return table === 'nat' && isEndpointChain(chain);
}

export function createEndpointChainCollector(): EndpointChainCollector {
  let runs = new Map<string, Run>();
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
  // onRule: the last answer and run skip the prefix test and the Map for all but a chain's first rule.
  let lastChain = '';
  let lastFolds = false;
  let lastRun: Run | null = null;
  let lastTable = '';
  /** Some chain's rules came in more than one run (restore-style input, a chain listed twice). */
  let relisted = false;
  /**
   * Line of a folded chain's last declaration that came after rules of it. Declarations before any
   * rule of their chain replace nothing: iptables-save declares every chain first, so this stays empty.
   */
  let redeclaredAt = new Map<string, number>();
  const decide = (table: string, chain: string): boolean => {
    if (chain !== lastChain || table !== lastTable) {
      lastChain = chain;
      lastTable = table;
      lastFolds = folds(table, chain);
      lastRun = null;
    }
    return lastFolds;
  };
  return {
    keepChain: (table, chain) => !decide(table, chain),
    onRule(table, rule) {
      if (!decide(table, rule.chain)) return;
      let run = lastRun;
      if (run === null || rule.line !== run.last + 1) {
        const known = runs.get(rule.chain);
        if (known === undefined || rule.line !== known.last + 1) {
          run = { dnat: null, hairpinIP: null, comment: null, protocol: null, start: rule.line, last: rule.line, earlier: known ?? null };
          if (known !== undefined) relisted = true;
          runs.set(rule.chain, run);
        } else {
          run = known;
        }
        lastRun = run;
      }
      foldEndpointRule(run, rule, intern, internProtocol);
      run.last = rule.line;
    },
    onDroppedDeclaration(table, chain, line) {
      // runs.size first: while no folded rule has been read (all of iptables-save's declarations), no lookup.
      if (runs.size > 0 && folds(table, chain) && runs.has(chain)) redeclaredAt.set(chain, line);
    },
    finish(dump) {
      const collected = runs;
      const wholeChains = !relisted;
      const redeclared = redeclaredAt;
      runs = new Map();
      redeclaredAt = new Map();
      strings = new Map();
      lastProtocol = '';
      relisted = false;
      lastChain = '';
      lastTable = '';
      lastRun = null;
      const nat = dump.tables.get('nat');
      // iptables-save declares every chain before the first rule: then no declaration can replace a
      // run, and the per-chain check below (a Map lookup per endpoint) is skipped.
      let lastDeclaration = -1;
      let firstRun = Infinity;
      // forEach, not for-of: this runs once per dump, before V8 optimises it, and an unoptimised for-of
      // over a Map allocates a result object per entry (200k chains on a large cluster).
      nat?.chains.forEach((chain) => {
        if (chain.declaredAt !== null && chain.declaredAt > lastDeclaration) lastDeclaration = chain.declaredAt;
      });
      collected.forEach((run) => {
        let first: Run = run;
        while (first.earlier !== null) first = first.earlier;
        if (first.start < firstRun) firstRun = first.start;
      });
      const declaredBefore = lastDeclaration < firstRun && redeclared.size === 0;
      // The iptables-save case: each chain's rules are one run and no declaration follows them. The
      // runs serve as the infos as they are (the model reads the four fields), instead of 200k copies
      // in a second Map on a large cluster.
      if (declaredBefore && wholeChains) return collected;
      const result = new Map<string, EndpointChainInfo>();
      for (const [chain, latest] of collected) {
        // A declaration (`:CHAIN`, `-N`) after rules replaces them: only runs after it count. It is the
        // collector's own record, or the dump's when the parser kept the declarations.
        const declaredAt = declaredBefore ? 0 : Math.max(redeclared.get(chain) ?? 0, nat?.chains.get(chain)?.declaredAt ?? 0);
        if (latest.earlier === null) {
          // A fresh object of just the four fields: the run's bookkeeping is not kept for the model.
          const { dnat, hairpinIP, comment, protocol } = latest;
          if (latest.start > declaredAt) result.set(chain, { dnat, hairpinIP, comment, protocol });
          continue;
        }
        const kept: Run[] = [];
        for (let run: Run | null = latest; run !== null && run.start > declaredAt; run = run.earlier) kept.push(run);
        if (kept.length === 0) continue;
        // Runs are folds of consecutive rules: the first value found, in line order, wins.
        const info = { dnat: null as string | null, hairpinIP: null as string | null, comment: null as string | null, protocol: null as string | null };
        for (let i = kept.length - 1; i >= 0; i--) {
          const run = kept[i] as Run;
          info.dnat ??= run.dnat;
          info.hairpinIP ??= run.hairpinIP;
          info.comment ??= run.comment;
          info.protocol ??= run.protocol;
        }
        if (info.dnat !== null) info.hairpinIP = null;
        result.set(chain, info);
      }
      return result;
    },
  };
}

/**
 * Streaming form of readEndpointChain: folds nat KUBE-SEP-* rules as the parser reads them, so the dump
 * need not retain them (about half of a large dump's rules, two per endpoint). Wire it into a
 * DumpParser with `keepChain` + `onRule`, then pass `finish(dump)` to buildServiceModel as
 * `endpointChains`. The model is the same as from a dump that kept every rule (test/model/endpoint-
 * chain-collector.test.ts: every fixture and real dump).
 *
 * The parser tells the collector about rules only, not about declarations, `-F`/`-X` or a table
 * listed again; the dump's `declaredAt` shows the last declaration, which covers iptables-save output
 * and a pasted chain declared again. Not followed (restore-style input only, never iptables-save):
 * a KUBE-SEP chain flushed or deleted after its rules, or one whose rules precede a second `*nat`
 * block that does not declare it; and the parser's "chain … declared again" warning, which it gives
 * only for a chain holding rules, is absent for a KUBE-SEP chain.
 */
import type { ParsedDump, Rule } from '../iptables/types.js';
import { isEndpointChain } from './chain-names.js';
import { type EndpointChainInfo, hostAddress } from './endpoint-chain.js';

/**
 * The fold of one run of consecutive lines of a chain's rules. A chain's rules are normally one run;
 * a new run starts when other lines come between (a chain listed again), so that a later declaration
 * of the chain, which drops its earlier rules, can be honoured in finish().
 */
interface Run {
  dnat: string | null;
  hairpinIP: string | null;
  comment: string | null;
  protocol: string | null;
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
  /**
   * What readEndpointChain would give for each folded chain of the finished dump. Chains without an
   * entry (no rules, or only rules an earlier declaration replaced) read as the dump's chain does.
   */
  finish(dump: ParsedDump): Map<string, EndpointChainInfo>;
}

function folds(table: string, chain: string): boolean {
  return table === 'nat' && isEndpointChain(chain);
}

/**
 * Same decisions, same order as readEndpointChain's loop. Comments and protocols repeat across the
 * chains (one comment per service port, not per endpoint): `intern` keeps one string of each.
 */
function fold(run: Run, rule: Rule, intern: (text: string) => string): void {
  if (run.comment === null && rule.comment !== null) run.comment = intern(rule.comment);
  if (rule.target === 'DNAT') {
    if (run.protocol === null && rule.protocol !== null) run.protocol = intern(rule.protocol);
    if (run.dnat === null && !rule.lossy && rule.dnatDestination !== null) run.dnat = rule.dnatDestination;
  } else if (rule.target === 'KUBE-MARK-MASQ' && run.hairpinIP === null && rule.source !== null && !rule.source.negated) {
    run.hairpinIP = hostAddress(rule.source.address);
  }
}

export function createEndpointChainCollector(): EndpointChainCollector {
  let runs = new Map<string, Run>();
  let strings = new Map<string, string>();
  const intern = (text: string): string => {
    const known = strings.get(text);
    if (known !== undefined) return known;
    strings.set(text, text);
    return text;
  };
  return {
    keepChain: (table, chain) => !folds(table, chain),
    onRule(table, rule) {
      if (!folds(table, rule.chain)) return;
      let run = runs.get(rule.chain);
      if (run === undefined || rule.line !== run.last + 1) {
        run = { dnat: null, hairpinIP: null, comment: null, protocol: null, start: rule.line, last: rule.line, earlier: run ?? null };
        runs.set(rule.chain, run);
      }
      fold(run, rule, intern);
      run.last = rule.line;
    },
    finish(dump) {
      const nat = dump.tables.get('nat');
      const result = new Map<string, EndpointChainInfo>();
      for (const [chain, latest] of runs) {
        // A declaration (`:CHAIN`, `-N`) after rules replaces them: only runs after it count.
        const declaredAt = nat?.chains.get(chain)?.declaredAt ?? null;
        if (latest.earlier === null) {
          // A fresh object of just the four fields: the run's bookkeeping is not kept for the model.
          const { dnat, hairpinIP, comment, protocol } = latest;
          if (declaredAt === null || latest.start > declaredAt) result.set(chain, { dnat, hairpinIP, comment, protocol });
          continue;
        }
        const kept: Run[] = [];
        for (let run: Run | null = latest; run !== null && (declaredAt === null || run.start > declaredAt); run = run.earlier) kept.push(run);
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
        result.set(chain, info);
      }
      runs = new Map();
      strings = new Map();
      return result;
    },
  };
}

// Test helper: ParsedDump literals without going through the parser.
import type { Chain, ParsedDump, Rule, Table } from '../../src/iptables/types.js';

export type RuleSpec = Partial<Omit<Rule, 'chain' | 'line'>> & { readonly chain: string };

let nextLine = 1;

/** A Rule with every field defaulted; `conditional` is inferred from the matches given. */
export function rule(spec: RuleSpec): Rule {
  const conditional =
    spec.conditional ??
    (spec.source != null ||
      spec.destination != null ||
      spec.protocol != null ||
      spec.dport != null ||
      spec.probability != null ||
      spec.recent != null);
  return {
    line: nextLine++,
    counters: null,
    source: null,
    destination: null,
    protocol: null,
    dport: null,
    comment: null,
    probability: null,
    recent: null,
    target: null,
    isGoto: false,
    dnatDestination: null,
    lossy: false,
    ...spec,
    conditional,
  };
}

/** `-m statistic --mode random --probability text`. */
export function probability(text: string): Rule['probability'] {
  return { value: Number(text), text };
}

export function dest(address: string): Rule['destination'] {
  return { address, negated: false };
}

export function counters(packets: number): Rule['counters'] {
  return { packets, bytes: packets * 60 };
}

/** A dump whose nat table holds these rules (chains created in first-mention order) plus empty declared chains. */
export function natDump(rules: readonly Rule[], declared: readonly string[] = []): ParsedDump {
  const chains = new Map<string, Chain>();
  const chainOf = (name: string): Chain => {
    let c = chains.get(name);
    if (c === undefined) {
      c = { name, declaredAt: 1, policyCounters: null, rules: [] };
      chains.set(name, c);
    }
    return c;
  };
  for (const name of declared) chainOf(name);
  for (const r of rules) chainOf(r.chain).rules.push(r);
  const nat: Table = { name: 'nat', chains };
  return {
    tables: new Map([['nat', nat]]),
    skipped: [],
    hasCounters: rules.some((r) => r.counters !== null),
    lineCount: nextLine,
    truncated: false,
    warnings: [],
  };
}

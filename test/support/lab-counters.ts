/** Reads per-endpoint counters out of `iptables-save -c` text with the project parser, for comparing against the lab's ground truth. */
import { parseDump } from '../../src/iptables/parse-dump.js';
import type { Chain, ParsedDump } from '../../src/iptables/types.js';

function natChains(dump: ParsedDump): Map<string, Chain> {
  const nat = dump.tables.get('nat');
  if (nat === undefined) throw new Error('no nat table in the dump');
  return nat.chains;
}

/** The endpoint a KUBE-SEP chain DNATs to. */
function sepEndpoint(chains: Map<string, Chain>, sep: string): string {
  const rule = chains.get(sep)?.rules.find((r) => r.dnatDestination !== null);
  if (rule?.dnatDestination == null) throw new Error(`${sep} has no DNAT rule`);
  return rule.dnatDestination;
}

/**
 * New connections per endpoint that one ladder chain (KUBE-SVC/SVL/XLB) sent: the packet counters of
 * every rule jumping to a KUBE-SEP chain (random and affinity rules), keyed by DNAT destination.
 */
export function ladderCounts(saveText: string, ladder: string): Map<string, number> {
  const chains = natChains(parseDump(saveText));
  const chain = chains.get(ladder);
  if (chain === undefined) throw new Error(`chain ${ladder} not in the dump`);
  const out = new Map<string, number>();
  for (const rule of chain.rules) {
    if (rule.target === null || !rule.target.startsWith('KUBE-SEP-')) continue;
    const endpoint = sepEndpoint(chains, rule.target);
    out.set(endpoint, (out.get(endpoint) ?? 0) + (rule.counters?.packets ?? 0));
  }
  return out;
}

/** Packet counter of each SEP chain's DNAT rule, keyed by SEP chain name. */
export function dnatCounts(saveText: string): Map<string, { endpoint: string; packets: number }> {
  const chains = natChains(parseDump(saveText));
  const out = new Map<string, { endpoint: string; packets: number }>();
  for (const [name, chain] of chains) {
    if (!name.startsWith('KUBE-SEP-')) continue;
    const rule = chain.rules.find((r) => r.dnatDestination !== null);
    if (rule?.dnatDestination != null) out.set(name, { endpoint: rule.dnatDestination, packets: rule.counters?.packets ?? 0 });
  }
  return out;
}

/** Rule lines of a save text without counters and headers, sorted: for comparing rule sets. */
export function ruleLines(saveText: string): string[] {
  return saveText
    .split('\n')
    .map((l) => l.replace(/^\[\d+:\d+\] /, ''))
    .filter((l) => l.startsWith('-A '))
    .sort();
}

/** Map → plain sorted object, for readable assertion diffs. */
export function toObject(counts: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries([...counts].filter(([, v]) => v !== 0).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The intermediate form of a generated ruleset: iptables-restore lines tagged with table, chain and owning Service. */

export type TableName = 'mangle' | 'filter' | 'nat';

/**
 * One line of kube-proxy's restore input. `args` are the tokens after `-A CHAIN`, exactly as
 * proxier.go writes them (a comment kube-proxy wraps in `"..."` keeps its quotes in the token).
 */
export interface RulesetLine {
  readonly table: TableName;
  readonly kind: 'chain' | 'rule';
  readonly chain: string;
  /**
   * `namespace/name` of the Service whose per-service chains (SVC/SVL/EXT/FW/XLB/SEP) hold this line;
   * null for the shared chains (KUBE-SERVICES, KUBE-NODEPORTS, KUBE-POSTROUTING, the filter table ...)
   * that kube-proxy rewrites on every sync.
   */
  readonly owner: string | null;
  readonly args: readonly string[];
  /** Built-in chain policy (`ACCEPT`) for `:PREROUTING ACCEPT [0:0]` lines; absent for user chains. */
  readonly policy?: string;
}

/** Collects lines in the order kube-proxy writes them (its natChains/natRules line buffers). */
export class RulesetBuilder {
  readonly lines: RulesetLine[] = [];
  private readonly declared = new Set<string>();

  chain(table: TableName, chain: string, owner: string | null = null, policy?: string): void {
    const key = `${table}/${chain}`;
    if (this.declared.has(key)) return;
    this.declared.add(key);
    this.lines.push(policy === undefined ? { table, kind: 'chain', chain, owner, args: [] } : { table, kind: 'chain', chain, owner, args: [], policy });
  }

  rule(table: TableName, chain: string, owner: string | null, ...args: (string | readonly string[])[]): void {
    this.lines.push({ table, kind: 'rule', chain, owner, args: args.flat() });
  }
}

/** `-m comment --comment X` as kube-proxy appends it; callers pass X already quoted when proxier.go quotes it. */
export function commentArgs(text: string): string[] {
  return ['-m', 'comment', '--comment', text];
}

/** `"text"`: the literal quoting proxier.go uses in `fmt.Sprintf(`"%s cluster IP"`, ...)`. */
export function quoted(text: string): string {
  return `"${text}"`;
}

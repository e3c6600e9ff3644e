/**
 * The per-chain folds of a collector that folds rules as the parser streams them (the KUBE-SEP chains,
 * endpoint-chain-collector.ts; the ladder chains' jumps, ladder-chain-collector.ts): one fold per
 * folded nat chain, made at its first rule and dropped when the parser says that chain's rules read so
 * far stop counting (DumpParserOptions.onRulesReplaced: declared again, `-F`, `-X`; every chain when
 * the table is listed again). A fold then covers the rules the dump's chain would hold.
 */
export class ChainFolds<F> {
  private byChain = new Map<string, F>();
  // A chain's rules come one after another, and the parser asks about a rule just after onRule saw it:
  // the last chain's answer and fold skip the name test and the Map for all but a chain's first rule.
  private lastTable = '';
  private lastChain = '';
  private lastFolded = false;
  private lastFold: F | null = null;

  /** `folded`: whether a nat chain of this name is folded; `create`: a new chain's fold (its first rule is next). */
  constructor(
    private readonly folded: (chain: string) => boolean,
    private readonly create: (chain: string) => F,
  ) {}

  /** Whether the chain's rules are folded. */
  folds(table: string, chain: string): boolean {
    if (chain !== this.lastChain || table !== this.lastTable) {
      this.lastTable = table;
      this.lastChain = chain;
      this.lastFolded = table === 'nat' && this.folded(chain);
      this.lastFold = null;
    }
    return this.lastFolded;
  }

  /** The fold of the chain a rule is in (made at its first rule); null when the chain is not folded. */
  foldOf(table: string, chain: string): F | null {
    if (!this.folds(table, chain)) return null;
    let fold = this.lastFold ?? this.byChain.get(chain);
    if (fold === undefined) this.byChain.set(chain, (fold = this.create(chain)));
    this.lastFold = fold;
    return fold;
  }

  /** Sets a nat chain's fold (one resumed from a cache, for a run the parser skipped). */
  put(chain: string, fold: F): void {
    this.byChain.set(chain, fold);
    this.lastChain = '';
    this.lastFold = null;
  }

  /** The fold the last rule went into (null before any, or after onRulesReplaced). */
  get current(): F | null {
    return this.lastFold;
  }

  /** For DumpParserOptions.onRulesReplaced. */
  rulesReplaced(table: string, chain: string | null): void {
    if (table !== 'nat') return;
    // Every declaration of a folded chain comes here too; iptables-save's come before any rule, while
    // the Map is still empty.
    if (chain === null) this.byChain.clear();
    else this.byChain.delete(chain);
    this.lastFold = null;
  }

  /** The folds of the finished dump, by chain; then ready for the next dump. */
  take(): Map<string, F> {
    const taken = this.byChain;
    this.byChain = new Map();
    this.lastTable = '';
    this.lastChain = '';
    this.lastFolded = false;
    this.lastFold = null;
    return taken;
  }
}

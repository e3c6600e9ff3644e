/** Parsed iptables-save / `iptables -S -v` / iptables-restore text: tables, chains, rules. */

export type IpFamily = 'ipv4' | 'ipv6';

/** A rule's or chain policy's `[packets:bytes]` (or inline `-c P B`). On nat rules: new connections. */
export interface Counters {
  readonly packets: number;
  readonly bytes: number;
}

/** `-s`/`-d` match; `negated` for `! -s`. The address is kept as printed (`10.0.0.1/32`, `x.x.x.x/32`). */
export interface AddressMatch {
  readonly address: string;
  readonly negated: boolean;
}

/** `-m statistic --mode random --probability P`: `text` exactly as printed, `value` parsed. */
export interface ProbabilityMatch {
  readonly value: number;
  readonly text: string;
}

/** `-m recent`: `rcheck` marks a ClientIP session-affinity lookup, `set` the affinity record in a SEP chain. */
export interface RecentMatch {
  readonly mode: 'rcheck' | 'update' | 'set' | 'remove' | 'other';
  readonly name: string | null;
  readonly seconds: number | null;
}

/**
 * One `-A CHAIN ...` rule with the fields the exporter uses. Unknown flags are ignored (lenient);
 * `tokens` is not kept to save memory on large dumps.
 */
export interface Rule {
  /** 1-based line number in the input. */
  readonly line: number;
  readonly chain: string;
  readonly counters: Counters | null;
  readonly source: AddressMatch | null;
  readonly destination: AddressMatch | null;
  /** `-p tcp|udp|sctp` lower-cased, null when absent. */
  readonly protocol: string | null;
  /** `--dport N` (from `-m tcp|udp|sctp` or multiport with one port), null when absent. */
  readonly dport: number | null;
  /** Concatenation of all `--comment` values (kube-proxy writes at most one), unquoted. */
  readonly comment: string | null;
  readonly probability: ProbabilityMatch | null;
  readonly recent: RecentMatch | null;
  /** True when the rule has any match that makes it conditional (anything but comment/counters). */
  readonly conditional: boolean;
  /** `-j X` or `-g X` target, null when the rule has no target. */
  readonly target: string | null;
  readonly isGoto: boolean;
  /** `--to-destination` of a DNAT target, as printed (`10.1.2.3:80`, `[fd00::1]:80`). */
  readonly dnatDestination: string | null;
  /** The DNAT target was printed in a form this iptables-save could not decode (`DNAT [unsupported revision]`). */
  readonly lossy: boolean;
}

export interface Chain {
  readonly name: string;
  /** Line of the `:NAME` / `-N NAME` declaration, null when only rules mention it. */
  readonly declaredAt: number | null;
  /** Built-in chain policy counters (`:PREROUTING ACCEPT [p:b]`); null for user chains. */
  readonly policyCounters: Counters | null;
  readonly rules: Rule[];
}

export interface Table {
  readonly name: string;
  readonly chains: Map<string, Chain>;
}

/** Why a line was not used. Stable strings: they are metric label values and JSON output. */
export type SkipReason =
  | 'not-iptables' // prose, shell prompt, `...`, anything that is not iptables syntax
  | 'malformed-rule' // `-A` line that cannot be tokenised (unbalanced quote, missing chain, bad counters)
  | 'malformed-chain' // bad `:CHAIN POLICY [p:b]` header
  | 'lossy-rule' // decoded lossily by an iptables-save older than the rules' writer
  | 'unsupported-command'; // `-I`, `-D`, `-F`, `-X`, `-P` ... in restore input

export interface SkippedLine {
  readonly line: number;
  readonly reason: SkipReason;
  /** First 120 characters of the line. */
  readonly excerpt: string;
}

export interface ParsedDump {
  readonly tables: Map<string, Table>;
  readonly skipped: SkippedLine[];
  /** True when at least one rule carried counters. */
  readonly hasCounters: boolean;
  readonly lineCount: number;
  /** The input ended inside a `*table` block (no COMMIT): the dump was cut short. */
  readonly truncated: boolean;
  /** Notes that are not errors: `# Warning: iptables-legacy tables present`, implicit table, duplicate table block. */
  readonly warnings: string[];
}

/** The service model: per service port, the load-balancing ladder(s) a node programs and their endpoints. */
import type { IpFamily, SkippedLine } from '../iptables/types.js';

/** `cluster` for a KUBE-SVC ladder (all endpoints), `local` for KUBE-SVL / KUBE-XLB (this node's endpoints). */
export type Policy = 'cluster' | 'local';

/** kube-proxy's ServicePortName: `namespace/name:port`; `port` is '' for an unnamed port. */
export interface ServicePortName {
  readonly namespace: string;
  readonly service: string;
  readonly port: string;
}

export interface LadderEndpoint {
  /** `ip:port` or `[v6]:port` from the SEP chain's DNAT target (or hairpin rule, or comment); null when unknown. */
  readonly endpoint: string | null;
  /** KUBE-SEP-* chain the ladder jumps to. */
  readonly chain: string;
  /** `--probability` as printed in the rule, parsed; null for the final unconditional rule. */
  readonly probability: number | null;
  /** Share of the ladder's random choices this rule receives: p_i * prod_{j<i}(1 - p_j). */
  readonly programmedRatio: number;
  /** Uniform share 1/n over the endpoints in this ladder. */
  readonly expectedRatio: number;
  /** New connections sent to this endpoint by this ladder (random jump + affinity jumps); null without counters. */
  readonly connections: number | null;
  /** The subset of `connections` routed by ClientIP-affinity (`-m recent --rcheck`) rules; null without counters or affinity. */
  readonly affinityConnections: number | null;
  /** Line of the ladder rule that jumps to this endpoint. */
  readonly line: number;
}

export interface Ladder {
  /** Unique within a sample: `${ipFamily}/${chain}`. */
  readonly key: string;
  /** KUBE-SVC-*, KUBE-SVL-* or (pre-1.24) KUBE-XLB-*. */
  readonly chain: string;
  readonly policy: Policy;
  readonly ipFamily: IpFamily;
  /** null when neither comments nor recomputed chain names identify the service port. */
  readonly name: ServicePortName | null;
  /** tcp | udp | sctp, null when unknown. */
  readonly protocol: string | null;
  readonly clusterIP: string | null;
  readonly servicePort: number | null;
  readonly nodePort: number | null;
  readonly externalIPs: readonly string[];
  readonly loadBalancerIPs: readonly string[];
  /** ClientIP session affinity: present when the ladder has `-m recent --rcheck` rules. */
  readonly sessionAffinity: { readonly timeoutSeconds: number | null } | null;
  /** Reachable endpoints in rule order. Rules after an unconditional jump are not included. */
  readonly endpoints: readonly LadderEndpoint[];
  /** Sum of endpoint connections; null without counters. */
  readonly connections: number | null;
  /**
   * Identity of the ladder's membership and probabilities (SEP chains + printed probabilities, in order;
   * a 64-bit hash of them, ladder-fingerprint.ts). A change means kube-proxy rewrote the chain with
   * different rules (its counters restarted at zero). Only compared, never shown.
   */
  readonly fingerprint: string;
  /** Rules after the first unconditional jump (duplicate pastes, hand edits): counted, never used. */
  readonly unreachableRules: number;
}

export interface ServiceModel {
  readonly ipFamily: IpFamily;
  readonly ladders: readonly Ladder[];
  readonly skipped: readonly SkippedLine[];
  readonly hasCounters: boolean;
  readonly warnings: readonly string[];
  /**
   * Only on a refreshed read's model (model/counter-refresh/refreshed-model.ts) and on a model built
   * with `reuseLadders` (a parse after a rules change), and not enumerable: its counters as arrays. The analysis reads these and never `ladders`, which such a model builds
   * on first read (200,000 endpoint objects at 20,000 services × 10 endpoints).
   */
  readonly counters?: ModelCounters;
}

/**
 * A model's counters as arrays, per endpoint in model order (ladders, then endpoints), over the
 * ladders of the parsed read they were refreshed from. Those ladders carry the model's structure;
 * their own counter and line fields are an earlier read's, so read counters and lines from here.
 */
export interface ModelCounters {
  readonly ladders: readonly Ladder[];
  /** `LadderEndpoint.connections` of each endpoint. */
  readonly connections: Float64Array;
  /** `LadderEndpoint.affinityConnections` of each endpoint; 0 where its ladder has no affinity rules (null there). */
  readonly affinityConnections: Float64Array;
  /** Per ladder: 1 when its endpoints' `affinityConnections` are numbers, 0 when null. */
  readonly hasAffinity: Uint8Array;
  /**
   * `LadderEndpoint.line` of each endpoint. The ladders' own may be an earlier output's: a parse after
   * a rules change keeps the last model's Ladder objects where only counters and lines moved
   * (model/ladder-reuse.ts).
   */
  readonly lines: Int32Array;
}

/** One immutable snapshot of everything /metrics and `report` show; swapped in whole after each sample. */
import type { AnalysisResult } from './analysis/types.js';
import type { ProxyMode } from './conntrack/config.js';
import type { ConntrackSnapshot } from './conntrack/types.js';
import type { IpFamily, SkipReason, SkippedLine } from './iptables/types.js';
import type { KubeSnapshot } from './kube/types.js';

export type SampleStage = 'save' | 'parse' | 'model' | 'analysis' | 'render';

/**
 * How a family's iptables output was read: `parsed` (parsed and modelled), `refreshed` (rules unchanged
 * since the last parse: only the counters were read into its model), `reparsed` (a counters-only read
 * found changed rules, so the output was read again and parsed).
 */
export type ReadKind = 'parsed' | 'refreshed' | 'reparsed';

export interface FamilySample {
  readonly ipFamily: IpFamily;
  /** `legacy` or `nft` for a live node, `file` for --source.file. */
  readonly backend: 'legacy' | 'nft' | 'file';
  readonly ok: boolean;
  readonly error: string | null;
  readonly skipped: readonly SkippedLine[];
  readonly warnings: readonly string[];
  readonly outputBytes: number;
  readonly durationSeconds: number;
  /** The kube-proxy mode whose rules this family's sample read (`--proxy.mode`); absent = iptables. */
  readonly proxyMode?: ProxyMode;
}

export interface Snapshot {
  /** Unix seconds of the last successful sample; null before the first one. */
  readonly lastSuccessTimestamp: number | null;
  /** Unix seconds when this snapshot was built. */
  readonly timestamp: number;
  /** The last sample succeeded for every family and the data is not stale. */
  readonly up: boolean;
  /** The data is older than --sample.max-age: ladder series are withheld. */
  readonly stale: boolean;
  readonly sampleDurationSeconds: number;
  readonly sampleIntervalSeconds: number;
  readonly families: readonly FamilySample[];
  readonly analysis: AnalysisResult | null;
  /** Cumulative since start. */
  readonly errorsTotal: Readonly<Record<SampleStage, number>>;
  readonly resetsTotal: number;
  readonly skippedTotal: Readonly<Partial<Record<SkipReason, number>>>;
  readonly samplesTotal: number;
  /** Successful iptables reads per IP family and kind, cumulative since start; absent where no sampler counts them. */
  readonly readsTotal?: Readonly<Partial<Record<IpFamily, Readonly<Record<ReadKind, number>>>>>;
  /** The Kubernetes API side; absent or null when enrichment is not wired (report, tests). */
  readonly kube?: KubeSnapshot | null;
  /** The last conntrack scan (`--conntrack.enabled`); absent or null when conntrack is off. */
  readonly conntrack?: ConntrackSnapshot | null;
}

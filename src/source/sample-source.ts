/** The contract between a source (live node or saved dump) and the sampler: one read per family per sample. */
import type { ProxyMode } from '../conntrack/config.js';
import type { IpFamily, ParsedDump } from '../iptables/types.js';
import type { FoldedChains } from '../model/chain-folding.js';
import type { ServiceModel } from '../model/types.js';
import type { ReadKind, SampleStage } from '../snapshot.js';

export type { ReadKind } from '../snapshot.js';

interface FamilyReadBase {
  readonly ipFamily: IpFamily;
  readonly backend: 'legacy' | 'nft' | 'file';
  /** The command run, or the file read. */
  readonly command: string;
  readonly outputBytes: number;
  readonly durationSeconds: number;
  /** The kube-proxy mode whose rules were read; absent = iptables. */
  readonly proxyMode?: ProxyMode;
}

export interface FamilyReadOk extends FamilyReadBase {
  readonly ok: true;
  readonly dump: ParsedDump;
  /** What this read cost in CPU seconds (the child's, or wall time when unknown): drives the adaptive interval. */
  readonly costSeconds: number;
  /** stderr of a successful save (warnings), '' when quiet. */
  readonly stderrTail: string;
  /** A model the source built itself (kube-proxy nftables mode): used instead of building one from `dump`. */
  readonly model?: ServiceModel;
  /** Chains folded while parsing (their rules are not in `dump`): for buildServiceModel. */
  readonly folded?: FoldedChains;
  /** The source built the model and that threw (CounterRefresher.parsed): the read's model stage failed. */
  readonly modelError?: Error;
  /**
   * With the counter refresh on: `refreshed` (rules unchanged, counters read into the last model),
   * `parsed`, or `reparsed` (a scan-only read found changed rules; the output was read again and parsed).
   */
  readonly readKind?: ReadKind;
}

export interface FamilyReadFailed extends FamilyReadBase {
  readonly ok: false;
  readonly error: Error;
  /** `save` for a failed run or file, `parse` when the parser threw. */
  readonly stage: Extract<SampleStage, 'save' | 'parse'>;
  readonly costSeconds: number;
}

export type FamilyRead = FamilyReadOk | FamilyReadFailed;

/**
 * Reads every family once. Families run one after another (never two saves at once). Failures are
 * returned per family, not thrown; only an abort (shutdown) rejects.
 */
export type SampleSource = (signal: AbortSignal) => Promise<readonly FamilyRead[]>;

/** State the analysis carries from one sample to the next: per-ladder counters and window columns. */

/**
 * The endpoints (SEP chains, in rule order) of one ladder fingerprint. Consecutive samples with the
 * same fingerprint share one layout object, so per-sample data is bare numbers aligned to it.
 */
export interface EndpointLayout {
  readonly fingerprint: string;
  readonly chains: readonly string[];
}

/**
 * The reset-corrected cumulative totals of every endpoint of every ladder at one sample time,
 * concatenated ladder after ladder. One Float64Array per sample (8 bytes per endpoint: 30 samples
 * of 200,000 endpoints take about 48 MB) rather than per ladder and sample: a typed array costs
 * about 200 bytes before its first element, which would dominate on nodes with many small Services.
 * Never written after the sample that created it.
 */
export interface SampleColumn {
  readonly timeSeconds: number;
  readonly totals: Float64Array;
}

/**
 * Counter state of one ladder. The arrays are built fresh by each analysis step and never written
 * afterwards, so a state object can be kept, compared or discarded by the caller without surprises.
 */
export interface LadderCounterState {
  readonly layout: EndpointLayout;
  /**
   * Four runs of `layout.chains.length` values: raw connections of the last sample (counted since
   * kube-proxy last rewrote the chain), raw affinity connections, reset-corrected cumulative
   * connections, cumulative affinity connections. One array instead of four keeps small ladders small.
   */
  readonly counters: Float64Array;
  /** Cumulative total of the ladder, including connections of endpoints that have since left. */
  readonly connectionsTotal: number;
  readonly resets: number;
  /**
   * This ladder's history in the window: it has a segment in each of the last `offsets.length`
   * columns of `AnalysisState.columns` (a live ladder is in every sample since it appeared), at
   * `offsets[k]`, laid out as `layouts[k]`. Oldest first.
   */
  readonly offsets: readonly number[];
  readonly layouts: readonly EndpointLayout[];
}

/** A ladder missing from the latest models, kept for a window's length in case its chain comes back. */
export interface VanishedLadder {
  readonly sinceSeconds: number;
  readonly counters: LadderCounterState;
}

/** Everything `analyze` needs from earlier samples. Treat as opaque outside `src/analysis/`. */
export interface AnalysisState {
  /** Ladders present (with counters) in the last analyzed sample, by `Ladder.key`. */
  readonly ladders: ReadonlyMap<string, LadderCounterState>;
  /** Ladders that disappeared recently, by `Ladder.key`. Their window history is not kept. */
  readonly vanished: ReadonlyMap<string, VanishedLadder>;
  /** Samples still needed by some window, oldest first: the window plus one baseline at or before its start. */
  readonly columns: readonly SampleColumn[];
}

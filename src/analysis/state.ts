/** State the analysis carries from one sample to the next: per-ladder counters and window columns. */
import type { Ladder } from '../model/types.js';
import type { IncrementColumn } from './increment-column.js';
import type { SampleLayout } from './sample-layout.js';

export type { IncrementColumn } from './increment-column.js';

/**
 * The endpoints (SEP chains, in rule order) of one ladder fingerprint. Only memberships the ladder no
 * longer has are kept as copies like this (the current one is the model's own Ladder, see `Membership`).
 */
export interface EndpointLayout {
  readonly fingerprint: string;
  readonly chains: readonly string[];
}

/**
 * A ladder's membership: the Ladder of the latest sample (its chains and fingerprint are the model's
 * own strings, nothing is copied, and the previous model is not kept) or, for a ladder that vanished,
 * a copy of what it was. The fingerprint identifies the chains, so the latest Ladder stands for every
 * column of the window with the same fingerprint.
 */
export type Membership = Ladder | EndpointLayout;

/**
 * The reset-corrected cumulative totals of every endpoint of every ladder at one sample time,
 * concatenated ladder after ladder: the plain form of a window sample, which `windowDeltas`
 * (`window-samples.ts`) reads. The state keeps samples as `IncrementColumn`s instead.
 */
export interface SampleColumn {
  readonly timeSeconds: number;
  readonly totals: Float64Array;
}

/**
 * Raw and reset-corrected counters of one sample, ladder after ladder (a ladder's segment starts at
 * its `at`). One pair of arrays per sample rather than per ladder: a typed array costs about 200
 * bytes before its first element, which would dominate on nodes with many small Services.
 * Never written after the sample that created them.
 */
export interface SampleCounters {
  readonly raw: Float64Array;
  readonly totals: Float64Array;
}

/**
 * Counter state of one ladder (`LadderCounters` in `ladder-counters.ts`). Built fresh by each analysis
 * step and never written afterwards, so a state can be kept, compared or discarded by the caller
 * without surprises.
 */
export interface LadderCounterState {
  readonly membership: Membership;
  /** Endpoints in `membership`: the length of its segments in `counters`. */
  readonly size: number;
  readonly counters: SampleCounters;
  /** Start of this ladder's segment in `counters.raw` and `counters.totals`. */
  readonly at: number;
  /**
   * Raw affinity counters then their cumulative totals (two runs of `size`), or null while the ladder
   * never had affinity counters (all zero). Its own array: few ladders have session affinity.
   */
  readonly affinity: Float64Array | null;
  /** Cumulative total of the ladder, including connections of endpoints that have since left. */
  readonly connectionsTotal: number;
  readonly resets: number;
  /**
   * This ladder's history in the window: it has a segment in each of the last `windowLength` columns
   * of `AnalysisState.columns` (a live ladder is in every sample since it appeared), run-length
   * encoded as (offset, count) pairs, oldest first. A segment only moves when a ladder before it
   * changes size, so most ladders have one pair.
   */
  readonly spans: readonly number[];
  /**
   * The membership of each span (null: `membership`), or null when every column of the window had
   * the current membership (the common case). Spans are split where either changes.
   */
  readonly spanLayouts: readonly (EndpointLayout | null)[] | null;
  readonly windowLength: number;
  /**
   * Totals at the oldest column of the window, aligned to its membership, at `baselineAt` (one array
   * per sample, shared by its ladders). The window's deltas are the current totals minus these.
   */
  readonly baseline: Float64Array;
  readonly baselineAt: number;
  /** How the window's memberships map onto the current one, while they differ; kept while still valid. */
  readonly alignment: Alignment | null;
  /** `spans` expanded: the segment offset in each column of the window, oldest first. */
  readonly offsets: readonly number[];
}

/**
 * For each current endpoint, its position in the baseline column, or -1 when it must be counted from
 * zero (it was missing from some column of the window), given the window's other memberships.
 */
export interface Alignment {
  /** The baseline column's membership (null: the current one). */
  readonly baseline: EndpointLayout | null;
  /** Every membership of the window other than the current one. */
  readonly others: readonly EndpointLayout[];
  readonly positions: Int32Array;
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
  readonly columns: readonly IncrementColumn[];
  /** The last sample's ladders, in order (see sample-layout.ts). */
  readonly layout: SampleLayout;
  /** Per ladder of `layout` that is not a repeat, in order: its entry in `ladders` (undefined: no counters). */
  readonly order: readonly (LadderCounterState | undefined)[];
}

/** Analysis results: reset-aware cumulative counters and sliding-window distribution statistics. */
import type { Ladder } from '../model/types.js';

/** Opaque state `analyze` returns and takes back on the next sample (defined in `state.ts`). */
export type { AnalysisState } from './state.js';

export interface EndpointStats {
  readonly endpoint: string | null;
  readonly chain: string;
  readonly probability: number | null;
  readonly programmedRatio: number;
  readonly expectedRatio: number;
  /** Monotonic for the life of the process: sum of deltas across counter resets. */
  readonly connectionsTotal: number;
  readonly affinityConnectionsTotal: number;
  /** New connections in the window; null when the window has fewer than two samples of this ladder. */
  readonly windowConnections: number | null;
  /** windowConnections / ladder window total; null when the total is 0 or unknown. */
  readonly observedRatio: number | null;
}

export interface WindowStats {
  /** Seconds between the oldest and newest sample used. 0 when fewer than two samples. */
  readonly seconds: number;
  /** New connections over the window (sum of endpoint deltas); null when fewer than two samples. */
  readonly connections: number | null;
  /** max(observed / expected) over endpoints; null when connections is 0 or unknown. */
  readonly skewRatio: number | null;
  /** Pearson chi-square statistic against the uniform split; null when the test is not valid. */
  readonly chiSquare: number | null;
  /** Goodness-of-fit p-value; null when the sample is too small (expected count per endpoint < 5) or n < 2. */
  readonly pValue: number | null;
  /** The ladder's membership (fingerprint) changed inside the window: statistics are withheld (null). */
  readonly membershipChanged: boolean;
}

export interface LadderStats {
  readonly ladder: Ladder;
  /** Monotonic sum over endpoints (including endpoints that left the ladder). */
  readonly connectionsTotal: number;
  /**
   * In rule order. `analyze` builds these on each read from arrays it shares with its state (objects
   * per endpoint kept for a whole sample interval cost ~30 MiB at 200,000 endpoints): read once per
   * use, and take the count from `ladder.endpoints.length`.
   */
  readonly endpoints: readonly EndpointStats[];
  readonly window: WindowStats;
  /** max_i |programmedRatio_i - expectedRatio_i|: non-zero means the rules themselves are not uniform. */
  readonly programmedDeviation: number;
  /** Counter resets detected for this ladder since the process started. */
  readonly resets: number;
}

export interface AnalysisResult {
  readonly ladders: readonly LadderStats[];
  /** Resets detected in this step (all ladders). */
  readonly resetsThisSample: number;
}

/** Options for the analysis step. */
export interface AnalysisOptions {
  /** Sliding window length in seconds (default 300). */
  readonly windowSeconds: number;
  /** Minimum expected count per endpoint for the chi-square test to be reported (default 5). */
  readonly minExpectedPerEndpoint: number;
}

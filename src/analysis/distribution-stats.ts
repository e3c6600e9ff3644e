/** Distribution statistics of one ladder's window: skew and a chi-square test of uniformity. */
import type { LadderEndpoint } from '../model/types.js';
import { chiSquarePValue } from './chi-square.js';
import type { WindowStats } from './types.js';
import type { WindowDeltas } from './window-samples.js';

/**
 * Skew and goodness-of-fit for one ladder's window. The test compares observed counts with the uniform
 * split kube-proxy means to program (expected count N * expectedRatio per endpoint). It is withheld
 * when membership changed inside the window (the split the counts are compared with did not hold the
 * whole time), when n < 2 (nothing to compare), or when any expected count is below
 * `minExpectedPerEndpoint` (the chi-square approximation is unreliable for small counts).
 */
export function windowStats(
  endpoints: readonly LadderEndpoint[],
  deltas: WindowDeltas,
  minExpectedPerEndpoint: number,
): WindowStats {
  if (deltas.connections === null) {
    return {
      seconds: deltas.seconds,
      connections: null,
      skewRatio: null,
      chiSquare: null,
      pValue: null,
      membershipChanged: deltas.membershipChanged,
    };
  }
  const counts = deltas.connections;
  const expectedRatios = Float64Array.from(endpoints, (e) => e.expectedRatio);
  return windowStatsAt(expectedRatios, counts, 0, counts.length, endpoints.length, deltas.seconds, deltas.membershipChanged, minExpectedPerEndpoint);
}

/**
 * `windowStats` on the `length` counts that start at `at` in a larger array (one array for all
 * ladders of a sample, where `length` is the ladder's endpoint count), with the `n` endpoints'
 * `expectedRatio`s at the same offset of `expectedRatios` (an array beside it: the analysis keeps one
 * per ladder layout rather than read 200,000 endpoint objects every sample).
 */
export function windowStatsAt(
  expectedRatios: Float64Array,
  counts: Float64Array,
  at: number,
  length: number,
  n: number,
  seconds: number,
  membershipChanged: boolean,
  minExpectedPerEndpoint: number,
): WindowStats {
  let total = 0;
  for (let i = 0; i < length; i++) total += counts[at + i] as number;

  let skewRatio: number | null = null;
  let chiSquare: number | null = null;
  let pValue: number | null = null;
  if (total > 0 && !membershipChanged && n > 0) {
    let maxRatio = 0;
    let statistic = 0;
    let testable = n >= 2;
    for (let i = 0; i < n; i++) {
      const expectedRatio = expectedRatios[at + i] ?? 0;
      const observed = counts[at + i] ?? 0;
      const expected = total * expectedRatio;
      if (expectedRatio > 0) maxRatio = Math.max(maxRatio, observed / total / expectedRatio);
      if (expected > 0 && expected >= minExpectedPerEndpoint) {
        statistic += ((observed - expected) * (observed - expected)) / expected;
      } else {
        testable = false;
      }
    }
    skewRatio = maxRatio;
    if (testable) {
      chiSquare = statistic;
      pValue = chiSquarePValue(statistic, n - 1);
    }
  }

  return { seconds, connections: total, skewRatio, chiSquare, pValue, membershipChanged };
}

/** max_i |programmedRatio_i - expectedRatio_i|; 0 for a ladder without endpoints. */
export function programmedDeviation(endpoints: readonly LadderEndpoint[]): number {
  let deviation = 0;
  for (const endpoint of endpoints) {
    deviation = Math.max(deviation, Math.abs(endpoint.programmedRatio - endpoint.expectedRatio));
  }
  return deviation;
}

export interface DistributionStats {
  readonly window: WindowStats;
  /** windowConnections / window total per endpoint, aligned to the endpoints; null when the total is 0 or unknown. */
  readonly observedRatios: readonly (number | null)[];
}

/**
 * `windowStats` plus each endpoint's observed share, for one-shot callers (`report` on a single dump).
 * `analyze` computes the shares inline instead, to spare an array per sample on 200,000-endpoint ladders.
 */
export function distributionStats(
  endpoints: readonly LadderEndpoint[],
  deltas: WindowDeltas,
  minExpectedPerEndpoint: number,
): DistributionStats {
  const window = windowStats(endpoints, deltas, minExpectedPerEndpoint);
  const counts = deltas.connections;
  const total = window.connections ?? 0;
  return {
    window,
    observedRatios: endpoints.map((_, i) => (counts !== null && total > 0 ? (counts[i] ?? 0) / total : null)),
  };
}

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
  const counts = deltas.connections;
  if (counts === null) {
    return {
      seconds: deltas.seconds,
      connections: null,
      skewRatio: null,
      chiSquare: null,
      pValue: null,
      membershipChanged: deltas.membershipChanged,
    };
  }

  let total = 0;
  for (const count of counts) total += count;

  let skewRatio: number | null = null;
  let chiSquare: number | null = null;
  let pValue: number | null = null;
  if (total > 0 && !deltas.membershipChanged && endpoints.length > 0) {
    let maxRatio = 0;
    let statistic = 0;
    let testable = endpoints.length >= 2;
    for (let i = 0; i < endpoints.length; i++) {
      const expectedRatio = endpoints[i]?.expectedRatio ?? 0;
      const observed = counts[i] ?? 0;
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
      pValue = chiSquarePValue(statistic, endpoints.length - 1);
    }
  }

  return {
    seconds: deltas.seconds,
    connections: total,
    skewRatio,
    chiSquare,
    pValue,
    membershipChanged: deltas.membershipChanged,
  };
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

/**
 * A refreshed read's model: the parsed read's structure with new counters held as arrays
 * (`ServiceModel.counters`). The analysis reads the arrays; `ladders`, with a new object per endpoint,
 * is built only when something reads it (a report, the Kubernetes naming hook, tests), then kept.
 */
import type { Ladder, LadderEndpoint, ModelCounters, ServiceModel } from '../types.js';

/** `base` (the parsed read's model, whose ladders `counters` are over) with `counters` as its counters. */
export function refreshedModel(base: ServiceModel, counters: ModelCounters): ServiceModel {
  let ladders: readonly Ladder[] | null = null;
  const model = { ipFamily: base.ipFamily, skipped: base.skipped, hasCounters: base.hasCounters, warnings: base.warnings };
  // Plain data otherwise, so a refreshed model equals (toStrictEqual, spreads, JSON) the model a parse
  // of the same output builds; `counters` is not enumerable for the same reason.
  Object.defineProperty(model, 'ladders', {
    enumerable: true,
    get: (): readonly Ladder[] => (ladders ??= laddersWithCounters(counters)),
  });
  Object.defineProperty(model, 'counters', { enumerable: false, value: counters });
  return model as ServiceModel;
}

/**
 * A model's ladders for what depends on structure only (names, chains, endpoints, probabilities): a
 * refreshed model's parsed-read ladders, whose counter fields are that read's (counters come from
 * `model.counters`), so reading them builds nothing.
 */
export function laddersOf(model: ServiceModel): readonly Ladder[] {
  return model.counters?.ladders ?? model.ladders;
}

/** `counters.ladders` with the counters (and lines) in their endpoints: what applyCounters gives. */
export function laddersWithCounters(counters: ModelCounters): Ladder[] {
  const { connections, affinityConnections, hasAffinity, lines } = counters;
  const ladders = new Array<Ladder>(counters.ladders.length);
  let e = 0;
  for (let l = 0; l < ladders.length; l++) {
    const ladder = counters.ladders[l] as Ladder;
    const affinity = hasAffinity[l] === 1;
    const endpoints = new Array<LadderEndpoint>(ladder.endpoints.length);
    let total = 0;
    for (let i = 0; i < endpoints.length; i++, e++) {
      const old = ladder.endpoints[i] as LadderEndpoint;
      const value = connections[e] as number;
      total += value;
      endpoints[i] = {
        endpoint: old.endpoint,
        chain: old.chain,
        probability: old.probability,
        programmedRatio: old.programmedRatio,
        expectedRatio: old.expectedRatio,
        connections: value,
        affinityConnections: affinity ? (affinityConnections[e] as number) : null,
        line: lines[e] as number,
      };
    }
    ladders[l] = { ...ladder, endpoints, connections: total };
  }
  return ladders;
}

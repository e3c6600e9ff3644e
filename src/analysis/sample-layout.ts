/**
 * The ladders of one analysed sample, in the order the analysis met them, and what follows from their
 * structure alone. The state keeps it: while kube-proxy leaves the rules alone, a refreshed read hands
 * the analysis the very same Ladder objects sample after sample, and the next sample, seeing them in
 * the same order, skips the lookups by key and the per-endpoint reads that only depend on structure.
 */
import { laddersOf } from '../model/counter-refresh/refreshed-model.js';
import type { Ladder, ServiceModel } from '../model/types.js';

export interface SampleLayout {
  /** Every ladder of the models, families then ladders, in order; repeats included. */
  readonly ladders: readonly Ladder[];
  /** Per ladder: 1 when its key repeats an earlier ladder's (the analysis skips it: the first wins). */
  readonly repeat: Uint8Array;
  /** Per ladder: `programmedDeviation(ladder.endpoints)`. */
  readonly programmedDeviation: Float64Array;
  /** Per endpoint of the ladders with counters, at their offsets in the sample's arrays: `expectedRatio`. */
  readonly expectedRatios: Float64Array;
}

/** Whether `models` hold exactly the ladders of `layout`, as the same objects in the same order. */
export function hasLayout(layout: SampleLayout, models: readonly ServiceModel[]): boolean {
  let k = 0;
  for (const model of models) {
    const ladders = laddersOf(model);
    if (k + ladders.length > layout.ladders.length) return false;
    for (let l = 0; l < ladders.length; l++, k++) if (ladders[l] !== layout.ladders[k]) return false;
  }
  return k === layout.ladders.length;
}

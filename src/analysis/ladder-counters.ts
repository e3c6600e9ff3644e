/** The state object of one ladder: `LadderCounterState` as a class, with its window offsets derived. */
import type { Alignment, EndpointLayout, LadderCounterState, Membership, SampleCounters } from './state.js';

export type LadderCounterFields = Omit<LadderCounterState, 'offsets'>;

export class LadderCounters implements LadderCounterState {
  readonly membership: Membership;
  readonly size: number;
  readonly counters: SampleCounters;
  readonly at: number;
  readonly affinity: Float64Array | null;
  readonly connectionsTotal: number;
  readonly resets: number;
  readonly spans: readonly number[];
  readonly spanLayouts: readonly (EndpointLayout | null)[] | null;
  readonly windowLength: number;
  readonly baseline: Float64Array;
  readonly baselineAt: number;
  readonly alignment: Alignment | null;

  constructor(fields: LadderCounterFields) {
    this.membership = fields.membership;
    this.size = fields.size;
    this.counters = fields.counters;
    this.at = fields.at;
    this.affinity = fields.affinity;
    this.connectionsTotal = fields.connectionsTotal;
    this.resets = fields.resets;
    this.spans = fields.spans;
    this.spanLayouts = fields.spanLayouts;
    this.windowLength = fields.windowLength;
    this.baseline = fields.baseline;
    this.baselineAt = fields.baselineAt;
    this.alignment = fields.alignment;
  }

  /** For tests and debugging: built on each read. */
  get offsets(): readonly number[] {
    const offsets: number[] = [];
    for (let k = 0; k < this.spans.length; k += 2) {
      for (let c = 0; c < (this.spans[k + 1] ?? 0); c++) offsets.push(this.spans[k] ?? 0);
    }
    return offsets;
  }
}

const NO_VALUES = new Float64Array(0);

/**
 * A vanished ladder's counters, copied out of the sample arrays (which are then free to go) with its
 * membership as a plain layout (so the model it came from is not kept) and no window.
 */
export function vanishedCopy(state: LadderCounterState, layout: EndpointLayout): LadderCounters {
  const n = state.size;
  const { raw, totals } = state.counters;
  return new LadderCounters({
    membership: layout,
    size: n,
    counters: { raw: raw.slice(state.at, state.at + n), totals: totals.slice(state.at, state.at + n) },
    at: 0,
    affinity: state.affinity,
    connectionsTotal: state.connectionsTotal,
    resets: state.resets,
    spans: [],
    spanLayouts: null,
    windowLength: 0,
    baseline: NO_VALUES,
    baselineAt: 0,
    alignment: null,
  });
}

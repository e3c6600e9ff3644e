/** Where each ladder of a sample takes its counters from and puts its segments, decided ladder by ladder. */
import type { Ladder, ModelCounters } from '../model/types.js';
import type { CounterInput } from './advance-counters.js';
import { programmedDeviation } from './distribution-stats.js';
import { sizeAt } from './ladder-window.js';
import type { SampleLayout } from './sample-layout.js';
import type { AnalysisOptions } from './types.js';
import type { LadderCounterState, VanishedLadder } from './state.js';

/** One ladder of the sample, where its counters come from, and where its segments go in the sample's arrays (`at` -1: no counters). */
export interface LadderPlan extends CounterInput {
  readonly ladder: Ladder;
  readonly live: LadderCounterState | undefined;
  /** The counters it continues from: its live state, or those it left when it vanished. */
  readonly source: LadderCounterState | undefined;
  readonly returning: boolean;
  readonly at: number;
  readonly baselineAt: number;
  /** How many columns of its history are still in the kept columns. */
  readonly kept: number;
  readonly programmedDeviation: number;
}

export class SamplePlan {
  readonly steps: LadderPlan[] = [];
  readonly seen = new Set<string>();
  /** Endpoints of all ladders with counters, and the length of all their baselines. */
  endpoints = 0;
  baseline = 0;
  /** Ladders of the previous state found again with counters. */
  liveFound = 0;
  // This sample's layout, while `add` builds it.
  private readonly ladders: Ladder[] = [];
  private readonly repeats: number[] = [];
  private readonly deviations: number[] = [];
  private knownLayout: SampleLayout | null = null;

  constructor(
    private readonly previousLadders: ReadonlyMap<string, LadderCounterState>,
    private readonly previousVanished: ReadonlyMap<string, VanishedLadder>,
    private readonly keptColumns: number,
    private readonly nowSeconds: number,
    private readonly options: AnalysisOptions,
  ) {}

  /** The next ladder of the models: its state found by key. */
  add(ladder: Ladder, input: ModelCounters | null, inputAt: number, inputLadder: number): void {
    this.ladders.push(ladder);
    // Keys are unique across families by construction; a repeat would double-count, so the first wins.
    if (this.seen.has(ladder.key)) {
      this.repeats.push(1);
      this.deviations.push(0);
      return;
    }
    this.seen.add(ladder.key);
    const deviation = programmedDeviation(ladder.endpoints);
    this.repeats.push(0);
    this.deviations.push(deviation);
    const live = ladder.connections === null ? undefined : this.previousLadders.get(ladder.key);
    this.addStep(ladder, live, deviation, input, inputAt, inputLadder);
  }

  /**
   * The next ladder when the models hold the previous sample's layout (`hasLayout`): `live` is its
   * state from the previous sample's steps, in the same order, so there is nothing to look up. Call
   * `sawLayout` after the last one.
   */
  addKnown(ladder: Ladder, live: LadderCounterState | undefined, deviation: number, input: ModelCounters | null, inputAt: number, inputLadder: number): void {
    this.addStep(ladder, ladder.connections === null ? undefined : (live ?? this.previousLadders.get(ladder.key)), deviation, input, inputAt, inputLadder);
  }

  /**
   * After `addKnown`: the keys seen are the layout's, which the vanished ladders (absent from the
   * previous sample) never are; they are listed only when the caller needs them.
   */
  sawLayout(layout: SampleLayout): void {
    this.knownLayout = layout;
    if (this.previousVanished.size === 0 && this.liveFound === this.previousLadders.size) return;
    for (const ladder of layout.ladders) this.seen.add(ladder.key);
  }

  /** This sample's layout: the one `sawLayout` was given, or the one `add` built. */
  layout(expectedRatios: Float64Array): SampleLayout {
    return (
      this.knownLayout ?? {
        ladders: this.ladders,
        repeat: Uint8Array.from(this.repeats),
        programmedDeviation: Float64Array.from(this.deviations),
        expectedRatios,
      }
    );
  }

  private addStep(ladder: Ladder, live: LadderCounterState | undefined, deviation: number, input: ModelCounters | null, inputAt: number, inputLadder: number): void {
    if (ladder.connections === null) {
      this.steps.push({ ladder, live: undefined, source: undefined, returning: false, at: -1, baselineAt: -1, kept: 0, programmedDeviation: deviation, input: null, inputAt: 0, inputLadder: 0 });
      return;
    }
    if (live !== undefined) this.liveFound++;
    const vanished = live === undefined ? this.previousVanished.get(ladder.key) : undefined;
    const returning =
      vanished !== undefined && this.nowSeconds - vanished.sinceSeconds <= this.options.windowSeconds ? vanished : undefined;
    const n = ladder.endpoints.length;
    const kept = live === undefined ? 0 : Math.min(live.windowLength, this.keptColumns);
    this.steps.push({
      ladder,
      live,
      source: live ?? returning?.counters,
      returning: returning !== undefined,
      at: this.endpoints,
      baselineAt: this.baseline,
      kept,
      programmedDeviation: deviation,
      input,
      inputAt,
      inputLadder,
    });
    this.endpoints += n;
    this.baseline += live === undefined || kept === 0 ? n : sizeAt(live, live.windowLength - kept);
  }
}

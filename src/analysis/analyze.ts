/** The analysis step: models over time → reset-aware totals, window shares, skew and p-values. */
import type { Ladder, LadderEndpoint, ServiceModel } from '../model/types.js';
import { runToEnd, type Slices } from '../slices.js';
import { advanceCounters } from './advance-counters.js';
import { layoutCopy } from './endpoint-layout.js';
import { type IncrementColumn, packIncrementsInSteps } from './increment-column.js';
import { LadderCounters, vanishedCopy } from './ladder-counters.js';
import { LadderResult } from './ladder-result.js';
import { alignWindow, nextSpans, slideBaseline, type Spans, windowMemberships } from './ladder-window.js';
import { windowStatsAt } from './distribution-stats.js';
import { laddersOf } from '../model/counter-refresh/refreshed-model.js';
import { hasLayout } from './sample-layout.js';
import { type LadderPlan, SamplePlan } from './sample-plan.js';
import type { Alignment, AnalysisState, LadderCounterState, SampleCounters, VanishedLadder } from './state.js';
import type { AnalysisOptions, AnalysisResult, LadderStats, WindowStats } from './types.js';
import { pruneColumns } from './window-samples.js';

export const DEFAULT_ANALYSIS_OPTIONS: AnalysisOptions = Object.freeze({
  windowSeconds: 300,
  minExpectedPerEndpoint: 5,
});

/**
 * Work `analyzeInSlices` does between yields, in endpoints (a ladder counts as 8 more: its fixed cost).
 * ~10 ms of work on the 2-core benchmark VM: 25,000 took up to 28–33 ms there, and a slice (20 ms
 * asked) ran to 64–91 ms when such a step and a scavenge fell into it.
 */
export const DEFAULT_SLICE_ENDPOINTS = 8_000;
const LADDER_COST = 8;
// Planning a ladder costs about as much as analysing a small one: its key is a string the model has
// just built, hashed for the first time, then looked up twice (memory far apart: cache misses).
const PLAN_COST = 12;
// The same ladders as the previous sample, in the same order: no keys to look up (sample-layout.ts).
const KNOWN_PLAN_COST = 2;
// Packing one value of the window column (each of two passes) costs about a quarter of an endpoint's
// analysis: a step of the packing reads this many values per endpoint of a slice.
const PACK_VALUES_PER_ENDPOINT = 4;

export interface AnalysisStep {
  readonly state: AnalysisState;
  readonly result: AnalysisResult;
}

/**
 * Folds one sample (one model per IP family, taken at `nowSeconds`) into the state and derives the
 * statistics. Pure: `state` is not modified; the returned state replaces it for the next call.
 *
 * A ladder missing from `models` disappears from the result and from the live state. Its counters
 * (not its window) are kept aside for one window length: if its chain comes back in that time (a
 * Service whose endpoints were all unready has no chains at all), that is a counter reset, its
 * totals carry on and its window starts over; after that it starts over as a new ladder. The bound
 * keeps memory flat under Service churn, and Prometheus' rate() reads a restarted series as an
 * ordinary counter reset.
 */
export function analyze(
  state: AnalysisState | undefined,
  models: readonly ServiceModel[],
  nowSeconds: number,
  options: AnalysisOptions,
): AnalysisStep {
  return runToEnd(analyzeInSlices(state, models, nowSeconds, options, Number.POSITIVE_INFINITY));
}

/**
 * `analyze` in slices: the generator yields after about `sliceEndpoints` endpoints of work and returns
 * what `analyze` returns, so a caller can let the event loop run in between (the sampler does, with
 * setImmediate). Nothing is shared with the caller until it returns; abandoning it midway is harmless.
 */
export function* analyzeInSlices(
  state: AnalysisState | undefined,
  models: readonly ServiceModel[],
  nowSeconds: number,
  options: AnalysisOptions,
  sliceEndpoints = DEFAULT_SLICE_ENDPOINTS,
): Slices<AnalysisStep> {
  const previousLadders = state?.ladders ?? new Map<string, LadderCounterState>();
  const previousVanished = state?.vanished ?? new Map<string, VanishedLadder>();
  const previousColumns = state?.columns ?? [];
  const keptColumns = pruneColumns(previousColumns, nowSeconds, options.windowSeconds);
  const plan = new SamplePlan(previousLadders, previousVanished, keptColumns.length, nowSeconds, options);
  // Refreshed reads hand over the same Ladder objects sample after sample: then each ladder's state
  // is the previous sample's at the same position, and nothing is looked up by key (sample-layout.ts).
  const previousLayout = state?.layout ?? null;
  const known = previousLayout !== null && state !== undefined && hasLayout(previousLayout, models) ? previousLayout : null;
  const previousOrder = state?.order ?? [];
  // Work done since the last yield, in endpoints' worth. Small samples run in one slice.
  let work = 0;
  let k = 0;
  let step = 0;
  for (const model of models) {
    // A refreshed model's counters are arrays over its parsed read's ladders; reading its `ladders`
    // would build an object per endpoint.
    const input = model.counters ?? null;
    const ladders = laddersOf(model);
    let inputAt = 0;
    for (let l = 0; l < ladders.length; l++, k++) {
      const ladder = ladders[l] as Ladder;
      if (known === null) {
        plan.add(ladder, input, inputAt, l);
        work += PLAN_COST;
      } else if (known.repeat[k] === 0) {
        plan.addKnown(ladder, previousOrder[step++], known.programmedDeviation[k] as number, input, inputAt, l);
        work += KNOWN_PLAN_COST;
      }
      inputAt += ladder.endpoints.length;
      if (work >= sliceEndpoints) {
        yield;
        work = 0;
      }
    }
  }
  if (known !== null) plan.sawLayout(known);

  const sample: SampleArrays = {
    counters: { raw: new Float64Array(plan.endpoints), totals: new Float64Array(plan.endpoints) },
    // What each endpoint's total grew by: this sample's window column, packed once complete.
    increments: new Float64Array(plan.endpoints),
    baseline: new Float64Array(plan.baseline),
    windowCounts: new Float64Array(plan.endpoints),
    // Structure only: the previous sample's while its layout holds (same ladders, same offsets).
    expectedRatios: known?.expectedRatios ?? new Float64Array(plan.endpoints),
  };
  const ladders = new Map<string, LadderCounterState>();
  const order: (LadderCounterState | undefined)[] = [];
  const stats: LadderStats[] = [];
  const context: LadderContext = { previousColumns, keptColumns, nowSeconds, options, sample, ladders, order, stats, knownLayout: known !== null };
  let resetsThisSample = 0;
  let longestHistory = 0;
  for (const step of plan.steps) {
    work += step.ladder.endpoints.length + LADDER_COST;
    if (work >= sliceEndpoints) {
      yield;
      work = 0;
    }
    if (step.at < 0) {
      stats.push(statsWithoutCounters(step));
      order.push(undefined);
      continue;
    }
    if (analyzeLadder(context, step)) resetsThisSample++;
    // Its window reaches back `kept` columns before this one.
    longestHistory = Math.max(longestHistory, step.kept + 1);
  }
  // Packing the column reads every endpoint twice more, in steps with a checkpoint after each.
  if (work > 0) yield;
  const column = yield* packIncrementsInSteps(nowSeconds, sample.increments, sliceEndpoints * PACK_VALUES_PER_ENDPOINT);

  // Columns older than every live ladder's history are referenced by nobody (all ladders vanished).
  const allColumns = [...keptColumns, column];
  const columns = allColumns.slice(allColumns.length - longestHistory);

  const vanished = new Map<string, VanishedLadder>();
  // Every previous ladder was seen again (the common case) unless fewer of them were found live.
  if (plan.liveFound !== previousLadders.size) {
    for (const [key, counters] of previousLadders) {
      // Its history would have a gap; only the counters are kept, the window starts over on return.
      if (!plan.seen.has(key)) {
        vanished.set(key, { sinceSeconds: nowSeconds, counters: vanishedCopy(counters, layoutCopy(counters.membership)) });
      }
    }
  }
  for (const [key, entry] of previousVanished) {
    if (!plan.seen.has(key) && nowSeconds - entry.sinceSeconds <= options.windowSeconds) vanished.set(key, entry);
  }

  return { state: { ladders, vanished, columns, layout: plan.layout(sample.expectedRatios), order }, result: { ladders: stats, resetsThisSample } };
}

/** This sample's arrays, shared by all its ladders (each at its own offsets). */
interface SampleArrays {
  readonly counters: SampleCounters;
  readonly increments: Float64Array;
  readonly baseline: Float64Array;
  readonly windowCounts: Float64Array;
  readonly expectedRatios: Float64Array;
}

interface LadderContext {
  readonly previousColumns: readonly IncrementColumn[];
  readonly keptColumns: readonly IncrementColumn[];
  readonly nowSeconds: number;
  readonly options: AnalysisOptions;
  readonly sample: SampleArrays;
  /** Where each ladder's new state and statistics go. */
  readonly ladders: Map<string, LadderCounterState>;
  readonly order: (LadderCounterState | undefined)[];
  /** The ladders are the previous sample's (`sample.expectedRatios` is filled already). */
  readonly knownLayout: boolean;
  readonly stats: LadderStats[];
}

/**
 * One ladder with counters: its totals, its window, its state for the next sample and its statistics
 * (added to `context.ladders` and `context.stats`). True when this sample reset its counters.
 */
function analyzeLadder(context: LadderContext, step: LadderPlan): boolean {
  const { previousColumns, keptColumns, nowSeconds, options, sample } = context;
  const { counters, increments, baseline, windowCounts, expectedRatios } = sample;
  const totals = counters.totals;
  const { ladder, live, at, baselineAt, kept } = step;
  const n = ladder.endpoints.length;
  if (!context.knownLayout) for (let i = 0; i < n; i++) expectedRatios[at + i] = (ladder.endpoints[i] as LadderEndpoint).expectedRatio;
  const advanced = advanceCounters(step.source, step.returning, ladder, { counters, at, increments }, step);

  // A live ladder was in every kept column since it appeared; keep the part of its history that
  // survived pruning. A new or returning ladder starts its window now.
  let spans: Spans;
  let alignment: Alignment | null = null;
  let window: WindowStats = NO_WINDOW;
  if (live === undefined || kept === 0) {
    for (let i = 0; i < n; i++) baseline[baselineAt + i] = totals[at + i] as number;
    spans = { spans: [at, 1], spanLayouts: null };
  } else {
    const dropped = live.windowLength - kept;
    slideBaseline(live, previousColumns, dropped, baseline, baselineAt);
    spans = nextSpans(live, dropped, at, advanced.layoutChanged);
    const memberships = windowMemberships(spans);
    let membershipChanged = false;
    if (memberships.others.length === 0) {
      // The common case: one membership for the whole window, segments aligned, no lookups.
      for (let i = 0; i < n; i++) windowCounts[at + i] = (totals[at + i] as number) - (baseline[baselineAt + i] as number);
    } else {
      for (const layout of memberships.others) if (layout.fingerprint !== ladder.fingerprint) membershipChanged = true;
      alignment = alignWindow(ladder, memberships, advanced.layoutChanged ? null : live.alignment);
      const positions = alignment.positions;
      for (let i = 0; i < n; i++) {
        const j = positions[i] as number;
        windowCounts[at + i] = (totals[at + i] as number) - (j < 0 ? 0 : (baseline[baselineAt + j] as number));
      }
    }
    const baselineColumn = keptColumns[keptColumns.length - kept];
    const seconds = nowSeconds - (baselineColumn?.timeSeconds ?? nowSeconds);
    window = windowStatsAt(expectedRatios, windowCounts, at, n, n, seconds, membershipChanged, options.minExpectedPerEndpoint);
  }

  const state = new LadderCounters({
    membership: ladder,
    size: n,
    counters,
    at,
    affinity: advanced.affinity,
    connectionsTotal: advanced.connectionsTotal,
    resets: advanced.resets,
    spans: spans.spans,
    spanLayouts: spans.spanLayouts,
    windowLength: kept + 1,
    baseline,
    baselineAt,
    alignment,
  });
  const stats = new LadderResult(
    ladder,
    {
      connectionsTotal: advanced.connectionsTotal,
      window,
      programmedDeviation: step.programmedDeviation,
      resets: advanced.resets,
    },
    { counters, at, affinity: advanced.affinity, windowCounts: window === NO_WINDOW ? null : windowCounts },
  );
  context.ladders.set(ladder.key, state);
  context.order.push(state);
  context.stats.push(stats);
  return advanced.reset;
}

const NO_WINDOW: WindowStats = Object.freeze({
  seconds: 0,
  connections: null,
  skewRatio: null,
  chiSquare: null,
  pValue: null,
  membershipChanged: false,
});

/** A dump without counters (`iptables-save` without `-c`, restore input): shape only, no traffic. */
function statsWithoutCounters(step: LadderPlan): LadderStats {
  return new LadderResult(
    step.ladder,
    { connectionsTotal: 0, window: NO_WINDOW, programmedDeviation: step.programmedDeviation, resets: 0 },
    { counters: null, at: 0, affinity: null, windowCounts: null },
  );
}

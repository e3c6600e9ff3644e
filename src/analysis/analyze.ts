/** The analysis step: models over time → reset-aware totals, window shares, skew and p-values. */
import type { Ladder, ServiceModel } from '../model/types.js';
import { advanceCounters } from './advance-counters.js';
import { layoutCopy } from './endpoint-layout.js';
import { type IncrementColumn, packIncrements } from './increment-column.js';
import { LadderCounters, vanishedCopy } from './ladder-counters.js';
import { LadderResult } from './ladder-result.js';
import { alignWindow, nextSpans, sizeAt, slideBaseline, type Spans, windowMemberships } from './ladder-window.js';
import { programmedDeviation, windowStatsAt } from './distribution-stats.js';
import type { Alignment, AnalysisState, LadderCounterState, SampleCounters, VanishedLadder } from './state.js';
import type { AnalysisOptions, AnalysisResult, LadderStats, WindowStats } from './types.js';
import { pruneColumns } from './window-samples.js';

export const DEFAULT_ANALYSIS_OPTIONS: AnalysisOptions = Object.freeze({
  windowSeconds: 300,
  minExpectedPerEndpoint: 5,
});

/**
 * Work `analyzeInSlices` does between yields, in endpoints (a ladder counts as 8 more: its fixed cost).
 * 2–5 ms of work; 20,000 ladders of 10 endpoints take about 20 slices, 50 ms in all.
 */
export const DEFAULT_SLICE_ENDPOINTS = 25_000;
const LADDER_COST = 8;
// Planning a ladder costs about as much as analysing a small one: its key is a string the model has
// just built, hashed for the first time, then looked up twice (memory far apart: cache misses).
const PLAN_COST = 12;

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
  const steps = analyzeInSlices(state, models, nowSeconds, options, Number.POSITIVE_INFINITY);
  for (;;) {
    const next = steps.next();
    if (next.done === true) return next.value;
  }
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
): Generator<void, AnalysisStep, void> {
  const previousLadders = state?.ladders ?? new Map<string, LadderCounterState>();
  const previousVanished = state?.vanished ?? new Map<string, VanishedLadder>();
  const previousColumns = state?.columns ?? [];
  const keptColumns = pruneColumns(previousColumns, nowSeconds, options.windowSeconds);
  const plan = new SamplePlan(previousLadders, previousVanished, keptColumns.length, nowSeconds, options);
  // Work done since the last yield, in endpoints' worth. Small samples run in one slice.
  let work = 0;
  for (const model of models) {
    for (const ladder of model.ladders) {
      plan.add(ladder);
      work += PLAN_COST;
      if (work >= sliceEndpoints) {
        yield;
        work = 0;
      }
    }
  }

  const sample: SampleArrays = {
    counters: { raw: new Float64Array(plan.endpoints), totals: new Float64Array(plan.endpoints) },
    // What each endpoint's total grew by: this sample's window column, packed once complete.
    increments: new Float64Array(plan.endpoints),
    baseline: new Float64Array(plan.baseline),
    windowCounts: new Float64Array(plan.endpoints),
  };
  const ladders = new Map<string, LadderCounterState>();
  const stats: LadderStats[] = [];
  const context: LadderContext = { previousColumns, keptColumns, nowSeconds, options, sample, ladders, stats };
  let resetsThisSample = 0;
  let longestHistory = 0;
  for (const step of plan.steps) {
    work += step.ladder.endpoints.length + LADDER_COST;
    if (work >= sliceEndpoints) {
      yield;
      work = 0;
    }
    if (step.at < 0) {
      stats.push(statsWithoutCounters(step.ladder));
      continue;
    }
    if (analyzeLadder(context, step)) resetsThisSample++;
    // Its window reaches back `kept` columns before this one.
    longestHistory = Math.max(longestHistory, step.kept + 1);
  }
  // Packing the column reads every endpoint once more.
  if (work + plan.endpoints / 4 >= sliceEndpoints) yield;

  // Columns older than every live ladder's history are referenced by nobody (all ladders vanished).
  const allColumns = [...keptColumns, packIncrements(nowSeconds, sample.increments)];
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

  return { state: { ladders, vanished, columns }, result: { ladders: stats, resetsThisSample } };
}

/** This sample's arrays, shared by all its ladders (each at its own offsets). */
interface SampleArrays {
  readonly counters: SampleCounters;
  readonly increments: Float64Array;
  readonly baseline: Float64Array;
  readonly windowCounts: Float64Array;
}

interface LadderContext {
  readonly previousColumns: readonly IncrementColumn[];
  readonly keptColumns: readonly IncrementColumn[];
  readonly nowSeconds: number;
  readonly options: AnalysisOptions;
  readonly sample: SampleArrays;
  /** Where each ladder's new state and statistics go. */
  readonly ladders: Map<string, LadderCounterState>;
  readonly stats: LadderStats[];
}

/**
 * One ladder with counters: its totals, its window, its state for the next sample and its statistics
 * (added to `context.ladders` and `context.stats`). True when this sample reset its counters.
 */
function analyzeLadder(context: LadderContext, step: LadderPlan): boolean {
  const { previousColumns, keptColumns, nowSeconds, options, sample } = context;
  const { counters, increments, baseline, windowCounts } = sample;
  const totals = counters.totals;
  const { ladder, live, at, baselineAt, kept } = step;
  const n = ladder.endpoints.length;
  const advanced = advanceCounters(step.source, step.returning, ladder, { counters, at, increments });

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
    window = windowStatsAt(ladder.endpoints, windowCounts, at, n, seconds, membershipChanged, options.minExpectedPerEndpoint);
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
      programmedDeviation: programmedDeviation(ladder.endpoints),
      resets: advanced.resets,
    },
    { counters, at, affinity: advanced.affinity, windowCounts: window === NO_WINDOW ? null : windowCounts },
  );
  context.ladders.set(ladder.key, state);
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

/** One ladder of the sample, and where its segments go in the sample's arrays (`at` -1: no counters). */
interface LadderPlan {
  readonly ladder: Ladder;
  readonly live: LadderCounterState | undefined;
  /** The counters it continues from: its live state, or those it left when it vanished. */
  readonly source: LadderCounterState | undefined;
  readonly returning: boolean;
  readonly at: number;
  readonly baselineAt: number;
  /** How many columns of its history are still in the kept columns. */
  readonly kept: number;
}

/** Where each ladder's segments go in this sample's arrays, decided ladder by ladder. */
class SamplePlan {
  readonly steps: LadderPlan[] = [];
  readonly seen = new Set<string>();
  /** Endpoints of all ladders with counters, and the length of all their baselines. */
  endpoints = 0;
  baseline = 0;
  /** Ladders of the previous state found again with counters. */
  liveFound = 0;

  constructor(
    private readonly previousLadders: ReadonlyMap<string, LadderCounterState>,
    private readonly previousVanished: ReadonlyMap<string, VanishedLadder>,
    private readonly keptColumns: number,
    private readonly nowSeconds: number,
    private readonly options: AnalysisOptions,
  ) {}

  add(ladder: Ladder): void {
    // Keys are unique across families by construction; a repeat would double-count, so the first wins.
    if (this.seen.has(ladder.key)) return;
    this.seen.add(ladder.key);
    if (ladder.connections === null) {
      this.steps.push({ ladder, live: undefined, source: undefined, returning: false, at: -1, baselineAt: -1, kept: 0 });
      return;
    }
    const live = this.previousLadders.get(ladder.key);
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
    });
    this.endpoints += n;
    this.baseline += live === undefined || kept === 0 ? n : sizeAt(live, live.windowLength - kept);
  }
}

/** A dump without counters (`iptables-save` without `-c`, restore input): shape only, no traffic. */
function statsWithoutCounters(ladder: Ladder): LadderStats {
  return new LadderResult(
    ladder,
    { connectionsTotal: 0, window: NO_WINDOW, programmedDeviation: programmedDeviation(ladder.endpoints), resets: 0 },
    { counters: null, at: 0, affinity: null, windowCounts: null },
  );
}

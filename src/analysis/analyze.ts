/** The analysis step: models over time → reset-aware totals, window shares, skew and p-values. */
import type { Ladder, ServiceModel } from '../model/types.js';
import { type AdvancedCounters, advanceCounters, affinityTotalAt, totalAt, totalsOf } from './advance-counters.js';
import { programmedDeviation, windowStats } from './distribution-stats.js';
import type { AnalysisState, LadderCounterState, SampleColumn, VanishedLadder } from './state.js';
import type { AnalysisOptions, AnalysisResult, EndpointStats, LadderStats } from './types.js';
import { pruneColumns, windowDeltas } from './window-samples.js';

export const DEFAULT_ANALYSIS_OPTIONS: AnalysisOptions = Object.freeze({
  windowSeconds: 300,
  minExpectedPerEndpoint: 5,
});

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
): { state: AnalysisState; result: AnalysisResult } {
  const previousLadders = state?.ladders ?? new Map<string, LadderCounterState>();
  const previousVanished = state?.vanished ?? new Map<string, VanishedLadder>();
  const keptColumns = pruneColumns(state?.columns ?? [], nowSeconds, options.windowSeconds);
  const seen = new Set<string>();
  const steps: (Counted | Ladder)[] = [];
  let columnLength = 0;
  let resetsThisSample = 0;

  for (const model of models) {
    for (const ladder of model.ladders) {
      // Keys are unique across families by construction; a repeat would double-count, so the first wins.
      if (seen.has(ladder.key)) continue;
      seen.add(ladder.key);
      if (ladder.connections === null) {
        steps.push(ladder);
        continue;
      }
      const live = previousLadders.get(ladder.key);
      const vanished = live === undefined ? previousVanished.get(ladder.key) : undefined;
      const returning =
        vanished !== undefined && nowSeconds - vanished.sinceSeconds <= options.windowSeconds ? vanished : undefined;
      const advanced = advanceCounters(live ?? returning?.counters, returning !== undefined, ladder);
      if (advanced.reset) resetsThisSample++;
      // A live ladder was in every kept column since it appeared; keep the part of its history that
      // survived pruning. A new or returning ladder starts its window now.
      const kept = live === undefined ? 0 : Math.min(live.offsets.length, keptColumns.length);
      steps.push({ ladder, advanced, offset: columnLength, live, kept });
      columnLength += ladder.endpoints.length;
    }
  }

  const column = new Float64Array(columnLength);
  for (const step of steps) {
    if ('advanced' in step) {
      column.set(totalsOf(step.advanced.counters, step.ladder.endpoints.length), step.offset);
    }
  }
  let columns: readonly SampleColumn[] = [...keptColumns, { timeSeconds: nowSeconds, totals: column }];

  const ladders = new Map<string, LadderCounterState>();
  const stats: LadderStats[] = [];
  let longestHistory = 0;
  for (const step of steps) {
    if (!('advanced' in step)) {
      stats.push(statsWithoutCounters(step));
      continue;
    }
    const { ladder, advanced, offset, live, kept } = step;
    const next: LadderCounterState = {
      layout: advanced.layout,
      counters: advanced.counters,
      connectionsTotal: advanced.connectionsTotal,
      resets: advanced.resets,
      offsets: keepTail(live?.offsets ?? [], kept, offset),
      layouts: keepTail(live?.layouts ?? [], kept, advanced.layout),
    };
    ladders.set(ladder.key, next);
    longestHistory = Math.max(longestHistory, next.offsets.length);
    stats.push(ladderStats(ladder, next, columns, options));
  }
  // Columns older than every live ladder's history are referenced by nobody (all ladders vanished).
  columns = columns.slice(columns.length - longestHistory);

  const vanished = new Map<string, VanishedLadder>();
  for (const [key, counters] of previousLadders) {
    // Its history would have a gap; only the counters are kept, the window starts over on return.
    if (!seen.has(key)) {
      vanished.set(key, { sinceSeconds: nowSeconds, counters: { ...counters, offsets: [], layouts: [] } });
    }
  }
  for (const [key, entry] of previousVanished) {
    if (!seen.has(key) && nowSeconds - entry.sinceSeconds <= options.windowSeconds) vanished.set(key, entry);
  }

  return { state: { ladders, vanished, columns }, result: { ladders: stats, resetsThisSample } };
}

/**
 * The last `keep` entries of `history` followed by `value`, in an array of exactly that size: a
 * spread would leave growth slack, and there are two of these per ladder for a window's length.
 */
function keepTail<T>(history: readonly T[], keep: number, value: T): T[] {
  const result = new Array<T>(keep + 1);
  const from = history.length - keep;
  for (let i = 0; i < keep; i++) result[i] = history[from + i] as T;
  result[keep] = value;
  return result;
}

/** A ladder with counters, between advancing its counters and writing its column segment. */
interface Counted {
  readonly ladder: Ladder;
  readonly advanced: AdvancedCounters;
  /** Start of its segment in this sample's column. */
  readonly offset: number;
  readonly live: LadderCounterState | undefined;
  /** How many entries of `live`'s history are still in the kept columns. */
  readonly kept: number;
}

function ladderStats(
  ladder: Ladder,
  counters: LadderCounterState,
  columns: readonly SampleColumn[],
  options: AnalysisOptions,
): LadderStats {
  const deltas = windowDeltas({ columns, offsets: counters.offsets, layouts: counters.layouts });
  const window = windowStats(ladder.endpoints, deltas, options.minExpectedPerEndpoint);
  const windowTotal = window.connections ?? 0;
  const n = ladder.endpoints.length;
  const endpoints = new Array<EndpointStats>(n);
  // A plain loop: this builds one object per endpoint per sample (200,000 on the largest ladders).
  for (let i = 0; i < n; i++) {
    const endpoint = ladder.endpoints[i];
    if (endpoint === undefined) continue;
    const windowConnections = deltas.connections === null ? null : (deltas.connections[i] ?? 0);
    endpoints[i] = {
      endpoint: endpoint.endpoint,
      chain: endpoint.chain,
      probability: endpoint.probability,
      programmedRatio: endpoint.programmedRatio,
      expectedRatio: endpoint.expectedRatio,
      connectionsTotal: totalAt(counters.counters, n, i),
      affinityConnectionsTotal: affinityTotalAt(counters.counters, n, i),
      windowConnections,
      observedRatio: windowConnections !== null && windowTotal > 0 ? windowConnections / windowTotal : null,
    };
  }
  return {
    ladder,
    connectionsTotal: counters.connectionsTotal,
    endpoints,
    window,
    programmedDeviation: programmedDeviation(ladder.endpoints),
    resets: counters.resets,
  };
}

/** A dump without counters (`iptables-save` without `-c`, restore input): shape only, no traffic. */
function statsWithoutCounters(ladder: Ladder): LadderStats {
  return {
    ladder,
    connectionsTotal: 0,
    endpoints: ladder.endpoints.map(
      (endpoint): EndpointStats => ({
        endpoint: endpoint.endpoint,
        chain: endpoint.chain,
        probability: endpoint.probability,
        programmedRatio: endpoint.programmedRatio,
        expectedRatio: endpoint.expectedRatio,
        connectionsTotal: 0,
        affinityConnectionsTotal: 0,
        windowConnections: null,
        observedRatio: null,
      }),
    ),
    window: {
      seconds: 0,
      connections: null,
      skewRatio: null,
      chiSquare: null,
      pValue: null,
      membershipChanged: false,
    },
    programmedDeviation: programmedDeviation(ladder.endpoints),
    resets: 0,
  };
}

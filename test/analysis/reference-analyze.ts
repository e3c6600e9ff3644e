/**
 * Test helper: the analysis as it was before the window kept increments (src/analysis at 501f63c:
 * state.ts, endpoint-layout.ts, advance-counters.ts, analyze.ts, concatenated), one
 * column of totals per sample and plain objects per endpoint. `analyze` must give exactly what this
 * gives (`analyze-reference.test.ts`); it shares `windowDeltas` and the statistics with src.
 */
import type { Ladder, ServiceModel } from '../../src/model/types.js';
import { programmedDeviation, windowStats } from '../../src/analysis/distribution-stats.js';
import { layoutIndex } from '../../src/analysis/endpoint-layout.js';
import type { EndpointLayout, SampleColumn } from '../../src/analysis/state.js';
import type { AnalysisOptions, AnalysisResult, EndpointStats, LadderStats } from '../../src/analysis/types.js';
import { pruneColumns, windowDeltas } from '../../src/analysis/window-samples.js';

// ---- state.ts

/**
 * Counter state of one ladder. The arrays are built fresh by each analysis step and never written
 * afterwards, so a state object can be kept, compared or discarded by the caller without surprises.
 */
interface LadderCounterState {
  readonly layout: EndpointLayout;
  /**
   * Four runs of `layout.chains.length` values: raw connections of the last sample (counted since
   * kube-proxy last rewrote the chain), raw affinity connections, reset-corrected cumulative
   * connections, cumulative affinity connections. One array instead of four keeps small ladders small.
   */
  readonly counters: Float64Array;
  /** Cumulative total of the ladder, including connections of endpoints that have since left. */
  readonly connectionsTotal: number;
  readonly resets: number;
  /**
   * This ladder's history in the window: it has a segment in each of the last `offsets.length`
   * columns of `AnalysisState.columns` (a live ladder is in every sample since it appeared), at
   * `offsets[k]`, laid out as `layouts[k]`. Oldest first.
   */
  readonly offsets: readonly number[];
  readonly layouts: readonly EndpointLayout[];
}

/** A ladder missing from the latest models, kept for a window's length in case its chain comes back. */
interface VanishedLadder {
  readonly sinceSeconds: number;
  readonly counters: LadderCounterState;
}

/** Everything `referenceAnalyze` needs from earlier samples. */
export interface ReferenceState {
  /** Ladders present (with counters) in the last analyzed sample, by `Ladder.key`. */
  readonly ladders: ReadonlyMap<string, LadderCounterState>;
  /** Ladders that disappeared recently, by `Ladder.key`. Their window history is not kept. */
  readonly vanished: ReadonlyMap<string, VanishedLadder>;
  /** Samples still needed by some window, oldest first: the window plus one baseline at or before its start. */
  readonly columns: readonly SampleColumn[];
}

// ---- endpoint-layout.ts

/** The layout for `ladder`, reusing `previous` when the fingerprint (and so the chain order) is unchanged. */
function layoutFor(ladder: Ladder, previous: EndpointLayout | undefined): EndpointLayout {
  if (
    previous !== undefined &&
    previous.fingerprint === ladder.fingerprint &&
    previous.chains.length === ladder.endpoints.length
  ) {
    return previous;
  }
  return { fingerprint: ladder.fingerprint, chains: ladder.endpoints.map((e) => e.chain) };
}

// ---- advance-counters.ts

/** The counter part of a ladder's state (see `LadderCounterState.counters` for the array's runs). */
type LadderCounters = Pick<LadderCounterState, 'layout' | 'counters' | 'connectionsTotal' | 'resets'>;

/** A ladder's counters after this sample, and whether this sample reset them. */
interface AdvancedCounters extends LadderCounters {
  readonly reset: boolean;
}

// Offsets of the runs in `counters`, in multiples of the endpoint count.
const RAW = 0;
const AFFINITY_RAW = 1;
const TOTAL = 2;
const AFFINITY_TOTAL = 3;
const RUNS = 4;

/** Endpoint i's cumulative total, from a ladder's `counters` array. */
function totalAt(counters: Float64Array, n: number, i: number): number {
  return counters[TOTAL * n + i] ?? 0;
}

/** Endpoint i's cumulative affinity total, from a ladder's `counters` array. */
function affinityTotalAt(counters: Float64Array, n: number, i: number): number {
  return counters[AFFINITY_TOTAL * n + i] ?? 0;
}

/** The cumulative totals run of a ladder's `counters` array (a view, not a copy). */
function totalsOf(counters: Float64Array, n: number): Float64Array {
  return counters.subarray(TOTAL * n, (TOTAL + 1) * n);
}

/**
 * Advances one ladder's totals by this sample's raw counters (`ladder.connections` must be non-null).
 *
 * kube-proxy rewrites a whole chain at once (`iptables-restore --noflush`, no counters supplied), and
 * every rewrite restarts all of that chain's rule counters at zero, so a reset is decided for the
 * whole ladder: the fingerprint changed, any endpoint's raw counter (or affinity counter) went down,
 * or the ladder was absent from the previous sample (`wasAbsent`: its chain vanished and came back).
 * On a reset every endpoint's delta is its full raw value: everything counted since the rewrite is new.
 *
 * Blind spot, inherent to sampling counters: a rewrite with an unchanged fingerprint (a periodic full
 * sync, or a sync of an unrelated change on kube-proxy before v1.26) followed, within one sample
 * interval, by at least as many connections per endpoint as before looks like ordinary growth; the
 * connections counted before the rewrite are then lost from the totals. Shorter intervals shrink it.
 */
function advanceCounters(
  previous: LadderCounters | undefined,
  wasAbsent: boolean,
  ladder: Ladder,
): AdvancedCounters {
  const n = ladder.endpoints.length;
  const counters = new Float64Array(RUNS * n);
  let rawSum = 0;
  for (let i = 0; i < n; i++) {
    const endpoint = ladder.endpoints[i];
    // An endpoint without counters inside a ladder that has them should not happen; count it as zero.
    const raw = endpoint?.connections ?? 0;
    counters[RAW * n + i] = raw;
    counters[AFFINITY_RAW * n + i] = endpoint?.affinityConnections ?? 0;
    rawSum += raw;
  }

  if (previous === undefined) {
    // First sight of this ladder: the counters since kube-proxy last wrote the chain are real
    // connections on this node, so they seed the totals. This is not a reset.
    // Copies both raw runs onto both total runs (raw → total, affinity raw → affinity total).
    counters.copyWithin(TOTAL * n, RAW * n, TOTAL * n);
    return { layout: layoutFor(ladder, undefined), counters, connectionsTotal: rawSum, resets: 0, reset: false };
  }

  const layout = layoutFor(ladder, previous.layout);
  const before = previous.counters;
  const m = previous.layout.chains.length;
  // Position of each current endpoint in the previous sample (-1: new endpoint); null when the
  // layout is unchanged and positions are the identity, the common case, which needs no lookups.
  let previousIndex: Int32Array | null = null;
  if (layout !== previous.layout) {
    const index = layoutIndex(previous.layout);
    previousIndex = new Int32Array(n);
    for (let i = 0; i < n; i++) previousIndex[i] = index.get(layout.chains[i] ?? '') ?? -1;
  }

  let reset = wasAbsent || layout !== previous.layout;
  for (let i = 0; i < n && !reset; i++) {
    const j = previousIndex === null ? i : (previousIndex[i] ?? -1);
    if (j < 0) continue;
    if (
      (counters[RAW * n + i] ?? 0) < (before[RAW * m + j] ?? 0) ||
      (counters[AFFINITY_RAW * n + i] ?? 0) < (before[AFFINITY_RAW * m + j] ?? 0)
    ) {
      reset = true;
    }
  }

  let added = 0;
  for (let i = 0; i < n; i++) {
    const j = previousIndex === null ? i : (previousIndex[i] ?? -1);
    const raw = counters[RAW * n + i] ?? 0;
    const affinityRaw = counters[AFFINITY_RAW * n + i] ?? 0;
    // A new endpoint, or one that left and came back, starts a new total: the window must not measure
    // it from a baseline it was not continuously present since. Old connections stay in the ladder's total.
    if (j < 0) {
      counters[TOTAL * n + i] = raw;
      counters[AFFINITY_TOTAL * n + i] = affinityRaw;
      added += raw;
      continue;
    }
    const delta = reset ? raw : raw - (before[RAW * m + j] ?? 0);
    const affinityDelta = reset ? affinityRaw : affinityRaw - (before[AFFINITY_RAW * m + j] ?? 0);
    counters[TOTAL * n + i] = (before[TOTAL * m + j] ?? 0) + delta;
    counters[AFFINITY_TOTAL * n + i] = (before[AFFINITY_TOTAL * m + j] ?? 0) + affinityDelta;
    added += delta;
  }

  return {
    layout,
    counters,
    connectionsTotal: previous.connectionsTotal + added,
    resets: previous.resets + (reset ? 1 : 0),
    reset,
  };
}

// ---- analyze.ts

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
export function referenceAnalyze(
  state: ReferenceState | undefined,
  models: readonly ServiceModel[],
  nowSeconds: number,
  options: AnalysisOptions,
): { state: ReferenceState; result: AnalysisResult } {
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

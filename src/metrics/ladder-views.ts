/** Per-update preparation shared by all families: sorted, de-duplicated, filtered ladder views. */
import type { LadderStats } from '../analysis/types.js';
import { runToEnd, type Slices } from '../slices.js';
import type { Snapshot } from '../snapshot.js';
import type { EndpointFilter } from './endpoint-filter.js';
import { ROWS_PER_STEP, type LadderView, type WithheldCounts } from './family.js';
import { buildLadderLayout, layoutFits, type LadderLayout, type LayoutLadder } from './ladder-layout.js';
import { sortSteps } from '../sort-steps.js';

export interface LadderViews {
  readonly ladders: readonly LadderView[];
  readonly allLadders: readonly LadderView[];
  readonly withheld: WithheldCounts;
  /** The layout the views were made from (null without ladders): its label texts are kept with it. */
  readonly layout: LadderLayout | null;
}

/** The last ladder layout a page built: reused while the samples hold the same ladders. */
export class LadderLayoutCache {
  layout: LadderLayout | null = null;
}

/**
 * Builds the views families iterate. Stale data and a missing analysis give no ladders at all (the
 * self families still report why). Ladders are sorted by label values so output order does not depend
 * on dump order; endpoints keep rule order, which is how the programmed ratios read.
 */
export function buildLadderViews(snapshot: Snapshot, filter: EndpointFilter, maxEndpoints = 0): LadderViews {
  return runToEnd(ladderViewSteps(snapshot, filter, maxEndpoints));
}

/**
 * buildLadderViews() as steps: yields between ladders (the page renders large snapshots in slices).
 * With `cache`, the layout (ladder-layout.ts) of the last call is reused when this snapshot holds the
 * same ladders, and the cache keeps this call's layout otherwise.
 */
export function* ladderViewSteps(snapshot: Snapshot, filter: EndpointFilter, maxEndpoints = 0, cache?: LadderLayoutCache): Slices<LadderViews> {
  const analysis = snapshot.analysis;
  if (analysis === null || snapshot.stale) {
    const laddersStale = snapshot.stale ? (analysis?.ladders.length ?? 0) : 0;
    return {
      ladders: [],
      allLadders: [],
      withheld: { laddersStale, laddersDuplicate: 0, endpointsFiltered: 0, endpointsDuplicate: 0, endpointsBudget: 0 },
      layout: null,
    };
  }

  const stats = analysis.ladders;
  const cached = cache?.layout ?? null;
  let layout: LadderLayout;
  if (cached !== null && layoutFits(cached, stats, filter)) {
    layout = cached;
  } else {
    // Let the old layout go first: after a parsed read it is all that still holds the last model
    // (71 MiB with its label texts at 20,000 services × 10 endpoints), which would stay live while
    // the new layout is built, at the render where a parsed read's heap peaks.
    if (cache !== undefined) cache.layout = null;
    layout = yield* buildLadderLayout(stats, filter);
    if (cache !== undefined) cache.layout = layout;
  }
  yield;

  const budget = maxEndpoints > 0 ? yield* budgetDrops(layout, stats, maxEndpoints) : NO_DROPS;
  const ladders: LadderView[] = [];
  const allLadders: LadderView[] = [];
  for (const entry of layout.ladders) {
    const ladderStats = stats[entry.index] as (typeof stats)[number];
    if (entry.duplicate) {
      allLadders.push({ stats: ladderStats, labels: entry.labels, endpointIndexes: NO_ENDPOINTS });
      continue;
    }
    // The layout's own array: the views add nothing per endpoint.
    const endpointIndexes = budget.dropped.has(entry) ? NO_ENDPOINTS : entry.endpoints;
    const view: LadderView = { stats: ladderStats, labels: entry.labels, endpointIndexes };
    ladders.push(view);
    allLadders.push(view);
    if (ladders.length % ROWS_PER_STEP === 0) yield;
  }
  const { laddersDuplicate, endpointsFiltered, endpointsDuplicate } = layout;
  const endpointsBudget = budget.withheld;
  return { ladders, allLadders, withheld: { laddersStale: 0, laddersDuplicate, endpointsFiltered, endpointsDuplicate, endpointsBudget }, layout };
}

interface BudgetDrops {
  /** Ladders that keep only their service-level series. */
  readonly dropped: ReadonlySet<LayoutLadder>;
  /** Their endpoints. */
  readonly withheld: number;
}

const NO_ENDPOINTS: readonly number[] = [];

const NO_DROPS: BudgetDrops = { dropped: new Set(), withheld: 0 };

/**
 * Keeps per-endpoint detail for the most active ladders (new connections in the window, then since
 * start) until `maxEndpoints` endpoints are used; the others keep only their service-level series.
 * A ladder is kept or dropped whole: half a ladder's endpoints would make its shares unreadable.
 * Decided before the views are made, so the dropped ladders' endpoint views never are (at 20,000
 * services x 10 endpoints, half of them). Yields between its passes and between sort runs.
 */
function* budgetDrops(layout: LadderLayout, stats: readonly LadderStats[], maxEndpoints: number): Slices<BudgetDrops> {
  let total = 0;
  for (const entry of layout.ladders) if (!entry.duplicate) total += entry.endpoints.length;
  if (total <= maxEndpoints) return NO_DROPS;
  const ranked = layout.ladders.filter((entry) => !entry.duplicate && entry.endpoints.length > 0);
  yield;
  const statsOf = (entry: LayoutLadder) => stats[entry.index] as LadderStats;
  yield* sortSteps(ranked, (x, y) => {
    const a = statsOf(x);
    const b = statsOf(y);
    return (b.window.connections ?? 0) - (a.window.connections ?? 0) || b.connectionsTotal - a.connectionsTotal;
  });
  const dropped = new Set<LayoutLadder>();
  let used = 0;
  let withheld = 0;
  for (const entry of ranked) {
    if (used + entry.endpoints.length <= maxEndpoints) {
      used += entry.endpoints.length;
    } else {
      dropped.add(entry);
      withheld += entry.endpoints.length;
    }
  }
  return { dropped, withheld };
}

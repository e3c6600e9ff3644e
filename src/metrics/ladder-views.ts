/** Per-update preparation shared by all families: sorted, de-duplicated, filtered ladder views. */
import type { LadderStats } from '../analysis/types.js';
import { runToEnd, type Slices } from '../slices.js';
import type { Snapshot } from '../snapshot.js';
import type { EndpointFilter } from './endpoint-filter.js';
import { ROWS_PER_STEP, type EndpointView, type LadderView, type WithheldCounts } from './family.js';
import { sortSteps } from './sort-steps.js';

export interface LadderViews {
  readonly ladders: readonly LadderView[];
  readonly allLadders: readonly LadderView[];
  readonly withheld: WithheldCounts;
}

/**
 * Builds the views families iterate. Stale data and a missing analysis give no ladders at all (the
 * self families still report why). Ladders are sorted by label values so output order does not depend
 * on dump order; endpoints keep rule order, which is how the programmed ratios read.
 */
export function buildLadderViews(snapshot: Snapshot, filter: EndpointFilter, maxEndpoints = 0): LadderViews {
  return runToEnd(ladderViewSteps(snapshot, filter, maxEndpoints));
}

/** buildLadderViews() as steps: yields between ladders (the page renders large snapshots in slices). */
export function* ladderViewSteps(snapshot: Snapshot, filter: EndpointFilter, maxEndpoints = 0): Slices<LadderViews> {
  const analysis = snapshot.analysis;
  if (analysis === null || snapshot.stale) {
    const laddersStale = snapshot.stale ? (analysis?.ladders.length ?? 0) : 0;
    return {
      ladders: [],
      allLadders: [],
      withheld: { laddersStale, laddersDuplicate: 0, endpointsFiltered: 0, endpointsDuplicate: 0, endpointsBudget: 0 },
    };
  }

  const sorted = analysis.ladders.map((stats) => ({ stats, labels: ladderLabels(stats) }));
  yield;
  yield* sortSteps(sorted, compareLadders);
  const ladders: LadderView[] = [];
  const allLadders: LadderView[] = [];
  const seen = new Set<string>();
  let laddersDuplicate = 0;
  let endpointsFiltered = 0;
  let endpointsDuplicate = 0;

  for (const { stats, labels } of sorted) {
    // Two ladders share a label set only when names are unknown (''): chain names are unique per
    // family and policy. Emitting both would be duplicate series, which Prometheus rejects.
    const key = labels.join('\u0000');
    if (seen.has(key)) {
      laddersDuplicate++;
      allLadders.push({ stats, labels, endpoints: [] });
      continue;
    }
    seen.add(key);
    const endpoints: EndpointView[] = [];
    if (filter(labels[0] ?? '', labels[1] ?? '')) {
      const seenEndpoints = new Set<string>();
      for (const ep of stats.endpoints) {
        const endpoint = ep.endpoint ?? '';
        if (seenEndpoints.has(endpoint)) {
          endpointsDuplicate++;
          continue;
        }
        seenEndpoints.add(endpoint);
        endpoints.push({ stats: ep, labels: [...labels, endpoint] });
      }
    } else {
      endpointsFiltered += stats.ladder.endpoints.length;
    }
    const view: LadderView = { stats, labels, endpoints };
    ladders.push(view);
    allLadders.push(view);
    if (ladders.length % ROWS_PER_STEP === 0) yield;
  }
  const endpointsBudget = maxEndpoints > 0 ? yield* applyBudget(ladders, allLadders, maxEndpoints) : 0;
  return { ladders, allLadders, withheld: { laddersStale: 0, laddersDuplicate, endpointsFiltered, endpointsDuplicate, endpointsBudget } };
}

/**
 * Keeps per-endpoint detail for the most active ladders (new connections in the window, then since
 * start) until `maxEndpoints` endpoints are used; the others keep only their service-level series.
 * A ladder is kept or dropped whole: half a ladder's endpoints would make its shares unreadable.
 * Rewrites the views in place (same order); returns how many endpoints were withheld. Yields between
 * its passes and every few hundred ladders (it runs on 20,000 ladders at once).
 */
function* applyBudget(ladders: LadderView[], allLadders: LadderView[], maxEndpoints: number): Slices<number> {
  let total = 0;
  for (const l of ladders) total += l.endpoints.length;
  if (total <= maxEndpoints) return 0;
  const ranked = ladders.filter((l) => l.endpoints.length > 0);
  yield;
  yield* sortSteps(ranked, (a, b) => (b.stats.window.connections ?? 0) - (a.stats.window.connections ?? 0) || b.stats.connectionsTotal - a.stats.connectionsTotal);
  const dropped = new Set<LadderView>();
  let used = 0;
  for (const l of ranked) {
    if (used + l.endpoints.length <= maxEndpoints) used += l.endpoints.length;
    else dropped.add(l);
  }
  yield;
  let withheld = 0;
  for (const l of dropped) withheld += l.endpoints.length;
  for (const views of [ladders, allLadders]) {
    for (let i = 0; i < views.length; i++) {
      const view = views[i] as LadderView;
      if (dropped.has(view)) views[i] = { ...view, endpoints: [] };
      if (i % (8 * ROWS_PER_STEP) === 0) yield;
    }
  }
  return withheld;
}

function ladderLabels(stats: LadderStats): readonly string[] {
  const { name, protocol, ipFamily, policy } = stats.ladder;
  return [name?.namespace ?? '', name?.service ?? '', name?.port ?? '', protocol ?? '', ipFamily, policy];
}

interface Sortable {
  readonly stats: LadderStats;
  readonly labels: readonly string[];
}

// Plain code-unit comparison, not localeCompare: the order must not depend on the host's locale.
function compareLadders(a: Sortable, b: Sortable): number {
  for (let i = 0; i < a.labels.length; i++) {
    const x = a.labels[i] ?? '';
    const y = b.labels[i] ?? '';
    if (x !== y) return x < y ? -1 : 1;
  }
  const ca = a.stats.ladder.chain;
  const cb = b.stats.ladder.chain;
  return ca === cb ? 0 : ca < cb ? -1 : 1;
}

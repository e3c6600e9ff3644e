/**
 * The part of the page's ladder views that depends only on which ladders a sample holds, in which order:
 * their sort order, label arrays, duplicate label sets, filtered services and repeated endpoints. Between rewrites of the
 * rules every sample holds the very same Ladder objects in the same order (a refreshed read keeps the
 * parsed read's model), so the page builds this once and keeps it until the ladders change: at 10,000
 * services x 5 endpoints, sorting the ladders and making 60k label arrays was a tenth of each render.
 */
import type { LadderStats } from '../analysis/types.js';
import type { Ladder } from '../model/types.js';
import type { Slices } from '../slices.js';
import type { EndpointFilter } from './endpoint-filter.js';
import { LabelTextCache } from './exposition.js';
import { ROWS_PER_STEP } from './family.js';
import { sortSteps } from '../sort-steps.js';

/** One ladder of the layout, in page order. */
export interface LayoutLadder {
  /** Where the ladder is in the analysis's `ladders`. */
  readonly index: number;
  /** Values for LADDER_LABELS. */
  readonly labels: readonly string[];
  /** Its label set repeats an earlier ladder's: only families over `allLadders` show it. */
  readonly duplicate: boolean;
  /**
   * Endpoints with per-endpoint series (before the series budget): positions in the ladder's
   * `endpoints`. Positions, not label arrays: an endpoint's series are its ladder's labels plus its
   * endpoint (Emit's `lastValue`).
   */
  readonly endpoints: readonly number[];
}

export interface LadderLayout {
  /** The analysis's ladders it was built from, in their order: it fits a sample holding exactly these. */
  readonly source: readonly Ladder[];
  readonly filter: EndpointFilter;
  readonly ladders: readonly LayoutLadder[];
  readonly laddersDuplicate: number;
  readonly endpointsFiltered: number;
  readonly endpointsDuplicate: number;
  /**
   * Label text of the layout's label arrays, kept with it: a render's LabelTextCache reads and fills it
   * for these arrays only (arrays a family builds per series stay in the render's own cache).
   */
  readonly labelTexts: LabelTextCache;
  /** The label arrays of `ladders`. */
  readonly owns: (values: readonly string[]) => boolean;
}

/** True when `layout` was built from these very ladders, in this order, with this filter. */
export function layoutFits(layout: LadderLayout, ladders: readonly LadderStats[], filter: EndpointFilter): boolean {
  if (layout.filter !== filter || layout.source.length !== ladders.length) return false;
  for (let i = 0; i < ladders.length; i++) if (ladders[i]?.ladder !== layout.source[i]) return false;
  return true;
}

/**
 * Sorts the ladders by label values (then chain) so output order does not depend on dump order; marks
 * repeated label sets; endpoints keep rule order (how the programmed ratios read), each endpoint label
 * once per ladder. Yields between sort runs and every few dozen ladders.
 */
export function* buildLadderLayout(ladders: readonly LadderStats[], filter: EndpointFilter): Slices<LadderLayout> {
  const sorted = ladders.map((stats, index) => ({ stats, index, labels: ladderLabels(stats.ladder) }));
  yield;
  yield* sortSteps(sorted, compareLadders);
  const out: LayoutLadder[] = [];
  const owned = new Set<readonly string[]>();
  const seen = new Set<string>();
  let laddersDuplicate = 0;
  let endpointsFiltered = 0;
  let endpointsDuplicate = 0;
  for (const { stats, index, labels } of sorted) {
    owned.add(labels);
    // Two ladders share a label set only when names are unknown (''): chain names are unique per
    // family and policy. Emitting both would be duplicate series, which Prometheus rejects.
    const key = labels.join('\u0000');
    if (seen.has(key)) {
      laddersDuplicate++;
      out.push({ index, labels, duplicate: true, endpoints: [] });
      continue;
    }
    seen.add(key);
    const endpoints: number[] = [];
    if (filter(labels[0] ?? '', labels[1] ?? '')) {
      const seenEndpoints = new Set<string>();
      const statsEndpoints = stats.endpoints;
      for (let i = 0; i < statsEndpoints.length; i++) {
        const endpoint = statsEndpoints[i]?.endpoint ?? '';
        if (seenEndpoints.has(endpoint)) {
          endpointsDuplicate++;
          continue;
        }
        seenEndpoints.add(endpoint);
        endpoints.push(i);
      }
    } else {
      endpointsFiltered += stats.ladder.endpoints.length;
    }
    out.push({ index, labels, duplicate: false, endpoints });
    if (out.length % ROWS_PER_STEP === 0) yield;
  }
  return {
    source: ladders.map((stats) => stats.ladder),
    filter,
    ladders: out,
    laddersDuplicate,
    endpointsFiltered,
    endpointsDuplicate,
    labelTexts: new LabelTextCache(),
    owns: (values) => owned.has(values),
  };
}

function ladderLabels(ladder: Ladder): readonly string[] {
  const { name, protocol, ipFamily, policy } = ladder;
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

/**
 * The sliding window: which samples it keeps, and per-endpoint deltas over it. `windowDeltas` is the
 * definition on plain columns of totals; `analyze` keeps increments instead (`ladder-window.ts`) and
 * must agree with it (`test/analysis/analyze-reference.test.ts`).
 */
import { layoutIndex } from './endpoint-layout.js';
import type { EndpointLayout, SampleColumn } from './state.js';

/**
 * Drops columns the window no longer needs: everything older than the newest column at or before
 * `nowSeconds - windowSeconds`, which stays as the baseline the window is measured from.
 */
export function pruneColumns<C extends { readonly timeSeconds: number }>(
  columns: readonly C[],
  nowSeconds: number,
  windowSeconds: number,
): readonly C[] {
  const windowStart = nowSeconds - windowSeconds;
  let baseline = 0;
  for (let i = 0; i < columns.length; i++) {
    if ((columns[i]?.timeSeconds ?? Number.POSITIVE_INFINITY) <= windowStart) baseline = i;
    else break;
  }
  return baseline === 0 ? columns : columns.slice(baseline);
}

/** One ladder's history: its segments in the last `offsets.length` of `columns`, oldest first. */
export interface LadderHistory {
  readonly columns: readonly SampleColumn[];
  readonly offsets: readonly number[];
  readonly layouts: readonly EndpointLayout[];
}

/** New connections per endpoint of the newest layout between the oldest and newest sample. */
export interface WindowDeltas {
  /** Seconds between the oldest and newest sample; 0 with fewer than two samples. */
  readonly seconds: number;
  /** Aligned to the newest layout; null with fewer than two samples. */
  readonly connections: Float64Array | null;
  /** Some sample in the window had a different fingerprint than the newest. */
  readonly membershipChanged: boolean;
}

/**
 * Differences of the cumulative totals between the oldest sample of the ladder's history and the
 * newest. Totals are reset-corrected, so a counter reset inside the window does not distort them.
 */
export function windowDeltas(history: LadderHistory): WindowDeltas {
  const k = history.offsets.length;
  const first = history.columns.length - k;
  const baseline = history.columns[first];
  const newest = history.columns[history.columns.length - 1];
  const baselineLayout = history.layouts[0];
  const newestLayout = history.layouts[k - 1];
  if (k < 2 || first < 0 || !baseline || !newest || !baselineLayout || !newestLayout) {
    return { seconds: 0, connections: null, membershipChanged: false };
  }
  const seconds = newest.timeSeconds - baseline.timeSeconds;
  const baseAt = history.offsets[0] ?? 0;
  const newAt = history.offsets[k - 1] ?? 0;
  const n = newestLayout.chains.length;
  const connections = new Float64Array(n);

  const otherLayouts: EndpointLayout[] = [];
  let membershipChanged = false;
  for (const layout of history.layouts) {
    if (layout === newestLayout || otherLayouts.includes(layout)) continue;
    otherLayouts.push(layout);
    if (layout.fingerprint !== newestLayout.fingerprint) membershipChanged = true;
  }

  if (otherLayouts.length === 0) {
    // The common case: one membership for the whole window, segments aligned, no lookups.
    for (let i = 0; i < n; i++) {
      connections[i] = (newest.totals[newAt + i] ?? 0) - (baseline.totals[baseAt + i] ?? 0);
    }
    return { seconds, connections, membershipChanged };
  }

  const positions = baselinePositions(newestLayout, baselineLayout, otherLayouts);
  for (let i = 0; i < n; i++) {
    const j = positions[i] ?? -1;
    connections[i] = (newest.totals[newAt + i] ?? 0) - (j < 0 ? 0 : (baseline.totals[baseAt + j] ?? 0));
  }
  return { seconds, connections, membershipChanged };
}

interface Alignment {
  readonly baseline: EndpointLayout;
  readonly others: readonly EndpointLayout[];
  readonly positions: Int32Array;
}

// The alignment only changes when a layout enters or leaves the window, but a window spanning a
// membership change is evaluated on every sample for a whole window length; memoise it per newest
// layout so those samples cost one pass over an Int32Array rather than Map lookups per endpoint.
const alignmentCache = new WeakMap<EndpointLayout, Alignment>();

/**
 * For each endpoint of `newest`, its position in `baseline`, or -1 when it must be counted from zero.
 *
 * An endpoint present in every sample of the window is measured from its baseline total. One missing
 * from any sample joined (or left and rejoined) inside the window: its total restarted when it joined,
 * at the raw counter of a chain rewritten after the baseline, so all of it falls inside the window.
 */
function baselinePositions(
  newest: EndpointLayout,
  baseline: EndpointLayout,
  others: readonly EndpointLayout[],
): Int32Array {
  const cached = alignmentCache.get(newest);
  if (
    cached !== undefined &&
    cached.baseline === baseline &&
    cached.others.length === others.length &&
    cached.others.every((layout) => others.includes(layout))
  ) {
    return cached.positions;
  }
  const indexes = others.map(layoutIndex);
  const baselineIndex = baseline === newest ? null : layoutIndex(baseline);
  const positions = new Int32Array(newest.chains.length);
  newest.chains.forEach((chain, i) => {
    let continuous = true;
    for (const index of indexes) {
      if (!index.has(chain)) {
        continuous = false;
        break;
      }
    }
    positions[i] = !continuous ? -1 : baselineIndex === null ? i : (baselineIndex.get(chain) ?? -1);
  });
  alignmentCache.set(newest, { baseline, others: [...others], positions });
  return positions;
}

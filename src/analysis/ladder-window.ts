/**
 * One ladder's sliding window over increment columns: its spans, the baseline totals the window is
 * measured from, and the per-endpoint deltas. Gives what `windowDeltas` gives on columns of totals.
 */
import { chainAt, layoutCopy, layoutIndex, sizeOf } from './endpoint-layout.js';
import { type IncrementColumn, incrementAt } from './increment-column.js';
import type { Alignment, EndpointLayout, LadderCounterState, Membership } from './state.js';

/** The spans of a window (see `LadderCounterState.spans`). */
export interface Spans {
  readonly spans: readonly number[];
  readonly spanLayouts: readonly (EndpointLayout | null)[] | null;
}

/** The span index holding history position `p` (0: oldest), and that span's offset. */
function spanAt(spans: readonly number[], p: number): number {
  let k = 0;
  let seen = spans[1] ?? 0;
  while (seen <= p && k + 2 < spans.length) {
    k += 2;
    seen += spans[k + 1] ?? 0;
  }
  return k;
}

/** The membership of history position `p` of `state` (null spans are its own membership). */
function membershipAt(state: LadderCounterState, p: number): Membership {
  if (state.spanLayouts === null) return state.membership;
  return state.spanLayouts[spanAt(state.spans, p) / 2] ?? state.membership;
}

/** Endpoints at history position `p`: the length of the baseline when the window starts there. */
export function sizeAt(state: LadderCounterState, p: number): number {
  return sizeOf(membershipAt(state, p));
}

/**
 * Writes the totals at history position `dropped` of `previous` (its new oldest column once `dropped`
 * columns left the window) to `out` at `outAt`: the old baseline plus each later column's increments,
 * following the membership from column to column. Each step repeats what `advanceCounters` did when
 * that column was taken (an endpoint new to a column starts at its increment, the others add theirs),
 * in the same floating-point operations, so the result is the totals of that sample exactly.
 */
export function slideBaseline(
  previous: LadderCounterState,
  columns: readonly IncrementColumn[],
  dropped: number,
  out: Float64Array,
  outAt: number,
): void {
  const first = columns.length - previous.windowLength;
  let layout = membershipAt(previous, 0);
  let values = previous.baseline;
  let valuesAt = previous.baselineAt;
  if (dropped === 0) {
    // A loop, not set(subarray()): a view per ladder per sample costs more than copying ten numbers.
    const n = sizeOf(layout);
    for (let i = 0; i < n; i++) out[outAt + i] = values[valuesAt + i] as number;
    return;
  }
  for (let p = 1; p <= dropped; p++) {
    const column = columns[first + p];
    const k = spanAt(previous.spans, p);
    const offset = previous.spans[k] ?? 0;
    const next = previous.spanLayouts === null ? previous.membership : (previous.spanLayouts[k / 2] ?? previous.membership);
    const n = sizeOf(next);
    const target = p === dropped ? out : new Float64Array(n);
    const targetAt = p === dropped ? outAt : 0;
    if (column === undefined) throw new Error(`analysis state: column ${first + p} of ${columns.length} missing`);
    if (next === layout) {
      for (let i = 0; i < n; i++) target[targetAt + i] = (values[valuesAt + i] as number) + incrementAt(column, offset + i);
    } else {
      const index = layoutIndex(layout);
      for (let i = 0; i < n; i++) {
        const j = index.get(chainAt(next, i)) ?? -1;
        const increment = incrementAt(column, offset + i);
        target[targetAt + i] = j < 0 ? increment : (values[valuesAt + j] as number) + increment;
      }
    }
    layout = next;
    values = target;
    valuesAt = targetAt;
  }
}

/**
 * The spans once the oldest `dropped` columns left and this sample's column (at `offset`) joined. When
 * the membership changed in this sample, the spans that had the previous one get a copy of it.
 */
export function nextSpans(previous: LadderCounterState, dropped: number, offset: number, layoutChanged: boolean): Spans {
  // The common case, in its own few lines: one membership, one span, the segment where it was. Once
  // the window is full (one column in, one out), the spans stay the same and are shared.
  const remaining = (previous.spans[1] ?? 0) - dropped;
  if (!layoutChanged && previous.spanLayouts === null && previous.spans.length === 2 && previous.spans[0] === offset && remaining > 0) {
    return { spans: remaining + 1 === previous.spans[1] ? previous.spans : [offset, remaining + 1], spanLayouts: null };
  }
  const spans: number[] = [];
  let layouts: (EndpointLayout | null)[] | null = previous.spanLayouts === null && !layoutChanged ? null : [];
  const copy = layoutChanged ? layoutCopy(previous.membership) : null;
  let skip = dropped;
  for (let k = 0; k < previous.spans.length; k += 2) {
    const count = previous.spans[k + 1] ?? 0;
    if (skip >= count) {
      skip -= count;
      continue;
    }
    spans.push(previous.spans[k] ?? 0, count - skip);
    skip = 0;
    if (layouts !== null) layouts.push(previous.spanLayouts?.[k / 2] ?? copy);
  }
  const last = spans.length - 2;
  const lastLayout = layouts === null ? null : (layouts[layouts.length - 1] ?? null);
  if (last >= 0 && spans[last] === offset && lastLayout === null && !layoutChanged) {
    spans[last + 1] = (spans[last + 1] ?? 0) + 1;
  } else {
    spans.push(offset, 1);
    layouts?.push(null);
  }
  // The window no longer reaches back to another membership: drop the per-span layouts.
  if (layouts !== null && layouts.every((layout) => layout === null)) layouts = null;
  return { spans, spanLayouts: layouts };
}

/** What differs in the window from the current membership. */
export interface WindowMemberships {
  /** The baseline column's membership (null: the current one). */
  readonly baseline: EndpointLayout | null;
  /** Every membership of the window other than the current one, in order of first appearance. */
  readonly others: readonly EndpointLayout[];
}

const CURRENT_ONLY: WindowMemberships = Object.freeze({ baseline: null, others: Object.freeze([]) });

export function windowMemberships(spans: Spans): WindowMemberships {
  if (spans.spanLayouts === null) return CURRENT_ONLY;
  const others: EndpointLayout[] = [];
  for (const layout of spans.spanLayouts) if (layout !== null && !others.includes(layout)) others.push(layout);
  return { baseline: spans.spanLayouts[0] ?? null, others };
}

/**
 * For each endpoint of `current`, its position in the baseline, or -1 when it must be counted from zero.
 *
 * An endpoint present in every sample of the window is measured from its baseline total. One missing
 * from any sample joined (or left and rejoined) inside the window: its total restarted when it joined,
 * at the raw counter of a chain rewritten after the baseline, so all of it falls inside the window.
 * `previous` is reused while the window's memberships are the same ones (it changes only when a
 * membership enters or leaves the window, but the window spans a change for a whole window length).
 */
export function alignWindow(current: Membership, memberships: WindowMemberships, previous: Alignment | null): Alignment {
  const { baseline, others } = memberships;
  if (
    previous !== null &&
    previous.baseline === baseline &&
    previous.others.length === others.length &&
    previous.others.every((layout) => others.includes(layout))
  ) {
    return previous;
  }
  const indexes = others.map(layoutIndex);
  const baselineIndex = baseline === null ? null : layoutIndex(baseline);
  const n = sizeOf(current);
  const positions = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const chain = chainAt(current, i);
    let continuous = true;
    for (const index of indexes) {
      if (!index.has(chain)) {
        continuous = false;
        break;
      }
    }
    positions[i] = !continuous ? -1 : baselineIndex === null ? i : (baselineIndex.get(chain) ?? -1);
  }
  return { baseline, others, positions };
}

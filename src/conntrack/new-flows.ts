/**
 * New flows per endpoint from successive conntrack scans: a flow whose identity was not in the previous
 * scan is new. Pure: state in, state out.
 *
 * Sampled, not exact: a flow that starts and is destroyed between two scans is never seen. Closed TCP
 * connections linger in TIME_WAIT (120 s by default) and UDP flows for at least 30 s, so with scans a
 * few seconds apart almost nothing is missed; RST-closed TCP connections (CLOSE, 10 s), early drops on
 * a full table, and a `--conntrack.max-entries` cap are the exceptions. The first scan is a baseline:
 * flows already there are not counted, since their start is unknown.
 */
export interface NewFlowState {
  /** Flow keys of the previous scan. */
  readonly seen: ReadonlySet<string>;
  /** Cumulative new flows per tally key since the first scan. */
  readonly totals: ReadonlyMap<string, number>;
  readonly scans: number;
}

export const INITIAL_NEW_FLOW_STATE: NewFlowState = { seen: new Set(), totals: new Map(), scans: 0 };

/**
 * `current`: flow key → tally key of this scan. A truncated scan should not be passed in (flows it
 * did not reach would look new next time); keep the previous state instead.
 */
export function advanceNewFlows(state: NewFlowState, current: ReadonlyMap<string, string>): NewFlowState {
  const totals = new Map(state.totals);
  if (state.scans > 0) {
    for (const [flow, tally] of current) {
      if (!state.seen.has(flow)) totals.set(tally, (totals.get(tally) ?? 0) + 1);
    }
  }
  return { seen: new Set(current.keys()), totals, scans: state.scans + 1 };
}

/** Reset-aware cumulative counters for one ladder: turns raw rule counters into monotonic totals. */
import type { Ladder } from '../model/types.js';
import { layoutFor, layoutIndex } from './endpoint-layout.js';
import type { LadderCounterState } from './state.js';

/** The counter part of a ladder's state (see `LadderCounterState.counters` for the array's runs). */
export type LadderCounters = Pick<LadderCounterState, 'layout' | 'counters' | 'connectionsTotal' | 'resets'>;

/** A ladder's counters after this sample, and whether this sample reset them. */
export interface AdvancedCounters extends LadderCounters {
  readonly reset: boolean;
}

// Offsets of the runs in `counters`, in multiples of the endpoint count.
const RAW = 0;
const AFFINITY_RAW = 1;
const TOTAL = 2;
const AFFINITY_TOTAL = 3;
const RUNS = 4;

/** Endpoint i's cumulative total, from a ladder's `counters` array. */
export function totalAt(counters: Float64Array, n: number, i: number): number {
  return counters[TOTAL * n + i] ?? 0;
}

/** Endpoint i's cumulative affinity total, from a ladder's `counters` array. */
export function affinityTotalAt(counters: Float64Array, n: number, i: number): number {
  return counters[AFFINITY_TOTAL * n + i] ?? 0;
}

/** The cumulative totals run of a ladder's `counters` array (a view, not a copy). */
export function totalsOf(counters: Float64Array, n: number): Float64Array {
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
export function advanceCounters(
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

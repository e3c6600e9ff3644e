/** Reset-aware cumulative counters for one ladder: turns raw rule counters into monotonic totals. */
import type { Ladder, ModelCounters } from '../model/types.js';
import { chainAt, layoutIndex, sameLayout } from './endpoint-layout.js';
import type { LadderCounterState, SampleCounters } from './state.js';

/** The counter part of a ladder's previous state. */
export type PreviousCounters = Pick<
  LadderCounterState,
  'membership' | 'size' | 'counters' | 'at' | 'affinity' | 'connectionsTotal' | 'resets'
>;

/** Where this sample's counters of the ladder go. */
export interface CounterSlot {
  readonly counters: SampleCounters;
  readonly at: number;
  /** Per endpoint, what its total grew by (its whole total when it is new): the window column's values. */
  readonly increments: Float64Array;
}

/**
 * Where the ladder's raw counters are: a refreshed model's arrays (`ServiceModel.counters`), the
 * ladder being its `inputLadder`-th with its endpoints from `inputAt` on; or, with `input` null, the
 * ladder's endpoints.
 */
export interface CounterInput {
  readonly input: ModelCounters | null;
  readonly inputAt: number;
  readonly inputLadder: number;
}

export const FROM_ENDPOINTS: CounterInput = Object.freeze({ input: null, inputAt: 0, inputLadder: 0 });

/** The ladder's totals after this sample, and what changed. */
export interface AdvancedCounters {
  readonly connectionsTotal: number;
  readonly resets: number;
  /** Affinity raw counters and totals (`LadderCounterState.affinity`). */
  readonly affinity: Float64Array | null;
  /** This sample reset the ladder's counters. */
  readonly reset: boolean;
  /** The membership differs from the previous sample's (always a reset). */
  readonly layoutChanged: boolean;
}

/**
 * Advances one ladder's totals by this sample's raw counters (`ladder.connections` must be non-null),
 * writing raw counters, totals and increments into `slot`.
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
  previous: PreviousCounters | undefined,
  wasAbsent: boolean,
  ladder: Ladder,
  slot: CounterSlot,
  source: CounterInput = FROM_ENDPOINTS,
): AdvancedCounters {
  const { raw, totals } = slot.counters;
  const { at, increments } = slot;
  const n = ladder.endpoints.length;
  const affinity = readRaw(previous?.affinity != null, ladder, source, raw, at);

  if (previous === undefined) {
    // First sight of this ladder: the counters since kube-proxy last wrote the chain are real
    // connections on this node, so they seed the totals. This is not a reset.
    let rawSum = 0;
    for (let i = 0; i < n; i++) {
      const value = raw[at + i] as number;
      rawSum += value;
      totals[at + i] = value;
      increments[at + i] = value;
    }
    affinity?.copyWithin(n, 0, n);
    return { connectionsTotal: rawSum, resets: 0, affinity, reset: false, layoutChanged: false };
  }

  const before = previous.counters;
  const from = previous.at;
  const m = previous.size;
  const affinityBefore = previous.affinity;
  const layoutChanged = !sameLayout(previous.membership, ladder);
  // Position of each current endpoint in the previous sample (-1: new endpoint); null when the
  // membership is unchanged and positions are the identity, the common case, which needs no lookups.
  let previousIndex: Int32Array | null = null;
  if (layoutChanged) {
    const index = layoutIndex(previous.membership);
    previousIndex = new Int32Array(n);
    for (let i = 0; i < n; i++) previousIndex[i] = index.get(chainAt(ladder, i)) ?? -1;
  }

  let reset = wasAbsent || layoutChanged;
  for (let i = 0; i < n && !reset; i++) {
    if ((raw[at + i] as number) < (before.raw[from + i] as number)) reset = true;
    else if (affinity !== null && (affinity[i] as number) < valueAt(affinityBefore, i)) reset = true;
  }

  let added = 0;
  for (let i = 0; i < n; i++) {
    const j = previousIndex === null ? i : (previousIndex[i] as number);
    const value = raw[at + i] as number;
    // A new endpoint, or one that left and came back, starts a new total: the window must not measure
    // it from a baseline it was not continuously present since. Old connections stay in the ladder's total.
    if (j < 0) {
      totals[at + i] = value;
      increments[at + i] = value;
      if (affinity !== null) affinity[n + i] = affinity[i] as number;
      added += value;
      continue;
    }
    const delta = reset ? value : value - (before.raw[from + j] as number);
    totals[at + i] = (before.totals[from + j] as number) + delta;
    increments[at + i] = delta;
    if (affinity !== null) {
      const affinityValue = affinity[i] as number;
      const affinityDelta = reset ? affinityValue : affinityValue - valueAt(affinityBefore, j);
      affinity[n + i] = valueAt(affinityBefore, m + j) + affinityDelta;
    }
    added += delta;
  }

  return {
    connectionsTotal: previous.connectionsTotal + added,
    resets: previous.resets + (reset ? 1 : 0),
    affinity,
    reset,
    layoutChanged,
  };
}

/**
 * Copies the ladder's raw counters into `raw` at `at`; its affinity raw counters go into a new array
 * (their totals follow, in [n, 2n)) when it has affinity counters now or had them before.
 */
function readRaw(hadAffinity: boolean, ladder: Ladder, source: CounterInput, raw: Float64Array, at: number): Float64Array | null {
  const endpoints = ladder.endpoints;
  const n = endpoints.length;
  const { input, inputAt } = source;
  let hasAffinity = hadAffinity;
  if (input === null) {
    for (let i = 0; i < n; i++) {
      const endpoint = endpoints[i];
      // An endpoint without counters inside a ladder that has them should not happen; count it as zero.
      raw[at + i] = endpoint?.connections ?? 0;
      if (endpoint?.affinityConnections != null) hasAffinity = true;
    }
  } else {
    const connections = input.connections;
    for (let i = 0; i < n; i++) raw[at + i] = connections[inputAt + i] as number;
    // The arrays' form of "some endpoint's affinityConnections is a number".
    if (n > 0 && input.hasAffinity[source.inputLadder] === 1) hasAffinity = true;
  }
  if (!hasAffinity) return null;
  const affinity = new Float64Array(2 * n);
  if (input === null) {
    for (let i = 0; i < n; i++) affinity[i] = endpoints[i]?.affinityConnections ?? 0;
  } else if (input.hasAffinity[source.inputLadder] === 1) {
    for (let i = 0; i < n; i++) affinity[i] = input.affinityConnections[inputAt + i] as number;
  }
  return affinity;
}

/** A previous affinity value; a ladder without affinity counters had zeros. */
function valueAt(values: Float64Array | null, i: number): number {
  return values === null ? 0 : (values[i] as number);
}

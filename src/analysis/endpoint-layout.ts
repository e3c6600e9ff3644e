/** Endpoint layouts: the SEP chains of one ladder fingerprint, and a cached chain → index lookup. */
import type { Ladder } from '../model/types.js';
import type { EndpointLayout } from './state.js';

// Built only when membership changes; memoised per layout object so a window that spans a change
// does not rebuild a 200,000-entry Map on every sample. Weak, so layouts pruned from state are freed.
const indexCache = new WeakMap<EndpointLayout, ReadonlyMap<string, number>>();

/** The layout for `ladder`, reusing `previous` when the fingerprint (and so the chain order) is unchanged. */
export function layoutFor(ladder: Ladder, previous: EndpointLayout | undefined): EndpointLayout {
  if (
    previous !== undefined &&
    previous.fingerprint === ladder.fingerprint &&
    previous.chains.length === ladder.endpoints.length
  ) {
    return previous;
  }
  return { fingerprint: ladder.fingerprint, chains: ladder.endpoints.map((e) => e.chain) };
}

/** chain → position in `layout.chains`. */
export function layoutIndex(layout: EndpointLayout): ReadonlyMap<string, number> {
  let index = indexCache.get(layout);
  if (index === undefined) {
    const built = new Map<string, number>();
    layout.chains.forEach((chain, i) => {
      // A chain listed twice (a hand-edited ladder) keeps its first position, like the model's rule order.
      if (!built.has(chain)) built.set(chain, i);
    });
    index = built;
    indexCache.set(layout, index);
  }
  return index;
}

/** Endpoint layouts: a ladder's SEP chains in rule order, read from the model or from a kept copy. */
import type { Ladder } from '../model/types.js';
import type { EndpointLayout, Membership } from './state.js';

// Built only when membership changes; memoised per layout object so a window that spans a change
// does not rebuild a 200,000-entry Map on every sample. Weak, so layouts pruned from state are freed.
const indexCache = new WeakMap<Membership, ReadonlyMap<string, number>>();

function isLadder(membership: Membership): membership is Ladder {
  return 'endpoints' in membership;
}

/** Endpoints in the membership. */
export function sizeOf(membership: Membership): number {
  return isLadder(membership) ? membership.endpoints.length : membership.chains.length;
}

/** The SEP chain of endpoint `i`. */
export function chainAt(membership: Membership, i: number): string {
  return (isLadder(membership) ? membership.endpoints[i]?.chain : membership.chains[i]) ?? '';
}

/**
 * Whether `ladder` has the membership of `previous` (fingerprint and endpoint count): kube-proxy
 * rewrote the chain with other rules otherwise, and its counters restarted.
 */
export function sameLayout(previous: Membership, ladder: Ladder): boolean {
  // The same Ladder object, sample after sample, while refreshed reads share their parsed read's.
  if (previous === ladder) return true;
  return previous.fingerprint === ladder.fingerprint && sizeOf(previous) === ladder.endpoints.length;
}

/** A copy of the membership that keeps only its fingerprint and chains, not the model's objects. */
export function layoutCopy(membership: Membership): EndpointLayout {
  if (!isLadder(membership)) return membership;
  return { fingerprint: membership.fingerprint, chains: membership.endpoints.map((e) => e.chain) };
}

/** chain → position in the membership. */
export function layoutIndex(membership: Membership): ReadonlyMap<string, number> {
  let index = indexCache.get(membership);
  if (index === undefined) {
    const built = new Map<string, number>();
    const n = sizeOf(membership);
    for (let i = 0; i < n; i++) {
      const chain = chainAt(membership, i);
      // A chain listed twice (a hand-edited ladder) keeps its first position, like the model's rule order.
      if (!built.has(chain)) built.set(chain, i);
    }
    index = built;
    indexCache.set(membership, index);
  }
  return index;
}

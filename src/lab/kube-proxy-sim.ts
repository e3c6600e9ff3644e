/** Mid-test kube-proxy behaviour: partial syncs that rewrite a Service's chains (counters restart at zero), endpoint-set changes, and syncs that change no Service; every sync writes the entry chains in a new order. */
import type { Lab } from './lab.js';
import { mulberry32 } from './mulberry32.js';
import { shuffleEntryRules } from './ruleset/entry-order.js';
import { renderPartialSync, serviceChains } from './ruleset/render.js';
import { findService, serviceKey, validateScenario, withService, type Scenario } from './scenario.js';

/** Syncs made per lab: each one's order of KUBE-SERVICES and KUBE-NODEPORTS comes from its number. */
const syncCounts = new WeakMap<Lab, number>();

function nextSyncOrder(lab: Lab): () => number {
  const n = (syncCounts.get(lab) ?? 0) + 1;
  syncCounts.set(lab, n);
  return mulberry32(n);
}

/**
 * Applies `next` as kube-proxy's partial sync (v1.27+) would after the given Services changed:
 * `iptables-restore --noflush --counters` of the shared chains plus the changed Services' chains
 * (each `:CHAIN - [0:0]` line flushes that chain, so its rule counters restart at zero) and `-X` of
 * chains no longer needed (a removed endpoint's KUBE-SEP chain disappears with its counters).
 * Unchanged Services keep their chains and counters. KUBE-SERVICES and KUBE-NODEPORTS get their rules
 * in a new order (`order`; by default one per sync of this lab), as kube-proxy writes them in the order
 * it walks a Go map. Returns whether that order differs from the scenario's own.
 */
export async function applyPartialSync(lab: Lab, next: Scenario, changed: readonly string[], order = nextSyncOrder(lab)): Promise<boolean> {
  validateScenario(next);
  let reordered = false;
  for (const family of lab.families) {
    const options = { family, layout: lab.layout, comments: lab.comments };
    const stale: string[] = [];
    for (const key of changed) {
      if (!lab.scenario.services.some((s) => serviceKey(s) === key && s.ipFamily === family)) continue;
      const kept = new Set(next.services.some((s) => serviceKey(s) === key) ? serviceChains(next, key, options) : []);
      stale.push(...serviceChains(lab.scenario, key, options).filter((c) => !kept.has(c)));
    }
    const sync = shuffleEntryRules(renderPartialSync(next, changed, stale, options), order);
    reordered ||= sync.reordered;
    await lab.restore(family, sync.text, ['--noflush', '--counters']);
  }
  lab.scenario = next;
  return reordered;
}

/**
 * Rewrites one Service's chains with the same content, as kube-proxy does when anything about the
 * Service or its EndpointSlices changes (a readiness flip elsewhere, a label): same rules, counters zero.
 */
export async function rewriteService(lab: Lab, key: string): Promise<void> {
  findService(lab.scenario, key);
  await applyPartialSync(lab, lab.scenario, [key]);
}

/**
 * A sync that changes no Service (kube-proxy syncs on any Service or EndpointSlice event in the
 * cluster, and at least hourly): only the shared chains are written, KUBE-SERVICES and KUBE-NODEPORTS
 * in the order `seed` picks. Returns whether it differs from the scenario's own.
 */
export function syncShuffled(lab: Lab, seed: number): Promise<boolean> {
  return applyPartialSync(lab, lab.scenario, [], mulberry32(seed));
}

/** Changes a Service's endpoint set (pod names, in ladder order) and syncs it: the ladder's rules change. */
export async function setEndpoints(lab: Lab, key: string, pods: readonly string[]): Promise<void> {
  const next = withService(lab.scenario, key, (s) => ({ ...s, endpoints: [...pods] }));
  await applyPartialSync(lab, next, [key]);
}

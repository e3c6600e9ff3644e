/** Mid-test kube-proxy behaviour: partial syncs that rewrite a Service's chains (counters restart at zero) and endpoint-set changes. */
import type { Lab } from './lab.js';
import { renderPartialSync, serviceChains } from './ruleset/render.js';
import { findService, serviceKey, validateScenario, withService, type Scenario } from './scenario.js';

/**
 * Applies `next` as kube-proxy's partial sync (v1.27+) would after the given Services changed:
 * `iptables-restore --noflush --counters` of the shared chains plus the changed Services' chains
 * (each `:CHAIN - [0:0]` line flushes that chain, so its rule counters restart at zero) and `-X` of
 * chains no longer needed (a removed endpoint's KUBE-SEP chain disappears with its counters).
 * Unchanged Services keep their chains and counters.
 */
export async function applyPartialSync(lab: Lab, next: Scenario, changed: readonly string[]): Promise<void> {
  validateScenario(next);
  for (const family of lab.families) {
    const options = { family, layout: lab.layout, comments: lab.comments };
    const stale: string[] = [];
    for (const key of changed) {
      if (!lab.scenario.services.some((s) => serviceKey(s) === key && s.ipFamily === family)) continue;
      const kept = new Set(next.services.some((s) => serviceKey(s) === key) ? serviceChains(next, key, options) : []);
      stale.push(...serviceChains(lab.scenario, key, options).filter((c) => !kept.has(c)));
    }
    await lab.restore(family, renderPartialSync(next, changed, stale, options), ['--noflush', '--counters']);
  }
  lab.scenario = next;
}

/**
 * Rewrites one Service's chains with the same content, as kube-proxy does when anything about the
 * Service or its EndpointSlices changes (a readiness flip elsewhere, a label): same rules, counters zero.
 */
export async function rewriteService(lab: Lab, key: string): Promise<void> {
  findService(lab.scenario, key);
  await applyPartialSync(lab, lab.scenario, [key]);
}

/** Changes a Service's endpoint set (pod names, in ladder order) and syncs it: the ladder's rules change. */
export async function setEndpoints(lab: Lab, key: string, pods: readonly string[]): Promise<void> {
  const next = withService(lab.scenario, key, (s) => ({ ...s, endpoints: [...pods] }));
  await applyPartialSync(lab, next, [key]);
}

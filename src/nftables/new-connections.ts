/**
 * nftables mode has no rule counters: new connections per endpoint come from conntrack instead (new
 * flow ids between successive scans, see src/conntrack/new-flows.ts). This fills them into the
 * ladders so the analysis (totals, window shares, skew, p-value) runs unchanged.
 */
import type { ConntrackSnapshot } from '../conntrack/types.js';
import type { Ladder } from '../model/types.js';

/**
 * A flow does not say which ladder (cluster or local policy) chose its endpoint: each service port's
 * new flows go to its cluster ladder, or to its local ladder when it has only that one. The other
 * ladder keeps `connections: null`.
 */
export function withConntrackConnections(ladders: readonly Ladder[], scan: ConntrackSnapshot | null): Ladder[] {
  if (scan === null || !scan.ok) return [...ladders];
  const byService = new Map(scan.servicePorts.map((sp) => [`${sp.labels.ipFamily}|${sp.labels.namespace}/${sp.labels.service}:${sp.labels.port}|${sp.labels.protocol}`, sp]));
  const hasCluster = new Set(ladders.filter((l) => l.policy === 'cluster').map((l) => keyOf(l)));
  return ladders.map((ladder) => {
    const key = keyOf(ladder);
    const sp = key === null ? undefined : byService.get(key);
    if (sp === undefined || (ladder.policy === 'local' && hasCluster.has(key))) return ladder;
    const totals = new Map(sp.endpoints.map((e) => [e.endpoint, e.newFlowsTotal]));
    const endpoints = ladder.endpoints.map((e) => ({ ...e, connections: e.endpoint === null ? null : (totals.get(e.endpoint.toLowerCase()) ?? 0) }));
    return { ...ladder, endpoints, connections: endpoints.reduce((a, e) => a + (e.connections ?? 0), 0) };
  });
}

function keyOf(ladder: Ladder): string | null {
  if (ladder.name === null || ladder.protocol === null) return null;
  return `${ladder.ipFamily}|${ladder.name.namespace}/${ladder.name.service}:${ladder.name.port}|${ladder.protocol.toLowerCase()}`;
}

/**
 * Turns the conntrack tracker's cumulative new-flow totals (per service port and endpoint, since the
 * exporter started) into per-ladder counters with iptables rule-counter semantics, so the analysis's
 * reset handling stays right: a ladder's counts restart at the new flows of the current scan interval
 * whenever its vmap changes (fingerprint) or it (re)appears, exactly as kube-proxy's iptables rewrite
 * restarts rule counters. Without this, a membership change (a reset for the analysis) would add the
 * whole cumulative total a second time.
 */
export class LadderConnectionCounter {
  /** Ladder key → its fingerprint and the cumulative totals it counts from. */
  private baselines = new Map<string, { readonly fingerprint: string; readonly base: ReadonlyMap<string, number> }>();
  /** Cumulative new flows per `${servicePortKey}\u0000${endpoint}` at the previous successful scan. */
  private previous: ReadonlyMap<string, number> = new Map();

  /**
   * Ladders with `connections` filled from a successful, new-flow-counting scan. Call once per scan,
   * with every ladder of every family (a ladder left out is treated as gone). A failed scan changes
   * nothing and returns the ladders unchanged (`connections: null`).
   */
  apply(ladders: readonly Ladder[], scan: ConntrackSnapshot | null): Ladder[] {
    if (scan === null || !scan.ok) return [...ladders];
    const current = new Map<string, number>();
    for (const sp of scan.servicePorts) {
      const spKey = `${sp.labels.ipFamily}|${sp.labels.namespace}/${sp.labels.service}:${sp.labels.port}|${sp.labels.protocol}`;
      for (const e of sp.endpoints) if (e.newFlowsTotal !== null) current.set(`${spKey}\u0000${e.endpoint}`, e.newFlowsTotal);
    }
    const next = new Map<string, { readonly fingerprint: string; readonly base: ReadonlyMap<string, number> }>();
    const out = withConntrackConnections(ladders, scan).map((ladder) => {
      const spKey = keyOf(ladder);
      if (ladder.connections === null || spKey === null) return ladder;
      let baseline = this.baselines.get(ladder.key);
      if (baseline === undefined || baseline.fingerprint !== ladder.fingerprint) {
        // New, returning or rewritten ladder: count from the previous scan, like fresh rule counters.
        const base = new Map<string, number>();
        for (const e of ladder.endpoints) {
          if (e.endpoint !== null) base.set(e.endpoint.toLowerCase(), this.previous.get(`${spKey}\u0000${e.endpoint.toLowerCase()}`) ?? 0);
        }
        baseline = { fingerprint: ladder.fingerprint, base };
      }
      next.set(ladder.key, baseline);
      const b = baseline.base;
      const endpoints = ladder.endpoints.map((e) =>
        e.connections === null || e.endpoint === null ? e : { ...e, connections: Math.max(0, e.connections - (b.get(e.endpoint.toLowerCase()) ?? 0)) },
      );
      return { ...ladder, endpoints, connections: endpoints.reduce((a, e) => a + (e.connections ?? 0), 0) };
    });
    this.baselines = next;
    this.previous = current;
    return out;
  }
}

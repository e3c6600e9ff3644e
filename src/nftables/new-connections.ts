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

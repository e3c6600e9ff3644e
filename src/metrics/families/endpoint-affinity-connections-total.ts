/** kube_balance_endpoint_affinity_connections_total: the affinity-routed subset, on ClientIP-affinity ladders only. */
import { endpointFamily } from './define.js';

export const endpointAffinityConnectionsTotal = endpointFamily({
  name: 'kube_balance_endpoint_affinity_connections_total',
  type: 'counter',
  help:
    'Subset of kube_balance_endpoint_connections_total routed by ClientIP session-affinity rules ' +
    '(-m recent --rcheck) on this node: new connections (first packets of conntrack flows) that followed an ' +
    'earlier choice instead of a random one. Only for ladders with session affinity; reset-corrected.',
  // Without affinity rules the subset is identically zero: emitting it would only add series. In
  // kube-proxy nftables mode it is unknown (the model says null): absent rather than a false 0.
  value: (e, ladder) => {
    const { sessionAffinity, endpoints } = ladder.stats.ladder;
    return sessionAffinity === null || endpoints[0]?.affinityConnections === null ? null : e.affinityConnectionsTotal;
  },
});

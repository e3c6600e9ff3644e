/** kube_balance_service_connections_total: new connections per ladder, reset-corrected. */
import { ladderFamily } from './define.js';

export const serviceConnectionsTotal = ladderFamily({
  name: 'kube_balance_service_connections_total',
  type: 'counter',
  help:
    'New connections (first packets of conntrack flows, counted by kube-proxy nat rules) load-balanced by this ' +
    'ladder on this node, including endpoints that have since left it; monotonic for the life of the exporter ' +
    'across kube-proxy counter resets.',
  value: (l) => l.stats.connectionsTotal,
});

/** kube_balance_endpoint_connections_total: new connections per endpoint per ladder, reset-corrected. */
import { endpointFamily } from './define.js';

export const endpointConnectionsTotal = endpointFamily({
  name: 'kube_balance_endpoint_connections_total',
  type: 'counter',
  help:
    'New connections (first packets of conntrack flows, counted by kube-proxy nat rules) sent to this endpoint ' +
    "by this service port's load-balancing ladder on this node (random choice plus session affinity); " +
    'monotonic for the life of the exporter across kube-proxy counter resets.',
  value: (e) => e.connectionsTotal,
});

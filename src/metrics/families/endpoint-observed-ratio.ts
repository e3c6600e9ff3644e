/** kube_balance_endpoint_observed_ratio: observed share of the window's new connections. */
import { endpointFamily } from './define.js';

export const endpointObservedRatio = endpointFamily({
  name: 'kube_balance_endpoint_observed_ratio',
  type: 'gauge',
  help:
    "Share of the ladder's new connections (first packets of conntrack flows) on this node that went to this " +
    'endpoint, derived over the --window; absent when the window saw no new connections.',
  value: (e) => e.observedRatio,
});

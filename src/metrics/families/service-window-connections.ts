/** kube_balance_service_window_connections: the window's sample size. */
import { ladderFamily } from './define.js';

export const serviceWindowConnections = ladderFamily({
  name: 'kube_balance_service_window_connections',
  type: 'gauge',
  help:
    'New connections (first packets of conntrack flows) load-balanced by this ladder on this node, derived over ' +
    'the --window: the sample size behind the observed ratios, skew and p-value; absent with fewer than two samples.',
  value: (l) => l.stats.window.connections,
});

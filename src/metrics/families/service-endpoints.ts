/** kube_balance_service_endpoints: n, the endpoints in this node's ladder. */
import { ladderFamily } from './define.js';

export const serviceEndpoints = ladderFamily({
  name: 'kube_balance_service_endpoints',
  type: 'gauge',
  help:
    "Endpoints in this node's load-balancing ladder (the n of the uniform 1/n split); counted before the " +
    'per-endpoint include/exclude filters.',
  value: (l) => l.stats.ladder.endpoints.length,
});

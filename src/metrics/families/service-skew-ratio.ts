/** kube_balance_service_skew_ratio: max observed/expected over the window. */
import { ladderFamily } from './define.js';

export const serviceSkewRatio = ladderFamily({
  name: 'kube_balance_service_skew_ratio',
  type: 'gauge',
  help:
    "Largest observed/expected share over this ladder's endpoints on this node, derived over the --window " +
    '(1 = perfectly even, 2 = one endpoint got twice its share); absent when the window saw no new connections.',
  value: (l) => l.stats.window.skewRatio,
});

/** kube_balance_service_window_membership_changed: the window straddles a ladder rewrite. */
import { ladderFamily } from './define.js';

export const serviceWindowMembershipChanged = ladderFamily({
  name: 'kube_balance_service_window_membership_changed',
  type: 'gauge',
  help:
    "1 when kube-proxy rewrote this ladder with different endpoints or probabilities inside the --window on this " +
    'node (the window is not compared with a split that did not hold: p-value and chi-square are withheld), else 0.',
  value: (l) => (l.stats.window.membershipChanged ? 1 : 0),
});

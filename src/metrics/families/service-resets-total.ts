/** kube_balance_service_resets_total: kube-proxy counter resets of one ladder. */
import { ladderFamily } from './define.js';

// Issue #2's kube_balance_service_counter_resets_total, renamed for promtool's lint (see resets-total.ts).
export const serviceResetsTotal = ladderFamily({
  name: 'kube_balance_service_resets_total',
  type: 'counter',
  help:
    'kube-proxy counter resets of this ladder on this node detected since the exporter started (the chain was ' +
    'rewritten at zero, counters went down, or the ladder changed); connections counted before each reset are ' +
    'kept in the _connections_total counters.',
  value: (l) => l.stats.resets,
});

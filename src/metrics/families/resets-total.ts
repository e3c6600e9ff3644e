/** kube_balance_resets_total: kube-proxy counter resets detected over all ladders. */
import { scalarFamily } from './define.js';

// Issue #2 named this kube_balance_counter_resets_total; promtool's lint rejects `_counter_` in a counter's
// name ("metric name should not include type 'counter'"), and the page must lint clean.
export const resetsTotal = scalarFamily({
  name: 'kube_balance_resets_total',
  type: 'counter',
  help:
    'kube-proxy counter resets detected over all ladders on this node since the exporter started (a rewritten ' +
    'chain restarts its rule counters at zero); connections counted before a reset are kept in the ' +
    '_connections_total counters.',
  value: (s) => s.resetsTotal,
});

/** kube_balance_window_seconds: the configured --window. */
import { scalarFamily } from './define.js';

export const windowSeconds = scalarFamily({
  name: 'kube_balance_window_seconds',
  type: 'gauge',
  help:
    'The --window, in seconds: the sliding window that observed ratios, window connections, skew, chi-square ' +
    'and p-values are derived over.',
  value: (_s, context) => context.windowSeconds,
});

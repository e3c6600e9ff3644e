/** kube_balance_data_stale: ladder series are withheld because the last good sample is too old. */
import { scalarFamily } from './define.js';

export const dataStale = scalarFamily({
  name: 'kube_balance_data_stale',
  type: 'gauge',
  help:
    '1 when the last good sample is older than --sample.max-age, so per-ladder and per-endpoint series are ' +
    'withheld, else 0.',
  value: (s) => (s.stale ? 1 : 0),
});

/** kube_balance_up: did the last sample work and is its data fresh. */
import { scalarFamily } from './define.js';

export const up = scalarFamily({
  name: 'kube_balance_up',
  type: 'gauge',
  help: '1 when the last sample succeeded for every IP family and its data is not stale, else 0.',
  value: (s) => (s.up ? 1 : 0),
});

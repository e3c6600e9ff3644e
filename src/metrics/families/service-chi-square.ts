/** kube_balance_service_chi_square: the Pearson statistic behind the p-value. */
import { ladderFamily } from './define.js';

export const serviceChiSquare = ladderFamily({
  name: 'kube_balance_service_chi_square',
  type: 'gauge',
  help:
    "Pearson chi-square statistic of this ladder's new-connection split on this node against the uniform 1/n " +
    'split (n - 1 degrees of freedom), derived over the --window; absent when the test is not valid.',
  value: (l) => l.stats.window.chiSquare,
});

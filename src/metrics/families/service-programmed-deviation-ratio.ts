/** kube_balance_service_programmed_deviation_ratio: how far the rules themselves are from uniform. */
import { ladderFamily } from './define.js';

export const serviceProgrammedDeviationRatio = ladderFamily({
  name: 'kube_balance_service_programmed_deviation_ratio',
  type: 'gauge',
  help:
    "Largest |programmed - expected| share over this ladder's endpoints on this node: non-zero beyond rounding " +
    '(about 1e-9) means the --probability rules themselves are not uniform.',
  value: (l) => l.stats.programmedDeviation,
});

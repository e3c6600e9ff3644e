/** kube_balance_service_uniformity_p_value: chi-square goodness of fit against the uniform split. */
import { ladderFamily } from './define.js';

export const serviceUniformityPValue = ladderFamily({
  name: 'kube_balance_service_uniformity_p_value',
  type: 'gauge',
  help:
    "Chi-square goodness-of-fit p-value of this ladder's new-connection split on this node against the uniform " +
    '1/n split, derived over the --window (small = unlikely to be chance); absent when the sample is too small ' +
    'for the test (fewer than 5 expected connections per endpoint), with fewer than 2 endpoints, or when the ' +
    'membership changed in the window.',
  value: (l) => l.stats.window.pValue,
});

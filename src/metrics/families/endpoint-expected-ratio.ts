/** kube_balance_endpoint_expected_ratio: the uniform share 1/n. */
import { endpointFamily } from './define.js';

export const endpointExpectedRatio = endpointFamily({
  name: 'kube_balance_endpoint_expected_ratio',
  type: 'gauge',
  help:
    "Uniform share 1/n of the ladder's new connections this endpoint should receive on this node, " +
    "n being the endpoints in this node's ladder.",
  value: (e) => e.expectedRatio,
});

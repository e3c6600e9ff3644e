/** kube_balance_endpoint_programmed_ratio: the share the --probability rules imply. */
import { endpointFamily } from './define.js';

export const endpointProgrammedRatio = endpointFamily({
  name: 'kube_balance_endpoint_programmed_ratio',
  type: 'gauge',
  help:
    "Share of the ladder's random choices this endpoint receives on this node as programmed by the " +
    '--probability rules: p_i times the product of (1 - p_j) over earlier rules.',
  value: (e) => e.programmedRatio,
});

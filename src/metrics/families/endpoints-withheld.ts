/** kube_balance_endpoints_withheld{reason}: ladder endpoints whose per-endpoint series are not on the page. */
import type { MetricFamily } from '../family.js';

export const endpointsWithheld: MetricFamily = {
  name: 'kube_balance_endpoints_withheld',
  type: 'gauge',
  help:
    'Endpoints of emitted ladders on this node without per-endpoint series on this page, by reason: filter ' +
    '(--metrics.include/exclude-namespaces/services), budget (--metrics.max-endpoints: the least active ladders ' +
    'lose their endpoint detail first) or duplicate-labels (same endpoint label as another endpoint of the ladder ' +
    'because the address is unknown).',
  labels: ['reason'],
  collect(_snapshot, emit, { withheld }) {
    emit(['filter'], withheld.endpointsFiltered);
    emit(['budget'], withheld.endpointsBudget);
    emit(['duplicate-labels'], withheld.endpointsDuplicate);
  },
};

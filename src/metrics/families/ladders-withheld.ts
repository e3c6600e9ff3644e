/** kube_balance_ladders_withheld{reason}: ladders present in the snapshot but not on the page. */
import type { MetricFamily } from '../family.js';

export const laddersWithheld: MetricFamily = {
  name: 'kube_balance_ladders_withheld',
  type: 'gauge',
  help:
    'Ladders read on this node whose per-ladder and per-endpoint series are not on this page, by reason: stale ' +
    '(data older than --sample.max-age) or duplicate-labels (same labels as another ladder because names are ' +
    'unknown; its kube_balance_service_info row is still emitted).',
  labels: ['reason'],
  collect(_snapshot, emit, { withheld }) {
    emit(['stale'], withheld.laddersStale);
    emit(['duplicate-labels'], withheld.laddersDuplicate);
  },
};

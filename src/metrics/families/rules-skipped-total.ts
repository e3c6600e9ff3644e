/** kube_balance_rules_skipped_total{reason}: unreadable iptables-save lines, summed over samples. */
import type { SkipReason } from '../../iptables/types.js';
import type { MetricFamily } from '../family.js';

// Exhaustive over SkipReason (the compiler checks the keys), so every reason has a series from the start.
const REASONS: Readonly<Record<SkipReason, readonly string[]>> = {
  'not-iptables': ['not-iptables'],
  'malformed-rule': ['malformed-rule'],
  'malformed-chain': ['malformed-chain'],
  'lossy-rule': ['lossy-rule'],
  'unsupported-command': ['unsupported-command'],
};

export const rulesSkippedTotal: MetricFamily = {
  name: 'kube_balance_rules_skipped_total',
  type: 'counter',
  help:
    'iptables-save lines that were counted and skipped instead of used, by reason, summed over all samples since ' +
    'the exporter started.',
  labels: ['reason'],
  collect(snapshot, emit) {
    for (const [reason, labels] of Object.entries(REASONS) as [SkipReason, readonly string[]][]) {
      emit(labels, snapshot.skippedTotal[reason] ?? 0);
    }
  },
};

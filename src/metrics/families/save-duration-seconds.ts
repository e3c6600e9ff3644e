/** kube_balance_save_duration_seconds{ip_family}: per-family share of the last sample's time. */
import type { MetricFamily } from '../family.js';

export const saveDurationSeconds: MetricFamily = {
  name: 'kube_balance_save_duration_seconds',
  type: 'gauge',
  help: 'Seconds the last sample of this IP family took (iptables-save and the stages that read its output).',
  labels: ['ip_family'],
  collect(snapshot, emit) {
    for (const f of snapshot.families) emit([f.ipFamily], f.durationSeconds);
  },
};

/** kube_balance_save_output_bytes{ip_family}: size of the last iptables-save output. */
import type { MetricFamily } from '../family.js';

export const saveOutputBytes: MetricFamily = {
  name: 'kube_balance_save_output_bytes',
  type: 'gauge',
  help: 'Bytes of iptables-save (or ip6tables-save, or --source.file) output read by the last sample, per IP family.',
  labels: ['ip_family'],
  collect(snapshot, emit) {
    for (const f of snapshot.families) emit([f.ipFamily], f.outputBytes);
  },
};

/** kube_balance_save_success{ip_family,backend}: per-family outcome of the last sample (node_exporter's *_success). */
import type { MetricFamily } from '../family.js';

export const saveSuccess: MetricFamily = {
  name: 'kube_balance_save_success',
  type: 'gauge',
  help: '1 when the last sample of this IP family succeeded, else 0; backend is legacy, nft or file (--source.file).',
  labels: ['ip_family', 'backend'],
  collect(snapshot, emit) {
    for (const f of snapshot.families) emit([f.ipFamily, f.backend], f.ok ? 1 : 0);
  },
};

/** kube_balance_samples_total: samples taken. */
import { scalarFamily } from './define.js';

export const samplesTotal = scalarFamily({
  name: 'kube_balance_samples_total',
  type: 'counter',
  help: 'Samples taken since the exporter started (one iptables-save per IP family each).',
  value: (s) => s.samplesTotal,
});

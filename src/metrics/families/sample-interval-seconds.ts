/** kube_balance_sample_interval_seconds: the adaptive interval currently in force. */
import { scalarFamily } from './define.js';

export const sampleIntervalSeconds = scalarFamily({
  name: 'kube_balance_sample_interval_seconds',
  type: 'gauge',
  help:
    'Seconds between samples currently in force: --sample.interval, raised automatically while iptables-save is ' +
    'slow so that it stays under --sample.max-cpu.',
  value: (s) => s.sampleIntervalSeconds,
});

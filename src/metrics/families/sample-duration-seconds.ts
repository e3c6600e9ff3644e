/** kube_balance_sample_duration_seconds: how long the last sample took. */
import { scalarFamily } from './define.js';

export const sampleDurationSeconds = scalarFamily({
  name: 'kube_balance_sample_duration_seconds',
  type: 'gauge',
  help: 'Seconds the last sample took, all IP families and stages together.',
  value: (s) => s.sampleDurationSeconds,
});

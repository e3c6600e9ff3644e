/** kube_balance_last_sample_timestamp_seconds: when the data on the page was read. */
import { scalarFamily } from './define.js';

export const lastSampleTimestampSeconds = scalarFamily({
  name: 'kube_balance_last_sample_timestamp_seconds',
  type: 'gauge',
  help: 'Unix time of the last successful sample, in seconds; absent before the first one.',
  value: (s) => s.lastSuccessTimestamp,
});

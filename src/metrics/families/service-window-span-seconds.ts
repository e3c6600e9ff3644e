/** kube_balance_service_window_span_seconds: how much time the window values actually cover. */
import { ladderFamily } from './define.js';

export const serviceWindowSpanSeconds = ladderFamily({
  name: 'kube_balance_service_window_span_seconds',
  type: 'gauge',
  help:
    'Seconds between the oldest and newest samples the window values of this ladder on this node were derived ' +
    'from: at most the --window, less shortly after the exporter started; 0 with fewer than two samples.',
  // Window counts are only comparable as rates once divided by the span they really cover.
  value: (l) => l.stats.window.seconds,
});

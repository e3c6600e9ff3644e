/** kube_balance_build_info{version,revision,nodejs_version}: which build is running. */
import type { MetricFamily } from '../family.js';

export const buildInfo: MetricFamily = {
  name: 'kube_balance_build_info',
  type: 'gauge',
  help: 'Build of the running exporter, value always 1.',
  labels: ['version', 'revision', 'nodejs_version'],
  collect(_snapshot, emit, { build }) {
    emit([build.version, build.revision, build.nodejsVersion], 1);
  },
};

/** kube_balance_sample_errors_total{stage}: failed samples by pipeline stage. */
import type { SampleStage } from '../../snapshot.js';
import type { MetricFamily } from '../family.js';

// A Record keyed by the union makes the compiler insist on every stage, so a new stage cannot be forgotten.
const STAGES: Readonly<Record<SampleStage, readonly string[]>> = {
  save: ['save'],
  parse: ['parse'],
  model: ['model'],
  analysis: ['analysis'],
  render: ['render'],
};

export const sampleErrorsTotal: MetricFamily = {
  name: 'kube_balance_sample_errors_total',
  type: 'counter',
  help: 'Samples that failed since the exporter started, by pipeline stage (save, parse, model, analysis, render).',
  labels: ['stage'],
  collect(snapshot, emit) {
    for (const [stage, labels] of Object.entries(STAGES) as [SampleStage, readonly string[]][]) {
      emit(labels, snapshot.errorsTotal[stage]);
    }
  },
};

/** Builds and freezes Snapshots: the first, empty one and each sample's. */
import type { SampleStage, Snapshot } from '../snapshot.js';

export const SAMPLE_STAGES: readonly SampleStage[] = ['save', 'parse', 'model', 'analysis', 'render'];

export function zeroErrors(): Record<SampleStage, number> {
  return { save: 0, parse: 0, model: 0, analysis: 0, render: 0 };
}

/** A Snapshot's fields as the sampler knows them: `up` is derived, the conntrack view is added later. */
export type SnapshotFields = Omit<Snapshot, 'up' | 'conntrack'> & { readonly allFamiliesOk: boolean };

/** A frozen Snapshot; the counters are copied so later samples cannot change a published one. */
export function buildSnapshot(fields: SnapshotFields): Snapshot {
  return Object.freeze({
    lastSuccessTimestamp: fields.lastSuccessTimestamp,
    timestamp: fields.timestamp,
    up: fields.allFamiliesOk && !fields.stale,
    stale: fields.stale,
    sampleDurationSeconds: fields.sampleDurationSeconds,
    sampleIntervalSeconds: fields.sampleIntervalSeconds,
    families: Object.freeze(fields.families.map((f) => Object.freeze({ ...f }))),
    analysis: fields.analysis,
    errorsTotal: Object.freeze({ ...fields.errorsTotal }),
    resetsTotal: fields.resetsTotal,
    skippedTotal: Object.freeze({ ...fields.skippedTotal }),
    samplesTotal: fields.samplesTotal,
    ...(fields.readsTotal === undefined
      ? {}
      : { readsTotal: Object.freeze(Object.fromEntries(Object.entries(fields.readsTotal).map(([family, kinds]) => [family, Object.freeze({ ...kinds })]))) }),
    kube: fields.kube ?? null,
  });
}

export function initialSnapshot(nowSeconds: number, intervalSeconds: number): Snapshot {
  return buildSnapshot({
    lastSuccessTimestamp: null,
    timestamp: nowSeconds,
    allFamiliesOk: false,
    stale: false,
    sampleDurationSeconds: 0,
    sampleIntervalSeconds: intervalSeconds,
    families: [],
    analysis: null,
    errorsTotal: zeroErrors(),
    resetsTotal: 0,
    skippedTotal: {},
    samplesTotal: 0,
  });
}

/** Builds and freezes Snapshots: the first, empty one and each sample's. */
import type { AnalysisResult } from '../analysis/types.js';
import type { SkipReason } from '../iptables/types.js';
import type { KubeSnapshot } from '../kube/types.js';
import type { FamilySample, SampleStage, Snapshot } from '../snapshot.js';

export const SAMPLE_STAGES: readonly SampleStage[] = ['save', 'parse', 'model', 'analysis', 'render'];

export function zeroErrors(): Record<SampleStage, number> {
  return { save: 0, parse: 0, model: 0, analysis: 0, render: 0 };
}

export interface SnapshotFields {
  readonly lastSuccessTimestamp: number | null;
  readonly timestamp: number;
  readonly allFamiliesOk: boolean;
  readonly stale: boolean;
  readonly sampleDurationSeconds: number;
  readonly sampleIntervalSeconds: number;
  readonly families: readonly FamilySample[];
  readonly analysis: AnalysisResult | null;
  readonly errorsTotal: Readonly<Record<SampleStage, number>>;
  readonly resetsTotal: number;
  readonly skippedTotal: Readonly<Partial<Record<SkipReason, number>>>;
  readonly samplesTotal: number;
  readonly kube?: KubeSnapshot | null;
}

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

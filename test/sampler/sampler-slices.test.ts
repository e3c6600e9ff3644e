import { describe, expect, it } from 'vitest';
import { analyze, DEFAULT_ANALYSIS_OPTIONS, DEFAULT_SLICE_ENDPOINTS } from '../../src/analysis/analyze.js';
import { parseDump } from '../../src/iptables/parse-dump.js';
import type { ParsedDump } from '../../src/iptables/types.js';
import { generateBulkRuleset } from '../../src/lab/ruleset/bulk.js';
import { buildServiceModel, buildServiceModelInSlices } from '../../src/model/build-service-model.js';
import type { ServiceModel } from '../../src/model/types.js';
import { Sampler } from '../../src/sampler.js';
import type { SampleSource } from '../../src/source/sample-source.js';
import type { Snapshot } from '../../src/snapshot.js';
import { buildModel, type LadderSpec } from '../analysis/ladder-builder.js';
import { FakeClock } from './fake-clock.js';
import { countTurns } from '../support/count-turns.js';

// Ladders of 10 endpoints: twice the default slice in endpoints alone, several slices in all.
const LADDERS = Math.ceil((2 * DEFAULT_SLICE_ENDPOINTS) / 10);

function bigModel(): ServiceModel {
  const specs: LadderSpec[] = Array.from({ length: LADDERS }, (_, l) => ({
    chain: `KUBE-SVC-L${l}`,
    endpoints: Object.fromEntries(Array.from({ length: 10 }, (_, e) => [`KUBE-SEP-L${l}E${e}`, l + e])),
  }));
  return buildModel(specs);
}

/** A source that hands over a ready model (as the nftables source does). */
function modelSource(model: ServiceModel): SampleSource {
  return async () => [
    {
      ok: true,
      ipFamily: 'ipv4',
      backend: 'file',
      command: 'test',
      dump: parseDump(''),
      model,
      outputBytes: 0,
      durationSeconds: 0,
      costSeconds: 0,
      stderrTail: '',
    },
  ];
}

/** A source that hands over a parsed dump only (as with --sample.refresh-counters=false): the sampler builds the model. */
function dumpSource(dump: ParsedDump): SampleSource {
  return async () => [
    { ok: true, ipFamily: 'ipv4', backend: 'file', command: 'test', dump, outputBytes: 0, durationSeconds: 0, costSeconds: 0, stderrTail: '' },
  ];
}

/** 1,000 services × 5 endpoints: a model build of a dozen checkpoints or more. */
const bigDump = (): ParsedDump => parseDump(generateBulkRuleset({ services: 1_000, endpointsPerService: 5, seed: 4, comments: true }));

describe('Sampler: the analysis runs in slices', () => {
  it('lets the event loop run between slices and publishes what analyze() gives', async () => {
    const model = bigModel();
    const clock = new FakeClock();
    // sliceMs 0: a turn at every checkpoint, however fast this machine runs a slice.
    const sampler = new Sampler({ source: modelSource(model), clock, intervalSeconds: 10, sliceMs: 0 });
    const turns = countTurns();
    const snapshot = await sampler.sampleNow();
    turns.stop();
    // The turn before the analysis and the one before publishing are two; its slices add at least four more.
    expect(turns.turns()).toBeGreaterThanOrEqual(6);
    const expected = analyze(undefined, [model], clock.now() / 1000, DEFAULT_ANALYSIS_OPTIONS).result;
    const got = snapshot?.analysis;
    expect(got?.ladders).toHaveLength(LADDERS);
    for (const index of [0, 1, LADDERS - 1]) {
      const g = got?.ladders[index];
      const e = expected.ladders[index];
      expect(g?.ladder).toBe(e?.ladder);
      expect(g?.connectionsTotal).toBe(e?.connectionsTotal);
      expect(g?.endpoints.map((x) => x.connectionsTotal)).toEqual(e?.endpoints.map((x) => x.connectionsTotal));
    }
    await sampler.stop();
  });

  it('stop() during the analysis: nothing is published and the state is not replaced', async () => {
    const clock = new FakeClock();
    const sampler = new Sampler({ source: modelSource(bigModel()), clock, intervalSeconds: 10, sliceMs: 0 });
    const published: Snapshot[] = [];
    sampler.subscribe((s) => published.push(s));
    const sample = sampler.sampleNow();
    // Past the source, the model stage and into the analysis, which needs several more turns.
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    await sampler.stop();
    expect(await sample).toBeNull();
    expect(published).toEqual([]);
    expect(sampler.snapshot.samplesTotal).toBe(0);
    expect(sampler.hasData).toBe(false);
  });
});

describe('Sampler: the model build runs in slices', () => {
  it('lets the event loop run while it builds a read’s model, and analyses the model buildServiceModel gives', async () => {
    const dump = bigDump();
    const clock = new FakeClock();
    const sampler = new Sampler({ source: dumpSource(dump), clock, intervalSeconds: 10, sliceMs: 0 });
    const turns = countTurns();
    const snapshot = await sampler.sampleNow();
    turns.stop();
    let checkpoints = 0;
    for (const steps = buildServiceModelInSlices(dump, 'ipv4'); steps.next().done !== true; ) checkpoints++;
    expect(checkpoints).toBeGreaterThanOrEqual(10);
    expect(turns.turns()).toBeGreaterThanOrEqual(checkpoints);
    const model = buildServiceModel(dump, 'ipv4');
    const expected = analyze(undefined, [model], clock.now() / 1000, DEFAULT_ANALYSIS_OPTIONS).result;
    expect(snapshot?.analysis?.ladders.map((l) => [l.ladder, l.connectionsTotal])).toEqual(expected.ladders.map((l) => [l.ladder, l.connectionsTotal]));
    await sampler.stop();
  });

  it('stop() during the model build: nothing is published, no model error is counted', async () => {
    const clock = new FakeClock();
    const sampler = new Sampler({ source: dumpSource(bigDump()), clock, intervalSeconds: 10, sliceMs: 0 });
    const published: Snapshot[] = [];
    sampler.subscribe((s) => published.push(s));
    const sample = sampler.sampleNow();
    // Past the source and the stage yield, into the model build.
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    await sampler.stop();
    expect(await sample).toBeNull();
    expect(published).toEqual([]);
    expect(sampler.snapshot.errorsTotal.model).toBe(0);
    expect(sampler.hasData).toBe(false);
  });
});

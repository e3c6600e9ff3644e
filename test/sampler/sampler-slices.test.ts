import { describe, expect, it } from 'vitest';
import { analyze, DEFAULT_ANALYSIS_OPTIONS, DEFAULT_SLICE_ENDPOINTS } from '../../src/analysis/analyze.js';
import { parseDump } from '../../src/iptables/parse-dump.js';
import type { ServiceModel } from '../../src/model/types.js';
import { Sampler } from '../../src/sampler.js';
import type { SampleSource } from '../../src/source/sample-source.js';
import type { Snapshot } from '../../src/snapshot.js';
import { buildModel, type LadderSpec } from '../analysis/ladder-builder.js';
import { FakeClock } from './fake-clock.js';

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

/** Counts turns of the event loop (setImmediate callbacks) until stopped. */
function countTurns(): { readonly turns: () => number; readonly stop: () => void } {
  let turns = 0;
  let running = true;
  const tick = (): void => {
    turns++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  return { turns: () => turns, stop: () => (running = false) };
}

describe('Sampler: the analysis runs in slices', () => {
  it('lets the event loop run between slices and publishes what analyze() gives', async () => {
    const model = bigModel();
    const clock = new FakeClock();
    const sampler = new Sampler({ source: modelSource(model), clock, intervalSeconds: 10 });
    const turns = countTurns();
    const snapshot = await sampler.sampleNow();
    turns.stop();
    // Stage yields alone are three turns; the slices add at least three more.
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
    const sampler = new Sampler({ source: modelSource(bigModel()), clock, intervalSeconds: 10 });
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

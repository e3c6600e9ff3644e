import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyze, analyzeInSlices } from '../../src/analysis/analyze.js';
import type { AnalysisState, LadderStats } from '../../src/analysis/types.js';
import type { Ladder, LadderEndpoint, ServiceModel } from '../../src/model/types.js';
import { drainSteps } from '../support/drain-steps.js';
import { comparableEndpoint } from './comparable-result.js';
import { referenceAnalyze, type ReferenceState } from './reference-analyze.js';

// `analyze` keeps window increments and packed arrays; the reference keeps a column of totals per
// sample and plain objects. Both must agree exactly (Object.is on every number) on any sequence.

const POOL = ['KUBE-SEP-A', 'KUBE-SEP-B', 'KUBE-SEP-C', 'KUBE-SEP-D', 'KUBE-SEP-E'] as const;
const LADDERS = ['KUBE-SVC-ONE', 'KUBE-SVC-TWO', 'KUBE-SVC-THREE'] as const;

/** One ladder in one sample: its chains (a repeat is a hand-edited ladder), raw counters, or absence. */
interface LadderSample {
  readonly present: boolean;
  readonly withCounters: boolean;
  readonly members: readonly number[];
  readonly version: number;
  readonly raw: readonly number[];
  readonly affinity: readonly number[] | null;
}

interface Sample {
  readonly dt: number;
  readonly ladders: readonly LadderSample[];
}

// Counters mostly small (one byte per increment), sometimes wide, fractional, -0 or going down.
const counter = fc.oneof(
  { weight: 8, arbitrary: fc.nat({ max: 300 }) },
  { weight: 2, arbitrary: fc.nat({ max: 200_000 }) },
  { weight: 1, arbitrary: fc.constantFrom(5e9, 2 ** 53, 0.5, -0, 1e-3) },
);

const ladderSample: fc.Arbitrary<LadderSample> = fc.record({
  present: fc.constantFrom(true, true, true, false),
  withCounters: fc.constantFrom(true, true, true, true, true, false),
  members: fc.array(fc.nat({ max: POOL.length - 1 }), { minLength: 0, maxLength: 4 }),
  version: fc.nat({ max: 2 }),
  raw: fc.array(counter, { minLength: 4, maxLength: 4 }),
  affinity: fc.option(fc.array(fc.nat({ max: 50 }), { minLength: 4, maxLength: 4 }), { freq: 4 }),
});

const sample: fc.Arbitrary<Sample> = fc.record({
  dt: fc.constantFrom(1, 5, 10, 10, 10, 15, 30, 70),
  ladders: fc.array(ladderSample, { minLength: LADDERS.length, maxLength: LADDERS.length }),
});

function buildLadder(chain: string, s: LadderSample): Ladder {
  const n = s.members.length;
  const endpoints = s.members.map((member, i): LadderEndpoint => {
    const connections = s.withCounters ? (s.raw[i] ?? 0) : null;
    return {
      endpoint: `10.0.0.${member}:80`,
      chain: POOL[member] ?? '',
      probability: i === n - 1 ? null : 1 / (n - i),
      programmedRatio: 1 / n,
      expectedRatio: 1 / n,
      connections,
      affinityConnections: connections === null || s.affinity === null ? null : (s.affinity[i] ?? 0),
      line: i,
    };
  });
  return {
    key: `ipv4/${chain}`,
    chain,
    policy: 'cluster',
    ipFamily: 'ipv4',
    name: null,
    protocol: 'tcp',
    clusterIP: null,
    servicePort: null,
    nodePort: null,
    externalIPs: [],
    loadBalancerIPs: [],
    sessionAffinity: s.affinity === null ? null : { timeoutSeconds: null },
    endpoints,
    connections: s.withCounters ? endpoints.reduce((sum, e) => sum + (e.connections ?? 0), 0) : null,
    fingerprint: `${s.members.map((m) => POOL[m]).join(',')}#${s.version}`,
    unreachableRules: 0,
  };
}

function modelOf(s: Sample): ServiceModel {
  const ladders = LADDERS.flatMap((chain, k) => {
    const ls = s.ladders[k];
    return ls === undefined || !ls.present ? [] : [buildLadder(chain, ls)];
  });
  return { ipFamily: 'ipv4', ladders, skipped: [], hasCounters: true, warnings: [] };
}

function plain(stats: LadderStats): unknown {
  return {
    key: stats.ladder.key,
    connectionsTotal: stats.connectionsTotal,
    resets: stats.resets,
    window: { ...stats.window },
    programmedDeviation: stats.programmedDeviation,
    endpoints: stats.endpoints.map(comparableEndpoint),
  };
}

describe('analyze agrees with the reference analysis', () => {
  it.each([
    { windowSeconds: 30, minExpectedPerEndpoint: 5 },
    { windowSeconds: 60, minExpectedPerEndpoint: 1 },
  ])('on any sequence of samples (window $windowSeconds s)', (options) => {
    fc.assert(
      fc.property(fc.array(sample, { minLength: 1, maxLength: 30 }), fc.constantFrom(1, 3, 1_000), (samples, slice) => {
        let state: AnalysisState | undefined;
        let reference: ReferenceState | undefined;
        let t = 1_000;
        for (const s of samples) {
          t += s.dt;
          const model = modelOf(s);
          const { value: step } = drainSteps(analyzeInSlices(state, [model], t, options, slice));
          const want = referenceAnalyze(reference, [model], t, options);
          expect(step.result.resetsThisSample).toBe(want.result.resetsThisSample);
          expect(step.result.ladders.map(plain)).toEqual(want.result.ladders.map(plain));
          expect(step.state.columns.map((c) => c.timeSeconds)).toEqual(want.state.columns.map((c) => c.timeSeconds));
          expect([...step.state.ladders].map(([key, l]) => [key, l.offsets])).toEqual(
            [...want.state.ladders].map(([key, l]) => [key, l.offsets]),
          );
          expect([...step.state.vanished.keys()]).toEqual([...want.state.vanished.keys()]);
          state = step.state;
          reference = want.state;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same result sliced or whole, and yields between slices', () => {
    const model = modelOf({
      dt: 0,
      ladders: LADDERS.map(() => ({ present: true, withCounters: true, members: [0, 1, 2, 3], version: 0, raw: [1, 2, 3, 4], affinity: null })),
    });
    const whole = analyze(undefined, [model], 0, { windowSeconds: 300, minExpectedPerEndpoint: 5 });
    const sliced = drainSteps(analyzeInSlices(undefined, [model], 0, { windowSeconds: 300, minExpectedPerEndpoint: 5 }, 4));
    // Slices are one more than the checkpoints between them.
    expect(sliced.checkpoints + 1).toBeGreaterThan(LADDERS.length);
    expect(sliced.value.result.ladders.map(plain)).toEqual(whole.result.ladders.map(plain));
  });
});

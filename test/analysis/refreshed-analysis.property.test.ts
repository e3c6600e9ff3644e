// The analysis of refreshed reads (counters in arrays over the parsed read's ladders, sample after
// sample: the same-ladders fast path) must equal the analysis of parsing every sample (new Ladder
// objects each time: lookups by key, counters from the endpoints), whatever the counters do (growth,
// resets), however the ladders change (membership, rewrites, vanishing, returning) and however far
// apart the samples are (window slides). Copies of refreshed models (the Kubernetes naming hook
// spreads them, which builds their endpoint objects) are mixed in: a third way to the same numbers.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyze, DEFAULT_ANALYSIS_OPTIONS } from '../../src/analysis/analyze.js';
import type { AnalysisOptions, AnalysisState } from '../../src/analysis/types.js';
import type { IpFamily } from '../../src/iptables/types.js';
import { refreshedModel } from '../../src/model/counter-refresh/refreshed-model.js';
import type { ModelCounters, ServiceModel } from '../../src/model/types.js';
import { comparableResult } from './comparable-result.js';
import { buildModel, type EndpointCounter, type LadderSpec } from './ladder-builder.js';

const POOL = ['KUBE-SEP-A', 'KUBE-SEP-B', 'KUBE-SEP-C', 'KUBE-SEP-D'] as const;
const LADDERS: readonly { readonly chain: string; readonly ipFamily: IpFamily }[] = [
  { chain: 'KUBE-SVC-ONE', ipFamily: 'ipv4' },
  { chain: 'KUBE-SVC-TWO', ipFamily: 'ipv4' },
  { chain: 'KUBE-SVC-THREE', ipFamily: 'ipv4' },
  { chain: 'KUBE-SVC-SIX', ipFamily: 'ipv6' },
];
const SLOTS = LADDERS.length * POOL.length;
const OPTIONS: AnalysisOptions = { ...DEFAULT_ANALYSIS_OPTIONS, windowSeconds: 60, minExpectedPerEndpoint: 2 };

/** Which ladders exist and with which members: what a parse would see change. */
interface LadderShape {
  readonly present: boolean;
  readonly members: readonly boolean[];
  /** Bumped by a rewrite with other probabilities. */
  readonly version: number;
}

interface Sample {
  readonly dt: number;
  readonly shapes: readonly LadderShape[] | null;
  /** grow: add `values` to the counters; reset: the counters restart at `values` (mostly lower). */
  readonly counters: 'grow' | 'reset';
  readonly values: readonly number[];
  readonly copy: boolean;
}

const shape: fc.Arbitrary<LadderShape> = fc.record({
  present: fc.boolean(),
  members: fc.array(fc.boolean(), { minLength: POOL.length, maxLength: POOL.length }).filter((m) => m.some(Boolean)),
  version: fc.nat({ max: 2 }),
});
const shapes = fc.array(shape, { minLength: LADDERS.length, maxLength: LADDERS.length });
const sample: fc.Arbitrary<Sample> = fc.record({
  dt: fc.integer({ min: 5, max: 45 }),
  // Mostly unchanged rules: the refreshed reads under test.
  shapes: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: shapes }),
  counters: fc.constantFrom('grow' as const, 'grow' as const, 'grow' as const, 'reset' as const),
  values: fc.array(fc.nat({ max: 40 }), { minLength: SLOTS, maxLength: SLOTS }),
  copy: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

/** One model per family, from the shapes and the raw counters of every (ladder, endpoint) slot. */
function modelsOf(shapes: readonly LadderShape[], raw: readonly number[], affinity: readonly boolean[]): ServiceModel[] {
  const byFamily = new Map<IpFamily, LadderSpec[]>([['ipv4', []], ['ipv6', []]]);
  shapes.forEach((s, l) => {
    const ladder = LADDERS[l];
    if (ladder === undefined || !s.present) return;
    const endpoints: Record<string, EndpointCounter> = {};
    POOL.forEach((chain, e) => {
      if (!s.members[e]) return;
      const value = raw[l * POOL.length + e] ?? 0;
      endpoints[chain] = affinity[l] === true ? [value, Math.floor(value / 3)] : value;
    });
    const members = POOL.filter((_, e) => s.members[e]);
    // Version 2 programs an uneven split (a non-zero programmed deviation).
    const m = members.length;
    const programmedRatios = s.version === 2 ? members.map((_, i) => (2 * (i + 1)) / (m * (m + 1))) : undefined;
    byFamily.get(ladder.ipFamily)?.push({
      chain: ladder.chain,
      ipFamily: ladder.ipFamily,
      endpoints,
      fingerprint: `${members.join(',')}#${s.version}`,
      ...(programmedRatios === undefined ? {} : { programmedRatios }),
    });
  });
  return [...byFamily].map(([family, specs]) => buildModel(specs, family));
}

/** What a refreshed read would hold: `full`'s counters as arrays over `base`'s ladders (same structure). */
function countersOver(base: ServiceModel, full: ServiceModel): ModelCounters {
  const endpoints = full.ladders.flatMap((l) => l.endpoints);
  return {
    ladders: base.ladders,
    connections: Float64Array.from(endpoints, (e) => e.connections ?? 0),
    affinityConnections: Float64Array.from(endpoints, (e) => e.affinityConnections ?? 0),
    hasAffinity: Uint8Array.from(base.ladders, (l) => (l.sessionAffinity === null ? 0 : 1)),
    lines: Int32Array.from(endpoints, (e) => e.line),
  };
}

describe('analyze: refreshed reads give what parsing every sample gives (property)', () => {
  it('every statistic of every ladder and endpoint, sample after sample', () => {
    // Samples analysed on the fast path (the previous sample's layout kept): the case under test.
    let fast = 0;
    fc.assert(
      fc.property(
        shapes,
        fc.array(fc.boolean(), { minLength: LADDERS.length, maxLength: LADDERS.length }),
        fc.array(sample, { minLength: 1, maxLength: 14 }),
        (initial, affinity, samples) => {
          let current: readonly LadderShape[] = initial;
          let raw: number[] = new Array<number>(SLOTS).fill(0);
          let now = 1_000;
          let parsedState: AnalysisState | undefined;
          let refreshedState: AnalysisState | undefined;
          // The refresher's base: the last parsed read's models, and the shapes they were parsed with.
          let base: { readonly shapes: readonly LadderShape[]; readonly models: readonly ServiceModel[] } | null = null;
          for (const s of samples) {
            now += s.dt;
            if (s.shapes !== null) current = s.shapes;
            raw = s.counters === 'grow' ? raw.map((v, i) => v + (s.values[i] ?? 0)) : [...s.values];
            const full = modelsOf(current, raw, affinity);
            let refreshed: readonly ServiceModel[];
            if (base !== null && base.shapes === current) {
              const models = base.models;
              refreshed = full.map((model, f) => refreshedModel(models[f] as ServiceModel, countersOver(models[f] as ServiceModel, model)));
              if (s.copy) refreshed = refreshed.map((model) => ({ ...model }));
            } else {
              // Rules changed: this read parses, and is the base of the next ones.
              refreshed = full;
              base = { shapes: current, models: full };
            }
            const parsedStep = analyze(parsedState, modelsOf(current, raw, affinity), now, OPTIONS);
            const refreshedStep = analyze(refreshedState, refreshed, now, OPTIONS);
            expect(comparableResult(refreshedStep.result)).toEqual(comparableResult(parsedStep.result));
            if (refreshedState !== undefined && refreshedStep.state.layout === refreshedState.layout) fast++;
            parsedState = parsedStep.state;
            refreshedState = refreshedStep.state;
          }
        },
      ),
      { numRuns: 300 },
    );
    expect(fast).toBeGreaterThan(300);
  });
});

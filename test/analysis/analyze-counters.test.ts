import { describe, expect, it } from 'vitest';
import { analyze, DEFAULT_ANALYSIS_OPTIONS } from '../../src/analysis/analyze.js';
import { buildModel, type LadderSpec } from './ladder-builder.js';
import { A, B, C, byChain, ladderOf, runSequence, web, type Step } from './run-sequence.js';


interface Expected {
  /** Reported endpoints and their cumulative totals. */
  readonly totals: Record<string, number>;
  readonly ladderTotal: number;
  readonly resets: number;
  readonly resetsThisSample: number;
}

interface SequenceCase {
  readonly name: string;
  readonly steps: readonly Step[];
  readonly expected: readonly Expected[];
}

const cases: SequenceCase[] = [
  {
    // First sight seeds the totals with the counters since the last rewrite: not a reset.
    name: 'steady growth',
    steps: [
      { t: 0, ladders: [web({ [A]: 10, [B]: 20 })] },
      { t: 10, ladders: [web({ [A]: 15, [B]: 28 })] },
      { t: 20, ladders: [web({ [A]: 15, [B]: 40 })] },
    ],
    expected: [
      { totals: { [A]: 10, [B]: 20 }, ladderTotal: 30, resets: 0, resetsThisSample: 0 },
      { totals: { [A]: 15, [B]: 28 }, ladderTotal: 43, resets: 0, resetsThisSample: 0 },
      { totals: { [A]: 15, [B]: 40 }, ladderTotal: 55, resets: 0, resetsThisSample: 0 },
    ],
  },
  {
    // Hourly full sync: same rules, counters back at zero. A went down, so the whole ladder reset and
    // B's 140 is all new (not 140 - 130 = 10), although B alone looks like growth.
    name: 'reset by decrease (full sync)',
    steps: [
      { t: 0, ladders: [web({ [A]: 100, [B]: 100 })] },
      { t: 10, ladders: [web({ [A]: 150, [B]: 130 })] },
      { t: 20, ladders: [web({ [A]: 4, [B]: 140 })] },
      { t: 30, ladders: [web({ [A]: 10, [B]: 150 })] },
    ],
    expected: [
      { totals: { [A]: 100, [B]: 100 }, ladderTotal: 200, resets: 0, resetsThisSample: 0 },
      { totals: { [A]: 150, [B]: 130 }, ladderTotal: 280, resets: 0, resetsThisSample: 0 },
      { totals: { [A]: 154, [B]: 270 }, ladderTotal: 424, resets: 1, resetsThisSample: 1 },
      { totals: { [A]: 160, [B]: 280 }, ladderTotal: 440, resets: 1, resetsThisSample: 0 },
    ],
  },
  {
    // C joins (rewrite: fingerprint changes, all counters restart), then B leaves. Every connection
    // counted stays in the ladder total: 65 = A 26 + C 12 + B's 27 from before it left.
    name: 'reset by fingerprint change (endpoint churn)',
    steps: [
      { t: 0, ladders: [web({ [A]: 10, [B]: 10 })] },
      { t: 10, ladders: [web({ [A]: 20, [B]: 25 })] },
      { t: 20, ladders: [web({ [A]: 1, [B]: 2, [C]: 3 })] },
      { t: 30, ladders: [web({ [A]: 5, [C]: 9 })] },
    ],
    expected: [
      { totals: { [A]: 10, [B]: 10 }, ladderTotal: 20, resets: 0, resetsThisSample: 0 },
      { totals: { [A]: 20, [B]: 25 }, ladderTotal: 45, resets: 0, resetsThisSample: 0 },
      { totals: { [A]: 21, [B]: 27, [C]: 3 }, ladderTotal: 51, resets: 1, resetsThisSample: 1 },
      { totals: { [A]: 26, [C]: 12 }, ladderTotal: 65, resets: 2, resetsThisSample: 1 },
    ],
  },
  {
    // Same members, new probabilities (e.g. a kube-proxy upgrade from 5 to 10 decimals): a rewrite,
    // so a reset even though every counter grew.
    name: 'reset by fingerprint change (same members)',
    steps: [
      { t: 0, ladders: [web({ [A]: 10, [B]: 10 }, { fingerprint: 'v1' })] },
      { t: 10, ladders: [web({ [A]: 12, [B]: 11 }, { fingerprint: 'v2' })] },
    ],
    expected: [
      { totals: { [A]: 10, [B]: 10 }, ladderTotal: 20, resets: 0, resetsThisSample: 0 },
      { totals: { [A]: 22, [B]: 21 }, ladderTotal: 43, resets: 1, resetsThisSample: 1 },
    ],
  },
  {
    // All endpoints unready: kube-proxy deletes the chains; they come back at zero. Absent in the
    // previous sample means reset, even though 50 > 12 and 60 > 14 look like growth.
    name: 'vanished ladder comes back',
    steps: [
      { t: 0, ladders: [web({ [A]: 10, [B]: 10 })] },
      { t: 10, ladders: [web({ [A]: 12, [B]: 14 })] },
      { t: 20, ladders: [] },
      { t: 30, ladders: [web({ [A]: 50, [B]: 60 })] },
    ],
    expected: [
      { totals: { [A]: 10, [B]: 10 }, ladderTotal: 20, resets: 0, resetsThisSample: 0 },
      { totals: { [A]: 12, [B]: 14 }, ladderTotal: 26, resets: 0, resetsThisSample: 0 },
      { totals: {}, ladderTotal: 0, resets: 0, resetsThisSample: 0 },
      { totals: { [A]: 62, [B]: 74 }, ladderTotal: 136, resets: 1, resetsThisSample: 1 },
    ],
  },
  {
    // C leaves (its 30 stay in the ladder total) and later rejoins: its own total restarts with the
    // counter of the chain rewritten when it rejoined.
    name: 'endpoint leaves and rejoins',
    steps: [
      { t: 0, ladders: [web({ [A]: 10, [B]: 20, [C]: 30 })] },
      { t: 10, ladders: [web({ [A]: 2, [B]: 3 })] },
      { t: 20, ladders: [web({ [A]: 4, [B]: 5 })] },
      { t: 30, ladders: [web({ [A]: 4, [B]: 5, [C]: 1 })] },
    ],
    expected: [
      { totals: { [A]: 10, [B]: 20, [C]: 30 }, ladderTotal: 60, resets: 0, resetsThisSample: 0 },
      { totals: { [A]: 12, [B]: 23 }, ladderTotal: 65, resets: 1, resetsThisSample: 1 },
      { totals: { [A]: 14, [B]: 25 }, ladderTotal: 69, resets: 1, resetsThisSample: 0 },
      { totals: { [A]: 18, [B]: 30, [C]: 1 }, ladderTotal: 79, resets: 2, resetsThisSample: 1 },
    ],
  },
];

describe('analyze: reset-aware cumulative counters', () => {
  it.each(cases)('$name', ({ steps, expected }) => {
    const outputs = runSequence(steps);
    expect(outputs).toHaveLength(expected.length);
    outputs.forEach((output, i) => {
      const want = expected[i];
      if (want === undefined) throw new Error('missing expectation');
      expect(output.result.resetsThisSample, `step ${i} resetsThisSample`).toBe(want.resetsThisSample);
      if (Object.keys(want.totals).length === 0) {
        expect(output.result.ladders, `step ${i}: ladder dropped`).toEqual([]);
        expect(output.state.ladders.size).toBe(0);
        return;
      }
      const stats = ladderOf(output);
      expect(byChain(stats, 'connectionsTotal'), `step ${i} totals`).toEqual(want.totals);
      expect(stats.connectionsTotal, `step ${i} ladder total`).toBe(want.ladderTotal);
      expect(stats.resets, `step ${i} resets`).toBe(want.resets);
    });
  });

  it('forgets a vanished ladder after one window: it comes back as new, not as a reset', () => {
    const outputs = runSequence(
      [
        { t: 0, ladders: [web({ [A]: 10, [B]: 10 })] },
        { t: 10, ladders: [] },
        { t: 200, ladders: [] },
        { t: 400, ladders: [web({ [A]: 3, [B]: 4 })] },
      ],
      { windowSeconds: 300 },
    );
    expect(outputs[1]?.state.vanished.size).toBe(1);
    expect(outputs[2]?.state.vanished.size).toBe(1);
    const back = ladderOf(outputs[3]);
    expect(byChain(back, 'connectionsTotal')).toEqual({ [A]: 3, [B]: 4 });
    expect(back.resets).toBe(0);
    expect(outputs[3]?.result.resetsThisSample).toBe(0);
    expect(outputs[3]?.state.vanished.size).toBe(0);
  });

  it('accumulates affinity counters, and an affinity counter going down is a reset', () => {
    const outputs = runSequence([
      { t: 0, ladders: [web({ [A]: [10, 4], [B]: [10, 0] })] },
      { t: 10, ladders: [web({ [A]: [20, 9], [B]: [15, 2] })] },
      // Connections grew everywhere, but A's affinity counter fell from 9 to 1: the chain was rewritten.
      { t: 20, ladders: [web({ [A]: [25, 1], [B]: [18, 2] })] },
    ]);
    const expected = [
      { connections: { [A]: 10, [B]: 10 }, affinity: { [A]: 4, [B]: 0 }, resets: 0 },
      { connections: { [A]: 20, [B]: 15 }, affinity: { [A]: 9, [B]: 2 }, resets: 0 },
      { connections: { [A]: 45, [B]: 33 }, affinity: { [A]: 10, [B]: 4 }, resets: 1 },
    ];
    outputs.forEach((output, i) => {
      const stats = ladderOf(output);
      expect(byChain(stats, 'connectionsTotal'), `step ${i}`).toEqual(expected[i]?.connections);
      expect(byChain(stats, 'affinityConnectionsTotal'), `step ${i}`).toEqual(expected[i]?.affinity);
      expect(stats.resets, `step ${i}`).toBe(expected[i]?.resets);
    });
  });

  it('reports a ladder without counters with zero totals, null window stats and no state', () => {
    const [output] = runSequence([{ t: 0, ladders: [web({ [A]: null, [B]: null })] }]);
    const stats = ladderOf(output);
    expect(stats.connectionsTotal).toBe(0);
    expect(byChain(stats, 'connectionsTotal')).toEqual({ [A]: 0, [B]: 0 });
    expect(byChain(stats, 'windowConnections')).toEqual({ [A]: null, [B]: null });
    expect(stats.window).toEqual({
      seconds: 0,
      connections: null,
      skewRatio: null,
      chiSquare: null,
      pValue: null,
      membershipChanged: false,
    });
    expect(output?.state.ladders.size).toBe(0);
  });

  it('keeps the ladders of both families apart by key', () => {
    const ipv4 = buildModel([web({ [A]: 1 })], 'ipv4');
    const ipv6 = buildModel([web({ [A]: 2 })], 'ipv6');
    const first = analyze(undefined, [ipv4, ipv6], 0, DEFAULT_ANALYSIS_OPTIONS);
    const second = analyze(first.state, [buildModel([web({ [A]: 5 })], 'ipv4'), ipv6], 10, DEFAULT_ANALYSIS_OPTIONS);
    expect(second.result.ladders.map((l) => [l.ladder.key, l.connectionsTotal, l.resets])).toEqual([
      ['ipv4/KUBE-SVC-WEB', 5, 0],
      ['ipv6/KUBE-SVC-WEB', 2, 0],
    ]);
  });

  it('leaves the state it is given untouched', () => {
    const [first] = runSequence([{ t: 0, ladders: [web({ [A]: 10, [B]: 20 })] }]);
    if (first === undefined) throw new Error('no output');
    const next = buildModel([web({ [A]: 2, [B]: 30 })]);
    const once = analyze(first.state, [next], 10, DEFAULT_ANALYSIS_OPTIONS);
    const again = analyze(first.state, [next], 10, DEFAULT_ANALYSIS_OPTIONS);
    expect(again.result).toEqual(once.result);
    expect(byChain(ladderOf(again), 'connectionsTotal')).toEqual({ [A]: 12, [B]: 50 });
    expect(ladderOf(first).connectionsTotal).toBe(30);
  });
});

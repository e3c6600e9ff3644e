import { describe, expect, it } from 'vitest';
import type { WindowStats } from '../../src/analysis/types.js';
import type { LadderSpec } from './ladder-builder.js';
import { A, B, C, byChain, ladderOf, runSequence, web } from './run-sequence.js';


interface TwoSampleCase {
  readonly name: string;
  readonly before: LadderSpec['endpoints'];
  readonly after: LadderSpec['endpoints'];
  readonly minExpectedPerEndpoint?: number;
  readonly windowConnections: Record<string, number>;
  readonly observedRatio: Record<string, number | null>;
  readonly window: WindowStats;
}

// Hand-checked: chi2 = sum (o - e)^2 / e with e = N / n; p = Q(df/2, chi2/2) (values from mpmath).
const twoSampleCases: TwoSampleCase[] = [
  {
    // N = 40, e = 20: (10^2 + 10^2) / 20 = 10; p = erfc(sqrt(5)). Skew 0.75 / 0.5.
    name: '30/10 over two endpoints',
    before: { [A]: 0, [B]: 0 },
    after: { [A]: 30, [B]: 10 },
    windowConnections: { [A]: 30, [B]: 10 },
    observedRatio: { [A]: 0.75, [B]: 0.25 },
    window: {
      seconds: 10,
      connections: 40,
      skewRatio: 1.5,
      chiSquare: 10,
      pValue: 0.0015654022580025497,
      membershipChanged: false,
    },
  },
  {
    // Deltas 5 and 8 on top of counters seeded at first sight: N = 13, e = 6.5,
    // chi2 = (1.5^2 * 2) / 6.5 = 9/13; p = Q(1/2, 9/26); skew (8/13) / (1/2) = 16/13.
    name: 'growth on seeded counters',
    before: { [A]: 10, [B]: 20 },
    after: { [A]: 15, [B]: 28 },
    windowConnections: { [A]: 5, [B]: 8 },
    observedRatio: { [A]: 5 / 13, [B]: 8 / 13 },
    window: {
      seconds: 10,
      connections: 13,
      skewRatio: 16 / 13,
      chiSquare: 9 / 13,
      pValue: 0.40538055645894242,
      membershipChanged: false,
    },
  },
  {
    name: 'perfectly uniform split',
    before: { [A]: 0, [B]: 0, [C]: 0 },
    after: { [A]: 7, [B]: 7, [C]: 7 },
    windowConnections: { [A]: 7, [B]: 7, [C]: 7 },
    observedRatio: { [A]: 1 / 3, [B]: 1 / 3, [C]: 1 / 3 },
    window: { seconds: 10, connections: 21, skewRatio: 1, chiSquare: 0, pValue: 1, membershipChanged: false },
  },
  {
    // N = 8, e = 4 < 5: too few for the chi-square approximation; skew is still reported.
    name: 'small sample: expected count below 5',
    before: { [A]: 0, [B]: 0 },
    after: { [A]: 6, [B]: 2 },
    windowConnections: { [A]: 6, [B]: 2 },
    observedRatio: { [A]: 0.75, [B]: 0.25 },
    window: { seconds: 10, connections: 8, skewRatio: 1.5, chiSquare: null, pValue: null, membershipChanged: false },
  },
  {
    // N = 10, e = 5 exactly: reported. chi2 = (2^2 * 2) / 5 = 1.6; p = Q(1/2, 0.8).
    name: 'small sample: expected count exactly 5',
    before: { [A]: 0, [B]: 0 },
    after: { [A]: 7, [B]: 3 },
    windowConnections: { [A]: 7, [B]: 3 },
    observedRatio: { [A]: 0.7, [B]: 0.3 },
    window: {
      seconds: 10,
      connections: 10,
      skewRatio: 1.4,
      chiSquare: 1.6,
      pValue: 0.20590321073206831,
      membershipChanged: false,
    },
  },
  {
    name: 'threshold from options',
    before: { [A]: 0, [B]: 0 },
    after: { [A]: 6, [B]: 2 },
    minExpectedPerEndpoint: 1,
    windowConnections: { [A]: 6, [B]: 2 },
    observedRatio: { [A]: 0.75, [B]: 0.25 },
    // chi2 = (2^2 * 2) / 4 = 2; p = Q(1/2, 1) = erfc(1).
    window: {
      seconds: 10,
      connections: 8,
      skewRatio: 1.5,
      chiSquare: 2,
      pValue: 0.15729920705028513,
      membershipChanged: false,
    },
  },
  {
    name: 'single endpoint: skew 1, no test',
    before: { [A]: 3 },
    after: { [A]: 10 },
    windowConnections: { [A]: 7 },
    observedRatio: { [A]: 1 },
    window: { seconds: 10, connections: 7, skewRatio: 1, chiSquare: null, pValue: null, membershipChanged: false },
  },
  {
    name: 'no traffic in the window',
    before: { [A]: 4, [B]: 4 },
    after: { [A]: 4, [B]: 4 },
    windowConnections: { [A]: 0, [B]: 0 },
    observedRatio: { [A]: null, [B]: null },
    window: { seconds: 10, connections: 0, skewRatio: null, chiSquare: null, pValue: null, membershipChanged: false },
  },
];

function expectWindow(actual: WindowStats, expected: WindowStats): void {
  const { skewRatio, chiSquare, pValue, ...exact } = expected;
  expect({ ...actual, skewRatio: null, chiSquare: null, pValue: null }).toEqual({
    ...exact,
    skewRatio: null,
    chiSquare: null,
    pValue: null,
  });
  for (const [field, want] of [
    ['skewRatio', skewRatio],
    ['chiSquare', chiSquare],
    ['pValue', pValue],
  ] as const) {
    const got = actual[field];
    if (want === null) expect(got, field).toBeNull();
    else expect(got, field).toBeCloseTo(want, 12);
  }
}

describe('analyze: window statistics', () => {
  it.each(twoSampleCases)('$name', (c) => {
    const outputs = runSequence(
      [
        { t: 100, ladders: [web(c.before)] },
        { t: 110, ladders: [web(c.after)] },
      ],
      c.minExpectedPerEndpoint === undefined ? {} : { minExpectedPerEndpoint: c.minExpectedPerEndpoint },
    );
    const stats = ladderOf(outputs[1]);
    expect(byChain(stats, 'windowConnections')).toEqual(c.windowConnections);
    const observed = byChain(stats, 'observedRatio');
    for (const [chain, want] of Object.entries(c.observedRatio)) {
      if (want === null) expect(observed[chain], chain).toBeNull();
      else expect(observed[chain], chain).toBeCloseTo(want, 12);
    }
    expectWindow(stats.window, c.window);
  });

  it('has no window statistics after a single sample', () => {
    const [output] = runSequence([{ t: 0, ladders: [web({ [A]: 30, [B]: 10 })] }]);
    const stats = ladderOf(output);
    expect(byChain(stats, 'windowConnections')).toEqual({ [A]: null, [B]: null });
    expect(byChain(stats, 'observedRatio')).toEqual({ [A]: null, [B]: null });
    expect(stats.window).toEqual({
      seconds: 0,
      connections: null,
      skewRatio: null,
      chiSquare: null,
      pValue: null,
      membershipChanged: false,
    });
  });

  it('is not distorted by a counter reset inside the window', () => {
    const outputs = runSequence([
      { t: 0, ladders: [web({ [A]: 100, [B]: 100 })] },
      { t: 10, ladders: [web({ [A]: 110, [B]: 120 })] },
      // Full sync: counters restart; A got 5 and B 10 since the rewrite.
      { t: 20, ladders: [web({ [A]: 5, [B]: 10 })] },
    ]);
    const stats = ladderOf(outputs[2]);
    // A: 10 + 5, B: 20 + 10 since t=0. Raw differences would say -95 and -90.
    expect(byChain(stats, 'windowConnections')).toEqual({ [A]: 15, [B]: 30 });
    expect(stats.window.connections).toBe(45);
    expect(stats.window.seconds).toBe(20);
    expect(stats.window.membershipChanged).toBe(false);
    // e = 22.5: (7.5^2 * 2) / 22.5 = 5.
    expect(stats.window.chiSquare).toBeCloseTo(5, 12);
  });

  it('flags a membership change, then reports again once the window slides past it', () => {
    // 30 s window, a sample every 10 s; C joins at t=10.
    const outputs = runSequence(
      [
        { t: 0, ladders: [web({ [A]: 0, [B]: 0 })] },
        { t: 10, ladders: [web({ [A]: 5, [B]: 5, [C]: 5 })] },
        { t: 20, ladders: [web({ [A]: 10, [B]: 10, [C]: 10 })] },
        { t: 30, ladders: [web({ [A]: 15, [B]: 15, [C]: 15 })] },
        { t: 40, ladders: [web({ [A]: 20, [B]: 20, [C]: 20 })] },
      ],
      { windowSeconds: 30 },
    );
    // t=30: the baseline is t=0 (at the window start), when C was not a member.
    const during = ladderOf(outputs[3]);
    expect(during.window).toEqual({
      seconds: 30,
      connections: 45,
      skewRatio: null,
      chiSquare: null,
      pValue: null,
      membershipChanged: true,
    });
    // Per-endpoint counts are still reported: C joined inside the window, so all of its 15 count.
    expect(byChain(during, 'windowConnections')).toEqual({ [A]: 15, [B]: 15, [C]: 15 });

    // t=40: the baseline is t=10, every sample has {A, B, C}: 20 - 5 each, uniform.
    const after = ladderOf(outputs[4]);
    expect(byChain(after, 'windowConnections')).toEqual({ [A]: 15, [B]: 15, [C]: 15 });
    expect(after.window).toEqual({
      seconds: 30,
      connections: 45,
      skewRatio: 1,
      chiSquare: 0,
      pValue: 1,
      membershipChanged: false,
    });
  });

  it('counts a rejoined endpoint from its rejoin, not from its old total', () => {
    const outputs = runSequence([
      { t: 0, ladders: [web({ [A]: 50, [B]: 50 })] },
      { t: 10, ladders: [web({ [A]: 3 })] },
      { t: 20, ladders: [web({ [A]: 6, [B]: 2 })] },
    ]);
    const stats = ladderOf(outputs[2]);
    // A was present throughout: 50 + 3 + 6 - 50. B left and came back with a fresh total of 2.
    expect(byChain(stats, 'windowConnections')).toEqual({ [A]: 9, [B]: 2 });
    expect(stats.window.membershipChanged).toBe(true);
    expect(stats.connectionsTotal).toBe(100 + 3 + 8);
  });

  it('restarts the window of a ladder whose chain vanished and came back', () => {
    const outputs = runSequence([
      { t: 0, ladders: [web({ [A]: 10, [B]: 10 })] },
      { t: 10, ladders: [web({ [A]: 12, [B]: 14 })] },
      { t: 20, ladders: [] },
      { t: 30, ladders: [web({ [A]: 20, [B]: 20 })] },
      { t: 40, ladders: [web({ [A]: 26, [B]: 24 })] },
    ]);
    const back = ladderOf(outputs[3]);
    expect(back.connectionsTotal).toBe(26 + 40);
    expect(back.window).toMatchObject({ seconds: 0, connections: null });
    const next = ladderOf(outputs[4]);
    expect(byChain(next, 'windowConnections')).toEqual({ [A]: 6, [B]: 4 });
    expect(next.window).toMatchObject({ seconds: 10, connections: 10, membershipChanged: false });
  });

  it('keeps only the samples the window needs', () => {
    const steps = Array.from({ length: 10 }, (_, i) => ({ t: i * 10, ladders: [web({ [A]: i, [B]: 2 * i })] }));
    const outputs = runSequence(steps, { windowSeconds: 30 });
    const last = outputs[outputs.length - 1];
    // t=90: baseline t=60 (at the window start) plus t=70, 80, 90.
    expect(last?.state.columns.map((c) => c.timeSeconds)).toEqual([60, 70, 80, 90]);
    expect(last?.state.ladders.get('ipv4/KUBE-SVC-WEB')?.offsets).toEqual([0, 0, 0, 0]);
    expect(byChain(ladderOf(last), 'windowConnections')).toEqual({ [A]: 3, [B]: 6 });
  });

  it('follows a ladder whose segment moves because a ladder before it changed size', () => {
    const api = (endpoints: LadderSpec['endpoints']): LadderSpec => web(endpoints, { chain: 'KUBE-SVC-API' });
    const outputs = runSequence([
      { t: 0, ladders: [api({ [A]: 10, [B]: 10 }), web({ [A]: 0, [B]: 0 })] },
      { t: 10, ladders: [api({ [A]: 11, [B]: 12, [C]: 1 }), web({ [A]: 30, [B]: 10 })] },
    ]);
    expect(outputs[1]?.state.ladders.get('ipv4/KUBE-SVC-WEB')?.offsets).toEqual([2, 3]);
    const stats = ladderOf(outputs[1]);
    expect(byChain(stats, 'windowConnections')).toEqual({ [A]: 30, [B]: 10 });
    expect(stats.window.chiSquare).toBeCloseTo(10, 12);
    // API was rewritten (C joined): everything its counters show now is new.
    expect(byChain(ladderOf(outputs[1], 'ipv4/KUBE-SVC-API'), 'windowConnections')).toEqual({
      [A]: 11,
      [B]: 12,
      [C]: 1,
    });
  });

  it('drops every column once no ladder needs them', () => {
    const outputs = runSequence([
      { t: 0, ladders: [web({ [A]: 1 })] },
      { t: 10, ladders: [web({ [A]: 2 })] },
      { t: 20, ladders: [] },
    ]);
    expect(outputs[1]?.state.columns).toHaveLength(2);
    expect(outputs[2]?.state.columns).toEqual([]);
  });

  it('uses the newest sample at or before the window start as the baseline', () => {
    // Irregular intervals: at t=100 with a 30 s window the start is t=70; t=65 is the newest at or before it.
    const outputs = runSequence(
      [0, 65, 80, 100].map((t) => ({ t, ladders: [web({ [A]: t, [B]: t })] })),
      { windowSeconds: 30 },
    );
    const stats = ladderOf(outputs[3]);
    expect(stats.window.seconds).toBe(35);
    expect(byChain(stats, 'windowConnections')).toEqual({ [A]: 35, [B]: 35 });
  });

  it.each([
    { name: 'uniform rules', ratios: [0.5, 0.5], deviation: 0 },
    { name: 'rules favouring the first endpoint', ratios: [0.6, 0.4], deviation: 0.1 },
    // max(1/3 - 0.33333, 0.33334 - 1/3): the last rule takes the rounding remainder.
    { name: 'old 5-decimal probabilities', ratios: [0.33333, 0.33333, 0.33334], deviation: 0.33334 - 1 / 3 },
  ])('programmedDeviation: $name', ({ ratios, deviation }) => {
    const chains = [A, B, C].slice(0, ratios.length);
    const endpoints = Object.fromEntries(chains.map((chain) => [chain, 0]));
    const [output] = runSequence([{ t: 0, ladders: [web(endpoints, { programmedRatios: ratios })] }]);
    expect(ladderOf(output).programmedDeviation).toBeCloseTo(deviation, 12);
  });
});

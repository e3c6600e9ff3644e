import { describe, expect, it } from 'vitest';
import type { EndpointLayout, SampleColumn } from '../../src/analysis/state.js';
import { type LadderHistory, pruneColumns, windowDeltas } from '../../src/analysis/window-samples.js';

const ab: EndpointLayout = { fingerprint: 'ab', chains: ['A', 'B'] };
const abc: EndpointLayout = { fingerprint: 'abc', chains: ['A', 'B', 'C'] };

const column = (timeSeconds: number, totals: number[]): SampleColumn => ({
  timeSeconds,
  totals: Float64Array.from(totals),
});

/** A ladder alone in every column (offset 0). */
const alone = (samples: [number, EndpointLayout, number[]][]): LadderHistory => ({
  columns: samples.map(([t, , totals]) => column(t, totals)),
  offsets: samples.map(() => 0),
  layouts: samples.map(([, layout]) => layout),
});

describe('pruneColumns', () => {
  it.each([
    { name: 'all inside the window', times: [80, 90, 100], kept: [80, 90, 100] },
    { name: 'one exactly at the start', times: [60, 70, 80, 100], kept: [70, 80, 100] },
    { name: 'baseline before the start', times: [10, 50, 65, 100], kept: [65, 100] },
    { name: 'only an old baseline and now', times: [0, 100], kept: [0, 100] },
    { name: 'single column', times: [100], kept: [100] },
  ])('$name (now 100, window 30)', ({ times, kept }) => {
    const columns = times.map((t) => column(t, [t]));
    expect(pruneColumns(columns, 100, 30).map((c) => c.timeSeconds)).toEqual(kept);
  });
});

describe('windowDeltas', () => {
  it('differences aligned totals when membership held', () => {
    const deltas = windowDeltas(
      alone([
        [0, ab, [10, 20]],
        [10, ab, [11, 25]],
        [20, ab, [15, 40]],
      ]),
    );
    expect(deltas.seconds).toBe(20);
    expect(Array.from(deltas.connections ?? [])).toEqual([5, 20]);
    expect(deltas.membershipChanged).toBe(false);
  });

  it('reads the ladder segment at its offset in each column, and only its last columns', () => {
    // Three columns kept; this ladder appeared in the second. Other ladders' totals surround it.
    const history: LadderHistory = {
      columns: [column(0, [999]), column(10, [7, 10, 20]), column(20, [7, 8, 9, 14, 29])],
      offsets: [1, 3],
      layouts: [ab, ab],
    };
    expect(windowDeltas(history)).toEqual({
      seconds: 10,
      connections: Float64Array.from([4, 9]),
      membershipChanged: false,
    });
  });

  it('maps endpoints across layouts and counts a joiner from zero', () => {
    const reordered: EndpointLayout = { fingerprint: 'cba', chains: ['C', 'B', 'A'] };
    const deltas = windowDeltas(
      alone([
        [0, ab, [10, 20]],
        [10, reordered, [4, 30, 12]],
      ]),
    );
    expect(Array.from(deltas.connections ?? [])).toEqual([4, 10, 2]);
    expect(deltas.membershipChanged).toBe(true);
  });

  it('treats an endpoint missing from a middle sample as a new member', () => {
    const deltas = windowDeltas(
      alone([
        [0, abc, [10, 20, 30]],
        [10, ab, [12, 22]],
        [20, abc, [14, 24, 3]],
      ]),
    );
    expect(Array.from(deltas.connections ?? [])).toEqual([4, 4, 3]);
    expect(deltas.membershipChanged).toBe(true);
  });

  it('has nothing to say with fewer than two samples', () => {
    const none = { seconds: 0, connections: null, membershipChanged: false };
    expect(windowDeltas(alone([[0, ab, [1, 2]]]))).toEqual(none);
    expect(windowDeltas(alone([]))).toEqual(none);
  });
});

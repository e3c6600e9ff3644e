import { describe, expect, it } from 'vitest';
import { distributionStats, programmedDeviation } from '../../src/analysis/distribution-stats.js';
import { buildLadder } from './ladder-builder.js';

describe('distributionStats (one-shot: a single dump read as one window)', () => {
  it('derives shares and the chi-square test from raw counts', () => {
    const { endpoints } = buildLadder({ endpoints: { 'KUBE-SEP-A': 30, 'KUBE-SEP-B': 10 } });
    const stats = distributionStats(
      endpoints,
      { seconds: 0, connections: Float64Array.from([30, 10]), membershipChanged: false },
      5,
    );
    expect(stats.observedRatios).toEqual([0.75, 0.25]);
    expect(stats.window.connections).toBe(40);
    expect(stats.window.skewRatio).toBe(1.5);
    expect(stats.window.chiSquare).toBe(10);
    expect(stats.window.pValue).toBeCloseTo(0.0015654022580025497, 12);
  });

  it('gives null shares without counts', () => {
    const { endpoints } = buildLadder({ endpoints: { 'KUBE-SEP-A': null, 'KUBE-SEP-B': null } });
    const stats = distributionStats(endpoints, { seconds: 0, connections: null, membershipChanged: false }, 5);
    expect(stats.observedRatios).toEqual([null, null]);
    expect(stats.window.connections).toBeNull();
  });

  it('programmedDeviation is 0 for a ladder without endpoints', () => {
    expect(programmedDeviation([])).toBe(0);
  });
});

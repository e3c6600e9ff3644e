/**
 * Window columns (increment-column.ts): packed as narrow as the values allow, with escapes, and the
 * same column whether packed in one go or in steps (what analyzeInSlices does, with a checkpoint
 * after each step).
 */
import { describe, expect, it } from 'vitest';
import { incrementAt, packIncrements, packIncrementsInSteps } from '../../src/analysis/increment-column.js';
import { mulberry32 } from '../../src/lab/mulberry32.js';
import { drainSteps } from '../support/drain-steps.js';

/** `n` increments, mostly below `typical`, with a few of each kind that escapes a narrow column. */
function increments(n: number, typical: number, seed: number): Float64Array {
  const next = mulberry32(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(next() * typical);
  const odd = [255, 65_535, 70_000, 2 ** 32, 2 ** 40, 0.5, -3, -0, Number.NaN];
  for (let k = 0; k < odd.length; k++) out[Math.floor(next() * n)] = odd[k] as number;
  return out;
}

describe('increment columns', () => {
  it.each([
    ['bytes', 200, Uint8Array],
    ['16-bit values', 60_000, Uint16Array],
    ['32-bit values', 4_000_000_000, Uint32Array],
  ] as const)('packs %s into the narrowest array, escaping the values it cannot hold exactly', (_name, typical, kind) => {
    const values = increments(5_000, typical, typical);
    const column = packIncrements(1_000, values);
    expect(column.values).toBeInstanceOf(kind);
    expect(column.wide?.size ?? 0).toBeGreaterThan(0);
    for (let i = 0; i < values.length; i++) expect(Object.is(incrementAt(column, i), values[i]), `value ${i}`).toBe(true);
  });

  it('keeps 8-byte values when too many escape', () => {
    const values = Float64Array.from({ length: 100 }, (_, i) => i + 0.5);
    const column = packIncrements(1_000, values);
    expect(column.values).toBeInstanceOf(Float64Array);
    expect(Array.from({ length: 100 }, (_, i) => incrementAt(column, i))).toEqual(Array.from(values));
  });

  it.each([1, 7, 1_000, 4_999, 5_000, 100_000])('gives the same column in steps of %d values, with a checkpoint after each', (step) => {
    const values = increments(5_000, 60_000, step);
    const whole = packIncrements(1_000, values);
    const { value, checkpoints } = drainSteps(packIncrementsInSteps(1_000, values, step));
    expect(value.timeSeconds).toBe(1_000);
    expect(value.values).toEqual(whole.values);
    expect(value.escape).toBe(whole.escape);
    expect(value.wide).toEqual(whole.wide);
    // Two passes over the values, each cut into steps.
    expect(checkpoints).toBe(2 * Math.ceil(values.length / step));
  });

  it('packs an empty column', () => {
    const { value, checkpoints } = drainSteps(packIncrementsInSteps(5, new Float64Array(0), 10));
    expect(value.values.length).toBe(0);
    expect(checkpoints).toBe(0);
  });
});

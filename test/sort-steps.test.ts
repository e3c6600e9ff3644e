import { describe, expect, it } from 'vitest';
import { runToEnd } from '../src/slices.js';
import { sortSteps } from '../src/sort-steps.js';

describe('sortSteps', () => {
  it.each([0, 1, 2, 3, 7, 100, 4097, 20_001])('orders %i items exactly as Array.prototype.sort, ties in input order', (n) => {
    // Few distinct keys: many ties, so stability shows.
    let seed = n + 1;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const items = Array.from({ length: n }, (_, i) => ({ key: Math.floor(random() * 20), i }));
    const compare = (a: { key: number }, b: { key: number }) => a.key - b.key;
    const expected = items.slice().sort(compare);
    const steps = sortSteps(items, compare);
    let yields = 0;
    while (steps.next().done !== true) yields++;
    expect(items).toEqual(expected);
    if (n > 10_000) expect(yields).toBeGreaterThan(10);
  });

  it.each([
    ['sorted', (n: number) => Array.from({ length: n }, (_, i) => i)],
    ['sorted but for a few at the end', (n: number) => [...Array.from({ length: n - 5 }, (_, i) => 10 * i), 15, 5, 10 * n, -1, 25]],
    ['sorted in runs that overlap', (n: number) => Array.from({ length: n }, (_, i) => (i % 64) * 1000 + Math.floor(i / 64))],
    ['reversed', (n: number) => Array.from({ length: n }, (_, i) => n - i)],
  ])('orders an input %s as Array.prototype.sort does', (_shape, make) => {
    for (const n of [2, 3, 63, 64, 65, 1000, 20_001]) {
      // Ties by key, told apart by input position: a run copied whole keeps ties in order.
      const items = make(n).map((key, i) => ({ key: Math.floor(key / 2), i }));
      const compare = (a: { key: number }, b: { key: number }) => a.key - b.key;
      const expected = items.slice().sort(compare);
      runToEnd(sortSteps(items, compare));
      expect(items).toEqual(expected);
    }
  });

  it('compares a sorted input fewer than n times, and one sorted but for a few items at its end about 2n times', () => {
    const n = 20_000;
    let comparisons = 0;
    const compare = (a: number, b: number) => {
      comparisons++;
      return a - b;
    };
    runToEnd(sortSteps(Array.from({ length: n }, (_, i) => i), compare));
    expect(comparisons).toBeLessThan(n);
    comparisons = 0;
    const nearly = [...Array.from({ length: n }, (_, i) => 2 * i), 5, 20_001, 39_999];
    runToEnd(sortSteps(nearly, compare));
    expect(nearly).toEqual([...nearly].sort((a, b) => a - b));
    // Each level merges the runs that hold the last items (~n in all); a random order makes ~n log2 n ≈ 286,000.
    expect(comparisons).toBeLessThan(2.5 * n);
  });

  it('drains like any other steps', () => {
    const items = [3, 1, 2];
    runToEnd(sortSteps(items, (a, b) => a - b));
    expect(items).toEqual([1, 2, 3]);
  });
});

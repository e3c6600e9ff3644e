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

  it('drains like any other steps', () => {
    const items = [3, 1, 2];
    runToEnd(sortSteps(items, (a, b) => a - b));
    expect(items).toEqual([1, 2, 3]);
  });
});

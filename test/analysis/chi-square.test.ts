import { describe, expect, it } from 'vitest';
import { chiSquarePValue, logGamma, regularizedGammaQ } from '../../src/analysis/chi-square.js';

// Reference values from mpmath (30 digits), or closed forms where they exist.
describe('chiSquarePValue', () => {
  it.each([
    { chi2: 3.8414588206941285, df: 1, p: 0.05, note: '95th percentile, df 1' },
    { chi2: 3.841459, df: 1, p: 0.049999994653195765, note: 'rounded 95th percentile, df 1' },
    { chi2: 7.814727903251178, df: 3, p: 0.05, note: '95th percentile, df 3' },
    { chi2: 10, df: 1, p: 0.0015654022580025497, note: 'erfc(sqrt(5))' },
    { chi2: 10, df: 2, p: Math.exp(-5), note: 'df 2 is exp(-chi2/2)' },
    { chi2: 6, df: 4, p: Math.exp(-3) * (1 + 3), note: 'df 4 is exp(-x)(1 + x), x = chi2/2' },
    { chi2: 0, df: 1, p: 1, note: 'no deviation' },
    { chi2: 0, df: 7, p: 1, note: 'no deviation, more endpoints' },
    { chi2: 2, df: 9, p: 0.99146760662881353, note: 'series branch (x < a + 1)' },
    { chi2: 160, df: 100, p: 0.00013078397659141034, note: 'continued fraction branch' },
    { chi2: 0.002, df: 1, p: 0.96432940827032011, note: 'tiny statistic' },
    { chi2: 199999, df: 199999, p: 0.49957947683832549, note: 'a 200,000-endpoint ladder at its mean' },
    { chi2: 201000, df: 199999, p: 0.056922473456384884, note: 'a 200,000-endpoint ladder, slightly skewed' },
  ])('$note: chi2 $chi2, df $df', ({ chi2, df, p }) => {
    expect(Math.abs(chiSquarePValue(chi2, df) - p)).toBeLessThan(1e-10);
  });

  it.each([
    { chi2: 120, df: 1, p: 6.3260682636772615e-28 },
    { chi2: 200, df: 10, p: 1.6139305336977305e-37 },
  ])('keeps relative accuracy in the far tail: chi2 $chi2, df $df', ({ chi2, df, p }) => {
    expect(Math.abs(chiSquarePValue(chi2, df) - p) / p).toBeLessThan(1e-10);
  });
});

describe('regularizedGammaQ', () => {
  it.each([
    { a: 2, x: 3, q: 0.19914827347145577 },
    { a: 0.5, x: 1.5, q: 0.083264516663550402 },
    { a: 1, x: Number.POSITIVE_INFINITY, q: 0 },
  ])('Q($a, $x)', ({ a, x, q }) => {
    expect(Math.abs(regularizedGammaQ(a, x) - q)).toBeLessThan(1e-12);
  });

  it.each([
    { a: 0, x: 1 },
    { a: -1, x: 1 },
    { a: 1, x: -0.5 },
    { a: Number.NaN, x: 1 },
    { a: 1, x: Number.NaN },
  ])('rejects a = $a, x = $x', ({ a, x }) => {
    expect(() => regularizedGammaQ(a, x)).toThrow(RangeError);
  });
});

describe('logGamma', () => {
  it.each([
    { x: 1, value: 0 },
    { x: 2, value: 0 },
    { x: 0.5, value: 0.5 * Math.log(Math.PI) },
    { x: 0.1, value: 2.2527126517342059 },
    { x: 10, value: Math.log(362880) },
    { x: 100, value: 359.13420536957540 },
  ])('ln Γ($x)', ({ x, value }) => {
    expect(Math.abs(logGamma(x) - value)).toBeLessThan(1e-12 * Math.max(1, Math.abs(value)));
  });
});

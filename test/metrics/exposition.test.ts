import { describe, expect, it } from 'vitest';
import { escapeHelp, escapeLabelValue, formatValue, LabelTextCache } from '../../src/metrics/exposition.js';

describe('exposition text', () => {
  it.each([
    ['plain', 'plain'],
    ['', ''],
    ['a"b', 'a\\"b'],
    ['a\\b', 'a\\\\b'],
    ['a\nb', 'a\\nb'],
    ['\\"\n', '\\\\\\"\\n'],
    ['tab\tand unicode ü', 'tab\tand unicode ü'],
  ])('escapes label value %j as %j', (input, expected) => {
    expect(escapeLabelValue(input)).toBe(expected);
  });

  it.each([
    ['a "quoted" word', 'a "quoted" word'],
    ['back\\slash', 'back\\\\slash'],
    ['two\nlines', 'two\\nlines'],
  ])('escapes HELP %j as %j', (input, expected) => {
    expect(escapeHelp(input)).toBe(expected);
  });

  it.each([
    [0, '0'],
    [42, '42'],
    [0.25, '0.25'],
    [1 / 3, '0.3333333333333333'],
    [1e-7, '1e-7'],
    [1_700_000_123.5, '1700000123.5'],
    [Number.NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
  ])('formats %d as %s', (value, expected) => {
    expect(formatValue(value)).toBe(expected);
  });

  it('renders label text once per values array and label-names array', () => {
    const cache = new LabelTextCache();
    const ab = ['a', 'b'];
    const values = ['x"y', 'z'];
    const first = cache.forNames(ab)(values);
    expect(first).toBe('{a="x\\"y",b="z"}');
    expect(cache.forNames(ab)(values)).toBe(first);
    // The same values under other names must not hit the entry of the first names.
    expect(cache.forNames(['c', 'd'])(values)).toBe('{c="x\\"y",d="z"}');
    expect(cache.forNames([])([])).toBe('');
  });
});

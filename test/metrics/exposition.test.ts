import { describe, expect, it } from 'vitest';
import { escapeHelp, escapeLabelValue, familyEmitter, formatValue, LabelTextCache } from '../../src/metrics/exposition.js';

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

  it('renders the opening of a label set once per values array and label names', () => {
    const cache = new LabelTextCache();
    const ab = ['a', 'b'];
    const values = ['x"y', 'z'];
    const first = cache.forNames(ab)(values);
    expect(first).toBe('{a="x\\"y",b="z"');
    // Another array of the same names is the same key: the names, not the array, are looked up.
    expect(cache.forNames(['a', 'b'])(values)).toBe(first);
    expect(cache.size).toBe(1);
    // The same values under other names must not hit the entry of the first names.
    expect(cache.forNames(['c', 'd'])(values)).toBe('{c="x\\"y",d="z"');
    expect(cache.size).toBe(2);
  });

  it("writes a series with its last label apart as the whole label set's text, sharing the others' text", () => {
    const cache = new LabelTextCache();
    const lines: string[] = [];
    const family = (labels: readonly string[]) => ({ name: 'm', help: 'h', type: 'gauge' as const, labels, collect: () => undefined });
    const head = ['ns', 'a"b'];
    familyEmitter(family(['namespace', 'service']), cache, (t) => lines.push(t))(head, 1);
    familyEmitter(family(['namespace', 'service', 'endpoint']), cache, (t) => lines.push(t))(head, 2, '10.0.0.1:80\n');
    familyEmitter(family(['endpoint']), cache, (t) => lines.push(t))([], 3, 'x');
    familyEmitter(family([]), cache, (t) => lines.push(t))([], 4);
    expect(lines.join('').split('\n').filter((l) => !l.startsWith('#'))).toEqual([
      'm{namespace="ns",service="a\\"b"} 1',
      'm{namespace="ns",service="a\\"b",endpoint="10.0.0.1:80\\n"} 2',
      'm{endpoint="x"} 3',
      'm 4',
      '',
    ]);
    // The endpoint series reused the ladder's text (one entry for the two families); last labels given
    // apart are written as they come, not cached (one text per endpoint would be kept with the layout).
    expect(cache.size).toBe(1);
    const again: string[] = [];
    familyEmitter(family(['namespace', 'service', 'endpoint']), cache, (t) => again.push(t))(head, 5, '10.0.0.1:80\n');
    expect(cache.size).toBe(1);
    expect(again.join('')).toContain('m{namespace="ns",service="a\\"b",endpoint="10.0.0.1:80\\n"} 5\n');
    const emit = familyEmitter(family(['namespace', 'service', 'endpoint']), cache, () => undefined);
    expect(() => emit(head, 1)).toThrow(/m: 2 label values for 3 labels/);
    expect(() => emit(['ns', 's', 'e'], 1, 'x')).toThrow(/m: 4 label values for 3 labels/);
  });
});

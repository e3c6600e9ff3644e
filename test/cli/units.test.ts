import { describe, expect, test } from 'vitest';
import { formatBytes, formatDuration, parseBytes, parseDuration } from '../../src/cli/units.js';

describe('parseDuration', () => {
  test.each([
    ['10s', 10],
    ['5m', 300],
    ['1h30m', 5400],
    ['500ms', 0.5],
    ['1.5s', 1.5],
    ['2d', 172_800],
    ['1m30s', 90],
    ['0', 0],
  ])('%s is %d seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  test.each(['', '10', '10x', 's', '1h 30m', '-5s', '5 m', 'm5', '1.s'])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeNull();
  });

  test.each([
    [90, '1m30s'],
    [0.5, '500ms'],
    [7200, '2h'],
    [0, '0s'],
    [86_400 + 61, '1d1m1s'],
  ])('formatDuration(%d) is %s and parses back', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
    expect(parseDuration(text)).toBe(seconds);
  });
});

describe('parseBytes', () => {
  test.each([
    ['512MiB', 512 * 2 ** 20],
    ['1GiB', 2 ** 30],
    ['64KiB', 65_536],
    ['1GB', 1e9],
    ['10kb', 10_000],
    ['1048576', 1_048_576],
    ['100B', 100],
    ['1.5KiB', 1536],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseBytes(text)).toBe(bytes);
  });

  test.each(['', 'MiB', '12XB', '-1MiB', '1e3', 'lots'])('%j is not a size', (text) => {
    expect(parseBytes(text)).toBeNull();
  });

  test.each([
    [512 * 2 ** 20, '512MiB'],
    [2 ** 30, '1GiB'],
    [1000, '1000B'],
  ])('formatBytes(%d) is %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

// The fast path's string tables: whatever they hold, a lookup returns the text of the bytes asked for.
import { describe, expect, it } from 'vitest';
import { hashText, NameTable, RecentStrings } from '../../src/iptables/byte-strings.js';

/** The bytes of `words` on one line, and each word's [start, end, hash]. */
function line(words: string[]): { bytes: Buffer; at: [number, number, number][] } {
  const bytes = Buffer.from(words.join(' '), 'latin1');
  let start = 0;
  const at = words.map((w): [number, number, number] => {
    const span: [number, number, number] = [start, start + w.length, hashText(w)];
    start += w.length + 1;
    return span;
  });
  return { bytes, at };
}

const NAMES = Array.from({ length: 3000 }, (_, i) => `KUBE-SEP-${(i * 7919).toString(36).toUpperCase().padStart(8, 'Q')}`);
// Same length, same FNV-1a hash.
const COLLIDING = ['KUBE-SEP-11L5Y9', 'KUBE-SEP-11PJC0'];

describe('NameTable', () => {
  it.each([
    ['no limit', undefined],
    ['a limit that clears it every 100 names', 100],
  ])('returns each name for its bytes, in and out of order (%s)', (_name, limit) => {
    const table = new NameTable(limit);
    const words = [...NAMES, ...COLLIDING, ...NAMES.slice().reverse(), ...COLLIDING.slice().reverse()];
    const { bytes, at } = line(words);
    words.forEach((w, i) => {
      const [s, e, h] = at[i] as [number, number, number];
      expect(table.chain(bytes, s, e, h)).toBe(w);
      expect(table.get(bytes, s, e, h)).toBe(w);
      expect(table.lookup(bytes, s, e, h)).toBe(w);
    });
  });

  it('gives one string per name', () => {
    const table = new NameTable();
    const { bytes, at } = line([...NAMES, ...NAMES]);
    for (let i = 0; i < NAMES.length; i++) {
      const [s, e, h] = at[i] as [number, number, number];
      const [s2, e2, h2] = at[i + NAMES.length] as [number, number, number];
      expect(Object.is(table.lookup(bytes, s, e, h), table.chain(bytes, s2, e2, h2))).toBe(true);
    }
  });
});

describe('RecentStrings', () => {
  it('returns the text of the bytes, whatever the slot holds (short, long, colliding)', () => {
    const cache = new RecentStrings(2);
    const words = ['tcp', 'x'.repeat(100), 'y'.repeat(100), ...COLLIDING, 'tcp', ...COLLIDING.slice().reverse(), 'y'.repeat(100), 'x'.repeat(100), ''];
    const { bytes, at } = line(words);
    words.forEach((w, i) => {
      const [s, e, h] = at[i] as [number, number, number];
      expect(cache.get(bytes, s, e, h)).toBe(w);
    });
  });
});

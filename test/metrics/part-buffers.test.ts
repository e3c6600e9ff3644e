/** PartBuffers: text encoded into a few reused buffers, anything else into buffers of its own. */
import { describe, expect, it } from 'vitest';
import { PartBuffers } from '../../src/metrics/part-buffers.js';

describe('PartBuffers', () => {
  it('encodes into at most `max` reused buffers, and into new ones while none is free', () => {
    const buffers = new PartBuffers(64, 2);
    const a = buffers.encode('wéb-☃');
    const b = buffers.encode('b');
    const c = buffers.encode('c');
    expect(a.toString('utf8')).toBe('wéb-☃');
    expect(a.length).toBe(Buffer.byteLength('wéb-☃'));
    expect([a, b, c].map((part) => buffers.reused(part))).toEqual([true, true, false]);
    buffers.release(a);
    buffers.release(c); // not one of its own: left to the GC
    const d = buffers.encode('d');
    expect(d.buffer).toBe(a.buffer);
    expect(buffers.reused(buffers.encode('e'))).toBe(false);
  });

  it('text longer than a buffer gets a buffer of its own', () => {
    const buffers = new PartBuffers(4, 2);
    const long = buffers.encode('ééé'); // 6 bytes
    expect(buffers.reused(long)).toBe(false);
    expect(long.toString()).toBe('ééé');
    expect(buffers.reused(buffers.encode('éé'))).toBe(true);
  });

  it('encodeAll: many texts, joined a few thousand at a time, give the bytes of their one join', () => {
    // More than one join's worth of texts, multi-byte characters on both sides of every boundary.
    const texts = Array.from({ length: 5000 }, (_, i) => (i % 3 === 0 ? `é${i}☃` : `x${i}\n`));
    const expected = Buffer.from(texts.join(''), 'utf8');
    const buffers = new PartBuffers(1 << 16, 1);
    const bytes = buffers.encodeAll(texts);
    expect(buffers.reused(bytes)).toBe(true);
    expect(bytes.equals(expected)).toBe(true);
    expect(buffers.encodeAll([]).length).toBe(0);
  });

  it('encodeAll: texts that outgrow the buffer half-way get a buffer of their own, and the reused one is free again', () => {
    const buffers = new PartBuffers(3000, 1);
    // 5000 bytes: the first join (2048 texts) fits, the second does not.
    const texts = Array.from({ length: 5000 }, (_, i) => `${i % 10}`);
    const bytes = buffers.encodeAll(texts);
    expect(buffers.reused(bytes)).toBe(false);
    expect(bytes.toString()).toBe(texts.join(''));
    expect(buffers.reused(buffers.encode('fits'))).toBe(true);
  });
});

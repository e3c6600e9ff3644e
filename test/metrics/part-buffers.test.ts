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
});

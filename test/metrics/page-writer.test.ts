/** PageWriter: committed families' bytes handed out in order, a dropped family leaves no byte, CRC of the whole. */
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { PageWriter, type PartSink } from '../../src/metrics/page-writer.js';

type Op = { readonly family: readonly string[]; readonly commit: boolean };

/** Collects the parts, as the page store would keep them. */
function collector(): PartSink & { readonly parts: Buffer[] } {
  const parts: Buffer[] = [];
  return {
    parts,
    encode: (texts) => Buffer.from(texts.join(''), 'utf8'),
    add: (part) => parts.push(part),
    dropLast: (count) => void parts.splice(parts.length - count, count),
  };
}

function run(ops: readonly Op[], partChars: number) {
  const sink = collector();
  const { parts } = sink;
  const writer = new PageWriter(sink, partChars);
  for (const { family, commit } of ops) {
    for (const text of family) writer.write(text);
    if (commit) writer.commitFamily();
    else writer.dropFamily();
  }
  return { parts, ...writer.finish() };
}

const line = (i: number) => `kube_balance_x{service="wéb-${i}",endpoint="10.0.${i % 7}.1:80"} ${i}\n`;
const family = (from: number, n: number) => Array.from({ length: n }, (_, i) => line(from + i));

describe('PageWriter', () => {
  // Small parts so families span several of them, and drops happen after some of a family was encoded.
  const cases: [string, readonly Op[]][] = [
    ['nothing', []],
    ['one small family', [{ family: family(0, 2), commit: true }]],
    ['a family larger than a part', [{ family: family(0, 40), commit: true }]],
    [
      'drops before, between and after large and small families',
      [
        { family: family(0, 3), commit: false },
        { family: family(10, 1), commit: true },
        { family: family(20, 45), commit: false },
        { family: family(100, 45), commit: true },
        { family: family(200, 2), commit: true },
        { family: family(300, 17), commit: false },
        { family: [], commit: true },
        { family: family(400, 9), commit: true },
        { family: family(500, 60), commit: false },
      ],
    ],
  ];
  it.each(cases)('%s: the bytes, size and CRC of the committed families only', (_name, ops) => {
    const expected = Buffer.from(ops.filter((o) => o.commit).flatMap((o) => o.family).join(''), 'utf8');
    for (const partChars of [1, 300, 1000, 1 << 20]) {
      const bytes = run(ops, partChars);
      expect(Buffer.concat(bytes.parts).equals(expected), `partChars ${partChars}`).toBe(true);
      expect(bytes.size).toBe(expected.length);
      expect(bytes.crc).toBe(crc32(expected));
      expect(bytes.parts.every((p) => p.length > 0)).toBe(true);
    }
  });

  it('cuts a large page into parts of about partChars', () => {
    const bytes = run([{ family: family(0, 2000), commit: true }], 10_000);
    expect(bytes.parts.length).toBeGreaterThan(5);
    for (const part of bytes.parts.slice(0, -1)) expect(part.length).toBeGreaterThanOrEqual(10_000);
  });
});

// The WebAssembly StructureScanner against the TypeScript reference (reference-structure-scanner.ts):
// for every input and every way of cutting it into chunks, the same digest, line count, packets
// (bit for bit) and notReusable message.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_LINE_BYTES } from '../../../src/iptables/parse-dump.js';
import { ReferenceStructureScanner } from '../../../src/model/counter-refresh/reference-structure-scanner.js';
import { StructureScanner, type StructureScan } from '../../../src/model/counter-refresh/structure-scanner.js';
import { generateBulkRuleset } from '../../../src/lab/ruleset/bulk.js';
import { REAL_DUMPS_DIR } from '../../support/real-dumps-dir.js';

type Chunk = string | Uint8Array;

interface Scanner {
  push(chunk: Chunk): void;
  end(): StructureScan;
}

function firstDifference(a: Float64Array, b: Float64Array): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

function expectSame(fast: StructureScan, reference: StructureScan): void {
  expect(fast.notReusable).toBe(reference.notReusable);
  expect(fast.lineCount).toBe(reference.lineCount);
  expect(fast.digest).toBe(reference.digest);
  expect(fast.packets.length).toBe(reference.packets.length);
  const i = firstDifference(fast.packets, reference.packets);
  expect(i < 0 ? null : { line: i, fast: fast.packets[i], reference: reference.packets[i] }).toBeNull();
}

function run(scanner: Scanner, chunks: readonly Chunk[]): StructureScan {
  for (const chunk of chunks) scanner.push(chunk);
  return scanner.end();
}

/** Both scanners on the same chunks; returns the scan. */
function compare(chunks: readonly Chunk[]): StructureScan {
  const fast = run(new StructureScanner(), chunks);
  expectSame(fast, run(new ReferenceStructureScanner(), chunks));
  return fast;
}

/** `bytes` cut every `size` bytes; odd chunks as plain Uint8Array views into a larger buffer, even ones as Buffers. */
function cutEvery(bytes: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let i = 0, n = 0; i < bytes.length; i += size, n++) chunks.push(view(bytes.subarray(i, i + size), n % 2 === 1));
  return chunks;
}

function cutAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const [n, to] of [...points, bytes.length].entries()) {
    chunks.push(view(bytes.subarray(from, Math.max(from, to)), n % 2 === 1));
    from = Math.max(from, to);
  }
  return chunks;
}

/** A copy of `bytes`, as a Buffer or as a plain Uint8Array at an offset of a larger ArrayBuffer. */
function view(bytes: Uint8Array, plain: boolean): Uint8Array {
  if (!plain) return Buffer.from(bytes);
  const backing = new Uint8Array(bytes.length + 7);
  backing.set(bytes, 3);
  return backing.subarray(3, 3 + bytes.length);
}

// ---- random iptables-save-like input ----

/** Digit strings of a length drawn evenly from [min, max] (so 20, 21 and 22 digits come up as often as 2). */
const digits = (min: number, max: number) =>
  fc.integer({ min, max }).chain((n) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n }));
const text = fc.string({ unit: fc.constantFrom(...'abcAZ -_./"\t\r[]:#0123456789é€😀'), maxLength: 40 });
const rawBytes = fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b.map((x) => (x === 10 ? 11 : x))).toString('latin1'));
const trailing = fc.constantFrom('', '\r', ' ', ' \r', '\t', '  \r\r', '\x00', '\x1f', ' ]', ' foo]');
const counterSep = fc.constantFrom(':', ':', ':', '', 'x', '::', ' :');
const counterClose = fc.constantFrom(']', ']', ']', '', ')', ' ]', ']]');

/** One line without its \n; `latin1` lines carry raw bytes (0x80–0xff, NUL, CR…). */
const lineArb: fc.Arbitrary<{ text: string; latin1: boolean }> = fc.oneof(
  // rules with counters of 1–20 digits
  { weight: 6, arbitrary: fc.tuple(digits(1, 20), digits(1, 20), text).map(([p, b, t]) => `[${p}:${b}] -A KUBE-SVC-X${t}`) },
  { weight: 2, arbitrary: fc.tuple(digits(1, 20), digits(1, 20), text).map(([p, b, t]) => `[${p}:${b}]${t}`) },
  // KUBE-SERVICES and KUBE-NODEPORTS rules (digested as a multiset per run), and near misses
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom('[1:2] ', '[0:0] ', '', '[1:2]', '[1:2]  ', '[x:2] ', ']', '[1:2]] '), fc.constantFrom('-A KUBE-SERVICES ', '-A KUBE-NODEPORTS ', '-A KUBE-SERVICES', '-A KUBE-NODEPORTS', '-A KUBE-SERVICESX ', '-A KUBE-NODEPORT ', '-A KUBE-'), text)
      .map(([c, r, t]) => c + r + t),
  },
  // counters that may be malformed (empty, 21+ digits, other separators)
  { weight: 2, arbitrary: fc.tuple(digits(0, 22), counterSep, digits(0, 22), counterClose, text).map(([p, s, b, c, t]) => `[${p}${s}${b}${c}${t}`) },
  // chain headers, with or without counters, malformed ones, trailing CR/blanks/junk
  { weight: 3, arbitrary: fc.tuple(text, digits(1, 20), digits(1, 20), trailing).map(([n, p, b, tr]) => `:KUBE-${n} - [${p}:${b}]${tr}`) },
  { weight: 1, arbitrary: fc.tuple(text, digits(0, 22), counterSep, digits(0, 22), trailing).map(([n, p, s, b, tr]) => `:${n} ACCEPT [${p}${s}${b}]${tr}`) },
  { weight: 1, arbitrary: fc.tuple(text, trailing).map(([n, tr]) => `:${n}${tr}`) },
  // comments; `# Warning:` ones are digested
  { weight: 1, arbitrary: text.map((t) => `# Generated by iptables-save v1.8.9 on ${t}`) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('#', '# Warning:', '# Warning', '# Warnin', '# warning:', '#Warning:'), text).map(([c, t]) => c + t) },
  // blank lines, anything
  { weight: 1, arbitrary: fc.constantFrom('', '\r', ' ', '[', ':', '#', ']', '[:]', '[0:0]', ':[0:0]') },
  { weight: 2, arbitrary: text },
).map((line) => ({ text: line, latin1: false }));
const rawLineArb = fc.oneof(
  { weight: 4, arbitrary: lineArb },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('', '[1:2]', ':X [3:4]', '# Warning:', '#'), rawBytes).map(([p, b]) => ({ text: p + b, latin1: true })) },
);

function encode(lines: readonly { text: string; latin1: boolean }[], finalNewline: boolean): Buffer {
  const parts = lines.map((l) => Buffer.from(l.text, l.latin1 ? 'latin1' : 'utf8'));
  const joined: Buffer[] = [];
  parts.forEach((p, i) => {
    if (i > 0) joined.push(Buffer.from('\n'));
    joined.push(p);
  });
  if (finalNewline) joined.push(Buffer.from('\n'));
  return Buffer.concat(joined);
}

const chunkingArb = fc.oneof(
  fc.record({ size: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ size: fc.integer({ min: 9, max: 300 }) }),
  fc.record({ size: fc.constant(1 << 16) }),
  fc.record({ cuts: fc.array(fc.nat(), { maxLength: 30 }) }),
);

function chunked(bytes: Uint8Array, chunking: { size: number } | { cuts: number[] }): Uint8Array[] {
  return 'size' in chunking ? cutEvery(bytes, chunking.size) : cutAt(bytes, chunking.cuts);
}

describe('StructureScanner (WebAssembly) against the reference', () => {
  it('random line mixes, random chunk boundaries (Buffers and plain Uint8Arrays)', () => {
    fc.assert(
      fc.property(fc.array(rawLineArb, { maxLength: 60 }), fc.boolean(), chunkingArb, (lines, finalNewline, chunking) => {
        compare(chunked(encode(lines, finalNewline), chunking));
      }),
      { numRuns: 1500 },
    );
  });

  it('random line mixes pushed as strings (and strings mixed with Buffers), cut anywhere', () => {
    fc.assert(
      fc.property(fc.array(lineArb, { maxLength: 60 }), fc.array(fc.nat(), { maxLength: 30 }), fc.boolean(), (lines, cuts, asBuffers) => {
        const whole = lines.map((l) => l.text).join('\n');
        const points = [...new Set(cuts.map((c) => c % (whole.length + 1)))].sort((a, b) => a - b);
        const chunks: Chunk[] = [];
        let from = 0;
        for (const to of [...points, whole.length]) {
          const piece = whole.slice(from, to);
          chunks.push(asBuffers && chunks.length % 2 === 1 ? Buffer.from(piece, 'utf8') : piece);
          from = to;
        }
        compare(chunks);
      }),
      { numRuns: 500 },
    );
  });

  it('scanners used at the same time stay independent (one WebAssembly instance serves them all)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.array(rawLineArb, { maxLength: 30 }), chunkingArb), { minLength: 2, maxLength: 4 }), (inputs) => {
        const jobs = inputs.map(([lines, chunking]) => ({
          chunks: chunked(encode(lines, false), chunking),
          fast: new StructureScanner(),
          reference: new ReferenceStructureScanner(),
        }));
        for (let round = 0; jobs.some((j) => round < j.chunks.length); round++) {
          for (const job of jobs) {
            const chunk = job.chunks[round];
            if (chunk === undefined) continue;
            job.fast.push(chunk);
            job.reference.push(chunk);
          }
        }
        for (const job of jobs) expectSame(job.fast.end(), job.reference.end());
      }),
      { numRuns: 300 },
    );
  });

  it('lines around MAX_LINE_BYTES: rules, headers, comments, a last line without \\n, after a malformed counter', () => {
    // [start, end] of the long line: a rule, headers with counters at the end (or malformed ones), comments, anything.
    const shapes: readonly (readonly [string, string])[] = [
      ['[12:34] -A X ', ''],
      [':KUBE-X - ', ' [1:2]'],
      [':KUBE-X - ', ' [1:2] \r'],
      [':KUBE-X - ', ' [1x:2]'],
      ['# Generated ', ''],
      ['# Warning: ', ''],
      ['-A X ', ''],
      ['[1x:2] ', ''],
    ];
    const long = ([start, end]: readonly [string, string], length: number) => start + 'x'.repeat(Math.max(0, length - start.length - end.length)) + end;
    fc.assert(
      fc.property(
        fc.constantFrom(...shapes),
        fc.integer({ min: -3, max: 3 }),
        fc.array(lineArb, { maxLength: 5 }),
        fc.array(lineArb, { maxLength: 5 }),
        fc.boolean(),
        fc.oneof(fc.record({ size: fc.constantFrom(1 << 16, 4096, 100_000, 1 << 20, 3 << 20) }), fc.record({ cuts: fc.array(fc.nat(), { maxLength: 8 }) })),
        (shape, delta, before, after, finalNewline, chunking) => {
          const line = { text: long(shape, MAX_LINE_BYTES + delta), latin1: false };
          compare(chunked(encode([...before, line, ...after], finalNewline), chunking));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('two long lines in one chunk, and a malformed counter before a long partial line (the message the reference gives)', () => {
    const x = (n: number) => 'x'.repeat(n);
    const inputs = [
      `${x(MAX_LINE_BYTES + 1)}\n${x(MAX_LINE_BYTES + 1)}`,
      `${x(MAX_LINE_BYTES + 1)}\n${x(MAX_LINE_BYTES + 1)}\n`,
      `[1:2] a\n[x:1] b\n${x(MAX_LINE_BYTES + 5)}`,
      `[1:2] a\n[x:1] b\n${x(MAX_LINE_BYTES - 5)}`,
      `a\n${x(2 * MAX_LINE_BYTES)}\nb\n`,
      `${x(3 * MAX_LINE_BYTES)}`,
    ];
    for (const input of inputs) {
      const bytes = Buffer.from(input);
      for (const size of [bytes.length, 1 << 16, 777_777, MAX_LINE_BYTES]) compare(cutEvery(bytes, size));
      compare([input]);
    }
  });

  it('counters of 16–20 digits round as Number() of their text', () => {
    const counters = [
      '9007199254740991', '9007199254740992', '9007199254740993', '9007199254740995', '12345678901234567',
      '99999999999999999', '999999999999999999', '9223372036854775807', '9223372036854775808', '9999999999999999999',
      '18446744073709551615', '18446744073709551616', '18446744073709552000', '99999999999999999999', '00000000000000000001',
      '10000000000000000000', '12345678901234567890', '0000000000000000', '1000000000000000001', '9007199254740993000',
    ];
    for (let n = 16; n <= 20; n++) counters.push('9'.repeat(n), `1${'0'.repeat(n - 2)}1`, `${'0'.repeat(n - 1)}7`);
    const input = counters.map((c) => `[${c}:1] -A X -j Y`).join('\n');
    const scan = compare([input]);
    counters.forEach((c, i) => expect(scan.packets[i + 1]).toBe(Number(c)));
    compare(cutEvery(Buffer.from(input), 5));
  });

  it('more lines in one chunk than a wasm call returns, and counters far apart (the packets array grows to fit)', () => {
    compare([Buffer.from('\n'.repeat(70_000))]);
    compare([Buffer.from('[7:1]\n'.repeat(30_000))]);
    compare([Buffer.from(`${':X - [0:0]\n'.repeat(9000)}[5:1] -A X\n[6:1] -A X\n${'\n'.repeat(20_000)}`)]);
    const scan = compare([`${':X - [0:0]\n'.repeat(9000)}[5:1] -A X\n`]);
    expect(scan.packets[9001]).toBe(5);
  });

  it('a generated cluster, whole and in pipe-sized chunks', () => {
    const bytes = Buffer.from(generateBulkRuleset({ services: 300, endpointsPerService: 4, seed: 9, comments: true }));
    expect(compare([bytes]).notReusable).toBeNull();
    for (const size of [1 << 16, 65_535, 1000, 1]) compare(cutEvery(bytes, size));
  });
});

/** test/fixtures (every .txt, recursively) and the real dumps (test/support/real-dumps-dir.ts). */
const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const REAL_DUMPS = REAL_DUMPS_DIR;

function textFiles(dir: string, recursive: boolean): string[] {
  if (!existsSync(dir)) throw new Error(`directory ${dir} is missing`);
  return readdirSync(dir, { withFileTypes: true, recursive })
    .filter((e) => e.isFile() && e.name.endsWith('.txt'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

describe('StructureScanner against the reference on every fixture and real dump', () => {
  const files = [...textFiles(FIXTURES, true), ...textFiles(REAL_DUMPS, false)];

  it('finds them', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  for (const file of files) {
    it(file.split('/').slice(-2).join('/'), () => {
      const bytes = readFileSync(file);
      compare([bytes]);
      compare([bytes.toString('utf8')]);
      for (const size of [1, 2, 3, 5, 64, 1000, 1 << 16]) compare(cutEvery(bytes, size));
    });
  }
});

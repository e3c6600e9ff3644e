/**
 * Property-based tests (fast-check) on the parser and the model: arbitrary and mutated real-shaped
 * dumps never throw and never hang (sizes are bounded), every skipped line is reported with a valid
 * line number and its own text, chunking never changes the result, and noise lines (prompts, `...`,
 * prose, blank lines, comments) inserted into a dump do not change the model.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DumpParser, parseDump } from '../../src/iptables/parse-dump.js';
import type { ParsedDump, SkipReason } from '../../src/iptables/types.js';
import { buildServiceModel } from '../../src/model/build-service-model.js';
import type { ServiceModel } from '../../src/model/types.js';
import { REAL_DUMPS_DIR } from '../support/real-dumps-dir.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const FIXTURE_DIRS = [join(ROOT, 'test/fixtures/model'), join(ROOT, 'test/fixtures/iptables'), join(ROOT, 'test/fixtures/cli'), REAL_DUMPS_DIR];
// A missing directory throws (readdirSync): the properties must not pass on fewer dumps than they claim.
const DUMPS: ReadonlyArray<{ name: string; text: string }> = FIXTURE_DIRS.flatMap((path) =>
  readdirSync(path)
    .filter((f) => f.endsWith('.txt'))
    .map((f) => ({ name: relative(ROOT, join(path, f)), text: readFileSync(join(path, f), 'utf8') })),
);

const REASONS: readonly SkipReason[] = ['not-iptables', 'malformed-rule', 'malformed-chain', 'lossy-rule', 'unsupported-command'];

/** The parser's own trim: bytes <= 0x20 at both ends. */
function trimControl(line: string): string {
  let start = 0;
  let end = line.length;
  while (end > start && line.charCodeAt(end - 1) <= 32) end--;
  while (start < end && line.charCodeAt(start) <= 32) start++;
  return line.slice(start, end);
}

const squash = (text: string): string => text.replace(/[\s\u0000-\u0020]+/g, '').replace(/\ufffd+$/, '');

/** Every invariant a ParsedDump of `text` must satisfy; throws with the offending detail. */
function checkDump(dump: ParsedDump, text: string): void {
  const lines = text.split('\n');
  const expectedCount = text === '' ? 0 : text.endsWith('\n') ? lines.length - 1 : lines.length;
  expect(dump.lineCount).toBe(expectedCount);
  let previous = 0;
  for (const skipped of dump.skipped) {
    expect(Number.isInteger(skipped.line)).toBe(true);
    expect(skipped.line).toBeGreaterThanOrEqual(1);
    expect(skipped.line).toBeLessThanOrEqual(dump.lineCount);
    // Reported in input order, and the excerpt is text from that very line.
    expect(skipped.line).toBeGreaterThanOrEqual(previous);
    previous = skipped.line;
    expect(REASONS).toContain(skipped.reason);
    expect(skipped.excerpt.length).toBeLessThanOrEqual(120);
    const source = trimControl(lines[skipped.line - 1] ?? '');
    expect(source.length, `skipped line ${skipped.line} is blank`).toBeGreaterThan(0);
    expect(squash(source), `line ${skipped.line}`).toContain(squash(skipped.excerpt));
  }
  for (const table of dump.tables.values()) {
    for (const chain of table.chains.values()) {
      for (const rule of chain.rules) {
        expect(rule.line).toBeGreaterThanOrEqual(1);
        expect(rule.line).toBeLessThanOrEqual(dump.lineCount);
      }
    }
  }
}

function checkModels(dump: ParsedDump): void {
  for (const family of ['ipv4', 'ipv6'] as const) {
    const model = buildServiceModel(dump, family);
    for (const ladder of model.ladders) {
      for (const endpoint of ladder.endpoints) {
        expect(endpoint.line).toBeGreaterThanOrEqual(1);
        expect(endpoint.line).toBeLessThanOrEqual(dump.lineCount);
        expect(Number.isFinite(endpoint.programmedRatio)).toBe(true);
      }
    }
  }
}

/** Parses `bytes` pushed in the given chunk sizes (cycled), as a child's stdout arrives. */
function parseChunked(bytes: Uint8Array, sizes: readonly number[]): ParsedDump {
  const parser = new DumpParser();
  let offset = 0;
  for (let i = 0; offset < bytes.length; i++) {
    const size = Math.max(1, sizes[i % sizes.length] ?? 1);
    parser.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return parser.end();
}

/** Maps and class instances to plain data, for deep comparison. */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (v instanceof Map ? Object.fromEntries(v) : v)));
}

// Lines that look like iptables syntax are built from these: random but in the parser's vocabulary.
const WORDS = ['-A', '-N', '-X', '-F', '-P', '-I', '-D', '-j', '-g', '-m', '-p', '-s', '-d', '!', '--comment', '--dport', '--probability',
  '--mode', 'random', 'statistic', 'comment', 'recent', '--rcheck', '--set', '--seconds', '--name', '--to-destination', 'DNAT',
  'KUBE-SERVICES', 'KUBE-SVC-ABCDEFGHIJKLMNOP', 'KUBE-SEP-AAAAAAAAAAAAAAAA', 'KUBE-MARK-MASQ', 'tcp', 'udp', '10.0.0.1/32',
  '10.244.1.2:8080', '[fd00::1]:80', '0.5', '0.33333', 'NaN', '-1', '1e400', '"ns/svc:port', 'ns/svc:port"', '"a b"', '\\"', '\\',
  '[1:2]', '[x:y]', '[99999999999999999999:1]', '*nat', '*filter', 'COMMIT', ':KUBE-SVC-X', '-', '[0:0]', ''];
const syntaxLine = fc.array(fc.constantFrom(...WORDS), { maxLength: 14 }).map((words) => words.join(' '));
const anyLine = fc.oneof(syntaxLine, fc.string({ maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }));

describe('parser and model on arbitrary input', () => {
  it('never throw; every skipped line is reported with a valid number and its own text', () => {
    fc.assert(
      fc.property(fc.array(anyLine, { maxLength: 60 }), fc.constantFrom('\n', '\r\n'), fc.boolean(), (lines, eol, finalNewline) => {
        const text = lines.join(eol) + (finalNewline && lines.length > 0 ? eol : '');
        const dump = parseDump(text);
        checkDump(dump, text);
        checkModels(dump);
      }),
      { numRuns: 400 },
    );
  });

  it('arbitrary bytes (invalid UTF-8, NULs, lone CRs) never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        const dump = parseDump(bytes);
        checkDump(dump, new TextDecoder().decode(bytes));
        checkModels(dump);
      }),
      { numRuns: 300 },
    );
  });
});

type Mutation =
  | { kind: 'delete'; at: number }
  | { kind: 'duplicate'; at: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; byte: number }
  | { kind: 'insert'; at: number; line: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), line: anyLine }),
);

/** Applies mutations to the dump's bytes; line positions are fractions of the current line count. */
function mutate(text: string, mutations: readonly Mutation[]): Uint8Array {
  let bytes = Buffer.from(text, 'utf8');
  for (const m of mutations) {
    if (m.kind === 'flip' || m.kind === 'truncate') {
      const at = Math.floor(m.at * bytes.length);
      if (m.kind === 'truncate') bytes = bytes.subarray(0, at);
      else if (bytes.length > 0) {
        bytes = Buffer.from(bytes);
        bytes[Math.min(at, bytes.length - 1)] = m.byte;
      }
      continue;
    }
    const lines = bytes.toString('latin1').split('\n');
    const at = Math.min(lines.length - 1, Math.floor(m.at * lines.length));
    if (m.kind === 'delete') lines.splice(at, 1);
    else if (m.kind === 'duplicate') lines.splice(at, 0, lines[at] ?? '');
    else lines.splice(at, 0, Buffer.from(m.line, 'utf8').toString('latin1'));
    bytes = Buffer.from(lines.join('\n'), 'latin1');
  }
  return bytes;
}

describe('parser and model on mutated real-shaped dumps', () => {
  it('has fixtures to mutate', () => {
    expect(DUMPS.length).toBeGreaterThan(10);
  });

  it('deletions, duplications, truncations, byte flips and inserted junk never throw; skipped lines stay accounted for', () => {
    fc.assert(
      fc.property(fc.constantFrom(...DUMPS), fc.array(mutation, { minLength: 1, maxLength: 12 }), ({ text }, mutations) => {
        const bytes = mutate(text, mutations);
        const dump = parseDump(bytes);
        checkDump(dump, new TextDecoder().decode(bytes));
        checkModels(dump);
      }),
      { numRuns: 1000 },
    );
  });

  it('the result does not depend on how the stream is chunked (split anywhere, even inside a UTF-8 character)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...DUMPS),
        fc.array(mutation, { maxLength: 4 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 8 }),
        ({ text }, mutations, sizes) => {
          const bytes = mutate(text, mutations);
          expect(plain(parseChunked(bytes, sizes))).toEqual(plain(parseDump(bytes)));
        },
      ),
      { numRuns: 200 },
    );
  });
});

// Noise a human or a terminal adds around a pasted dump. None starts with `-`, `:`, `*` or `[`, none is COMMIT.
const NOISE_LINES = [
  '',
  '   ',
  '...',
  '…',
  '# Generated by iptables-save v1.8.7 on Mon Jan  1 00:00:00 2024',
  '# Completed on Mon Jan  1 00:00:00 2024',
  '# a note someone left',
  'root@node-1:~# iptables-save -c -t nat',
  '$ sudo iptables-save -t nat | grep KUBE',
  '> ',
  'Here is the output:',
  'The rules below were copied from the node.',
  '(output truncated)',
  'Chain KUBE-SERVICES (2 references)',
  'pkts bytes target     prot opt in     out     source               destination',
  '```',
];
const noiseLine = fc.oneof(fc.constantFrom(...NOISE_LINES), fc.stringMatching(/^[A-Za-z][A-Za-z ,.'()]{0,60}$/));

/** A model with line numbers and the skipped list left out (noise legitimately shifts and extends both). */
function comparable(model: ServiceModel): unknown {
  return JSON.parse(
    JSON.stringify({ ...model, skipped: undefined }, (key, value: unknown) => {
      if (key === 'line') return undefined;
      return typeof value === 'string' ? value.replace(/\bline \d+/g, 'line N') : value;
    }),
  );
}

describe('noise lines', () => {
  it('inserted anywhere in a valid dump give the same model, and each one is skipped at its own line', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...DUMPS),
        fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), noiseLine), { minLength: 1, maxLength: 20 }),
        ({ text }, inserts) => {
          const lines = text.split('\n');
          const noisy = [...lines];
          const inserted: Array<{ index: number; line: string }> = [];
          for (const [at, line] of inserts) {
            const index = Math.floor(at * noisy.length);
            noisy.splice(index, 0, line);
            for (const entry of inserted) if (entry.index >= index) entry.index++;
            inserted.push({ index, line });
          }
          const clean = parseDump(text);
          const dirty = parseDump(noisy.join('\n'));
          for (const family of ['ipv4', 'ipv6'] as const) {
            expect(comparable(buildServiceModel(dirty, family))).toEqual(comparable(buildServiceModel(clean, family)));
          }
          const skippedAt = new Set(dirty.skipped.map((s) => s.line));
          for (const { index, line } of inserted) {
            const trimmed = trimControl(line);
            if (trimmed === '' || trimmed.startsWith('#')) continue;
            expect(skippedAt.has(index + 1), `noise ${JSON.stringify(line)} at line ${index + 1} not reported`).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

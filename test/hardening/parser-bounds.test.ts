/** Resource bounds of the streaming parser on hostile streams (counted work, not timing). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DumpParser } from '../../src/iptables/parse-dump.js';

afterEach(() => vi.restoreAllMocks());

/** Bytes Buffer.concat copied while `run` ran. */
function bytesCopied(run: () => void): number {
  const original = Buffer.concat;
  let copied = 0;
  vi.spyOn(Buffer, 'concat').mockImplementation((list: readonly Uint8Array[], length?: number) => {
    const result = original(list, length);
    copied += result.length;
    return result;
  });
  run();
  return copied;
}

describe('DumpParser on a stream without newlines', () => {
  const CHUNK = 'x'.repeat(64 * 1024);
  const CHUNKS = 128; // 8 MiB, as a child's stdout delivers it

  // Was a bug: push() concatenated the pending partial line with
  // every new chunk, so a newline-free stream costs O(n²) copying (measured: 8 MiB → 516 MiB copied,
  // 0.9 s; 32 MiB → 8 GiB, 11 s). iptables-save printing NULs or one endless line (shim mode `zeros`)
  // therefore pins the exporter's event loop until --sample.timeout (30 s) rather than hitting
  // --sample.max-output-bytes (512 MiB) — and the whole line is held in memory. Fix: keep pending
  // chunks in a list (concat once at the newline) and give up on a line past a sane maximum (no
  // iptables rule is 1 MiB), skipping it as not-iptables.
  // Minimal input: new DumpParser(); push 128 chunks of 64 KiB of 'x'; end().
  it('copies a newline-free stream a bounded number of times (linear, not quadratic)', () => {
    const parser = new DumpParser();
    const copied = bytesCopied(() => {
      for (let i = 0; i < CHUNKS; i++) parser.push(CHUNK);
      parser.end();
    });
    expect(copied).toBeLessThan(4 * CHUNK.length * CHUNKS);
  });

  it('still reports the endless line as one skipped line', () => {
    const parser = new DumpParser();
    for (let i = 0; i < 16; i++) parser.push(CHUNK);
    const dump = parser.end();
    expect(dump.lineCount).toBe(1);
    expect(dump.skipped).toEqual([{ line: 1, reason: 'not-iptables', excerpt: 'x'.repeat(120) }]);
  });
});

// A child's stdout read faster than it is parsed must not hold the event loop for the whole burst: the
// chunks libuv reads in one go are handed on in pieces, a slice of time per turn of the event loop.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { paceStream, type PaceOptions } from '../../src/source/paced-stream.js';

interface Handed {
  /** Fake milliseconds of work handed on in each turn of the event loop (turns with none left out). */
  readonly msPerTurn: number[];
  /** Every piece, in order. */
  readonly pieces: Buffer[];
}

/**
 * `chunks` already buffered in a stream (as libuv's burst of reads leaves them), handed on to a consumer
 * whose work costs `msPerKiB` on a fake clock.
 */
async function handOnBuffered(chunks: readonly Buffer[], msPerKiB: number, options: PaceOptions): Promise<Handed> {
  let clock = 0;
  const stream = new PassThrough();
  for (const chunk of chunks) stream.write(chunk);
  stream.end();
  const msPerTurn: number[] = [0];
  let ended = false;
  // Counts turns: one setImmediate per turn of the event loop, until the stream has ended.
  const tick = (): void => {
    if (ended) return;
    msPerTurn.push(0);
    setImmediate(tick);
  };
  setImmediate(tick);
  const pieces: Buffer[] = [];
  const reader = paceStream(
    stream,
    (piece) => {
      const ms = (piece.length / 1024) * msPerKiB;
      clock += ms;
      msPerTurn[msPerTurn.length - 1] = (msPerTurn.at(-1) ?? 0) + ms;
      pieces.push(Buffer.from(piece));
    },
    { ...options, now: () => clock },
  );
  stream.on('data', reader.onData);
  await new Promise<void>((resolve) => stream.on('end', resolve));
  await reader.drained();
  ended = true;
  return { msPerTurn: msPerTurn.filter((ms) => ms > 0), pieces };
}

/** Chunks of `bytes` each, every byte its own value (so a lost, doubled or reordered piece shows). */
function numberedChunks(count: number, bytes: number): Buffer[] {
  return Array.from({ length: count }, (_, c) => Buffer.from(Array.from({ length: bytes }, (_, i) => (c * bytes + i) % 251)));
}

describe('paceStream', () => {
  it('ends a turn once it has taken a slice, in the middle of a chunk, and loses or reorders nothing', async () => {
    const chunks = numberedChunks(20, 64 * 1024);
    // 1 ms per KiB: a 64 KiB chunk is 64 ms of work, a 16 KiB piece 16 ms.
    const { msPerTurn, pieces } = await handOnBuffered(chunks, 1, { sliceMs: 20, pieceBytes: 16 * 1024 });
    expect(Buffer.concat(pieces).equals(Buffer.concat(chunks))).toBe(true);
    expect(pieces.every((p) => p.length <= 16 * 1024)).toBe(true);
    // Pieces starting at 0 and 16 ms of a turn: 32 ms a turn, never a whole chunk (64 ms).
    expect(Math.max(...msPerTurn)).toBe(32);
    expect(msPerTurn.length).toBe(20 * 2);
  });

  it('does not hand on the chunk that finds the slice spent in the same turn', async () => {
    // Chunks handed on whole (pieces as large as a chunk), 10 ms each: the ones at 0 and 10 ms of a
    // turn are handed on; the third, at 20 ms, waits for the next turn (it used to be handled then
    // and there, so a turn ran a whole chunk past its slice).
    const chunks = numberedChunks(12, 10 * 1024);
    const { msPerTurn, pieces } = await handOnBuffered(chunks, 1, { sliceMs: 20, pieceBytes: 64 * 1024 });
    expect(Buffer.concat(pieces).equals(Buffer.concat(chunks))).toBe(true);
    expect(msPerTurn).toEqual([20, 20, 20, 20, 20, 20]);
  });

  it('still moves when the slice is zero: one piece a turn', async () => {
    const chunks = numberedChunks(3, 4 * 1024);
    const { msPerTurn, pieces } = await handOnBuffered(chunks, 1, { sliceMs: 0, pieceBytes: 2 * 1024 });
    expect(Buffer.concat(pieces).equals(Buffer.concat(chunks))).toBe(true);
    expect(msPerTurn).toEqual([2, 2, 2, 2, 2, 2]);
  });

  it('leaves a slow producer alone: chunks that come one per turn are handed on whole and never paused', async () => {
    let clock = 0;
    const stream = new PassThrough();
    const pieces: Buffer[] = [];
    const reader = paceStream(
      stream,
      (piece) => {
        clock += 50;
        pieces.push(Buffer.from(piece));
      },
      { sliceMs: 20, now: () => clock },
    );
    let paused = 0;
    stream.on('pause', () => paused++);
    stream.on('data', reader.onData);
    for (let i = 0; i < 5; i++) {
      stream.write(`chunk ${i}\n`);
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
    }
    stream.end();
    await new Promise<void>((resolve) => stream.on('end', resolve));
    expect(pieces.map(String)).toEqual(Array.from({ length: 5 }, (_, i) => `chunk ${i}\n`));
    expect(paused).toBe(0);
  });

  it('resolves drained only once every piece received has been handed on', async () => {
    let clock = 0;
    const stream = new PassThrough();
    let handed = 0;
    const reader = paceStream(
      stream,
      (piece) => {
        clock += 30;
        handed += piece.length;
      },
      { sliceMs: 20, pieceBytes: 1024, now: () => clock },
    );
    reader.onData(Buffer.alloc(4 * 1024));
    // One piece in this turn (30 ms spends the slice); three wait.
    expect(handed).toBe(1024);
    let drained = false;
    const done = reader.drained().then(() => (drained = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(drained).toBe(false);
    await done;
    expect(handed).toBe(4 * 1024);
    expect(stream.isPaused()).toBe(false);
  });
});

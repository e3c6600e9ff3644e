// A child's stdout read faster than it is parsed must not hold the event loop for the whole burst: the
// chunks libuv reads in one go are handled a slice at a time, with a turn of the event loop between.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { paceStream } from '../../src/source/paced-stream.js';

/**
 * `chunks` chunks already buffered (as libuv's burst of reads leaves them), each taking `chunkMs` on a
 * fake clock; returns how many were handled in each turn of the event loop, and what arrived.
 */
async function handlePerTurn(chunks: number, chunkMs: number, sliceMs: number): Promise<{ perTurn: number[]; received: string[] }> {
  let clock = 0;
  const stream = new PassThrough();
  for (let i = 0; i < chunks; i++) stream.write(`chunk ${i}\n`);
  stream.end();
  const chunkArrived = paceStream(stream, { sliceMs, now: () => clock });
  const perTurn: number[] = [0];
  let ended = false;
  // Counts turns: one setImmediate per turn of the event loop, until the stream has ended.
  const tick = (): void => {
    if (ended) return;
    perTurn.push(0);
    setImmediate(tick);
  };
  setImmediate(tick);
  const received: string[] = [];
  stream.on('data', (chunk: Buffer) => {
    chunkArrived();
    clock += chunkMs;
    received.push(chunk.toString());
    perTurn[perTurn.length - 1] = (perTurn.at(-1) ?? 0) + 1;
  });
  await new Promise<void>((resolve) => stream.on('end', resolve));
  ended = true;
  return { perTurn: perTurn.filter((n) => n > 0), received };
}

describe('paceStream', () => {
  it('hands the event loop a turn once a burst has taken a slice, and loses or reorders nothing', async () => {
    const { perTurn, received } = await handlePerTurn(100, 5, 20);
    expect(received).toEqual(Array.from({ length: 100 }, (_, i) => `chunk ${i}\n`));
    // Chunks starting at 0, 5, 10 and 15 ms of the turn, and the one at 20 that pauses: five a turn.
    expect(Math.max(...perTurn)).toBe(5);
    expect(perTurn.length).toBe(20);
  });

  it('leaves a slow producer alone: chunks that come one per turn are never paused', async () => {
    let clock = 0;
    const stream = new PassThrough();
    const chunkArrived = paceStream(stream, { sliceMs: 20, now: () => clock });
    let paused = 0;
    stream.on('pause', () => paused++);
    const received: string[] = [];
    stream.on('data', (chunk: Buffer) => {
      chunkArrived();
      clock += 50;
      received.push(chunk.toString());
    });
    for (let i = 0; i < 5; i++) {
      stream.write(`chunk ${i}\n`);
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
    }
    stream.end();
    await new Promise<void>((resolve) => stream.on('end', resolve));
    expect(received).toHaveLength(5);
    expect(paused).toBe(0);
  });
});

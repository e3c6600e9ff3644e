/**
 * Keeps a fast child's stdout from holding the event loop. libuv reads a readable pipe up to 32 times
 * in one go, and each read's 'data' handler runs there and then: with iptables-save writing as fast as
 * the parser reads, one turn of the event loop parsed ~2 MiB of output, 140–170 ms at 20,000 services ×
 * 10 endpoints, while scrapes waited (docs/benchmarks.md). Once a turn's chunks have taken `sliceMs`,
 * the stream is paused and resumed on the next turn (setImmediate), so timers and scrapes run in
 * between; the child meanwhile waits on a full pipe, which costs it no CPU.
 */
import type { Readable } from 'node:stream';
import { DEFAULT_SLICE_MS } from '../slices.js';

export interface PaceOptions {
  /** A turn's chunks may start until this long after its first one (default DEFAULT_SLICE_MS). */
  readonly sliceMs?: number;
  /** Monotonic milliseconds (default performance.now). */
  readonly now?: () => number;
}

/** Returns what a 'data' handler calls first for each chunk it handles. */
export function paceStream(stream: Readable, options: PaceOptions = {}): () => void {
  const sliceMs = options.sliceMs ?? DEFAULT_SLICE_MS;
  const now = options.now ?? (() => performance.now());
  let turnStarted: number | null = null;
  let paused = false;
  // setImmediate runs once the turn's I/O callbacks are done: the next chunk starts a new turn.
  const endTurn = (): void => {
    turnStarted = null;
    if (paused) {
      paused = false;
      stream.resume();
    }
  };
  return function chunkArrived(): void {
    const at = now();
    if (turnStarted === null) {
      turnStarted = at;
      setImmediate(endTurn);
    } else if (!paused && at - turnStarted >= sliceMs) {
      // This chunk is handled; the ones read with it wait for the next turn.
      paused = true;
      stream.pause();
    }
  };
}

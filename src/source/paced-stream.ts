/**
 * Keeps a fast child's stdout from holding the event loop. libuv reads a readable stream (the pipe or
 * socket a child's stdout is) up to 32 times in one go, and each read's handler runs there and then:
 * with iptables-save writing as fast as the parser reads, one turn of the event loop parsed ~2 MiB of
 * output, 140–170 ms at 20,000 services × 10 endpoints, while scrapes waited (docs/benchmarks.md).
 *
 * So the reader hands each chunk on in pieces, and once a turn has taken `sliceMs` it stops: the rest
 * of the chunk, and the chunks read with it, wait for the next turn (setImmediate), with the stream
 * paused so that timers and scrapes run in between; the child meanwhile waits on a full pipe or socket,
 * which costs it no CPU. Stopping between pieces, not between chunks, matters at start-up: a 64 KiB chunk
 * read by code not yet optimised took up to ~40 ms, and a turn that ended only after the chunk that
 * found its slice spent could run two of them on top of the slice (65–107 ms measured at XL).
 */
import type { Readable } from 'node:stream';
import { DEFAULT_SLICE_MS } from '../slices.js';

/** A quarter of a pipe read: ~10 ms of parsing at most, with cold code (measured at start-up, XL). */
const DEFAULT_PIECE_BYTES = 16 * 1024;

export interface PaceOptions {
  /** A turn hands on pieces until this long after its first one (default DEFAULT_SLICE_MS). */
  readonly sliceMs?: number;
  /** The largest piece handed on at once (default DEFAULT_PIECE_BYTES). */
  readonly pieceBytes?: number;
  /** Monotonic milliseconds (default performance.now). */
  readonly now?: () => number;
}

export interface PacedReader {
  /** The stream's 'data' handler. */
  readonly onData: (chunk: Buffer) => void;
  /**
   * Resolves once every chunk received so far has been handed on. The stream emits 'end' only after
   * it is resumed, so a caller that waits for 'end' needs this only as a guarantee.
   */
  readonly drained: () => Promise<void>;
}

/**
 * Hands `stream`'s chunks to `consume`, in order and whole (as consecutive pieces), a slice of time per
 * turn of the event loop. `consume` must not throw: a caller that can fail records its error and
 * ignores what follows (the stream is always resumed, so it still ends).
 */
export function paceStream(stream: Readable, consume: (piece: Buffer) => void, options: PaceOptions = {}): PacedReader {
  const sliceMs = options.sliceMs ?? DEFAULT_SLICE_MS;
  const pieceBytes = Math.max(1, options.pieceBytes ?? DEFAULT_PIECE_BYTES);
  const now = options.now ?? (() => performance.now());
  /** Chunks (the first possibly started) waiting for the next turn; non-empty only while paused. */
  const waiting: Buffer[] = [];
  let turnStarted: number | null = null;
  /** At least one piece a turn, whatever the slice: the reader always moves. */
  let handedThisTurn = false;
  let paused = false;
  let whenDrained: (() => void)[] = [];

  const startTurn = (): void => {
    turnStarted = now();
    handedThisTurn = false;
    // setImmediate runs once the turn's I/O callbacks are done: what is left waits for it.
    setImmediate(endTurn);
  };
  const sliceSpent = (): boolean => handedThisTurn && turnStarted !== null && now() - turnStarted >= sliceMs;

  /** Hands on the waiting chunks until the slice is spent; true when none is left. */
  const handOn = (): boolean => {
    while (waiting.length > 0) {
      const chunk = waiting[0]!;
      let offset = 0;
      while (offset < chunk.length) {
        if (sliceSpent()) {
          waiting[0] = chunk.subarray(offset);
          return false;
        }
        const end = Math.min(chunk.length, offset + pieceBytes);
        consume(offset === 0 && end === chunk.length ? chunk : chunk.subarray(offset, end));
        handedThisTurn = true;
        offset = end;
      }
      waiting.shift();
    }
    return true;
  };

  function endTurn(): void {
    turnStarted = null;
    if (waiting.length === 0) return;
    startTurn();
    if (!handOn()) return;
    paused = false;
    stream.resume();
    const waiters = whenDrained;
    whenDrained = [];
    for (const resolve of waiters) resolve();
  }

  return {
    onData(chunk: Buffer): void {
      waiting.push(chunk);
      // Paused: the chunk was read before the pause took effect; it waits its turn behind the others.
      if (paused) return;
      if (turnStarted === null) startTurn();
      if (handOn()) return;
      paused = true;
      stream.pause();
    },
    drained(): Promise<void> {
      if (waiting.length === 0) return Promise.resolve();
      return new Promise((resolve) => whenDrained.push(resolve));
    },
  };
}

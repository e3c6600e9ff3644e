/**
 * Long synchronous stages cut into slices: a stage is a generator that yields at checkpoints between
 * pieces of its work, a pure caller runs it to the end (runToEnd), and the sampler, the sources and
 * the metrics page's render queue drive it with turns of the event loop in between (runInSlices), so
 * scrapes are answered meanwhile.
 */

/** A computation that yields at checkpoints and returns its result; abandoning it midway is harmless. */
export type Slices<T> = Generator<void, T, undefined>;

/** Runs a sliced computation to its result in one go. */
export function runToEnd<T>(steps: Slices<T>): T {
  for (;;) {
    const next = steps.next();
    if (next.done === true) return next.value;
  }
}

/** Issue 7 target 3b is "never blocked > 100 ms": a slice this long leaves room for a GC and a scrape. */
export const DEFAULT_SLICE_MS = 20;

export interface SliceOptions {
  /** Checked after each turn of the event loop: when aborted, the computation is abandoned. */
  readonly signal?: AbortSignal;
  /** The event loop gets a turn at the first checkpoint after a slice has run this long (0: at every one). */
  readonly sliceMs?: number;
  /** Monotonic milliseconds (default performance.now). */
  readonly now?: () => number;
  /** One turn of the event loop (default setImmediate); tests inject one they release by hand. */
  readonly yieldTurn?: () => Promise<unknown>;
  /**
   * Run the first slice before the first turn, synchronously with the call (the render queue: a small
   * page is shown at once). Default false: turn first, so the first slice does not add to whatever ran
   * synchronously before the call (the end of a parse).
   */
  readonly firstSliceNow?: boolean;
}

/**
 * Drives a sliced computation to its result, letting the event loop turn first (unless
 * `firstSliceNow`) and then at a checkpoint once the current slice has run `sliceMs`. Throws the
 * signal's reason when it aborts, checked before each slice: nothing outside the computation runs
 * during a slice, so that is as soon as an abort can happen (and a slice leaves nothing half-written).
 */
export async function runInSlices<T>(steps: Slices<T>, options: SliceOptions = {}): Promise<T> {
  const now = options.now ?? (() => performance.now());
  const sliceMs = options.sliceMs ?? DEFAULT_SLICE_MS;
  const yieldTurn = options.yieldTurn ?? yieldToEventLoop;
  let turnFirst = options.firstSliceNow !== true;
  for (;;) {
    if (turnFirst) await yieldTurn();
    turnFirst = true;
    options.signal?.throwIfAborted();
    const sliceStart = now();
    for (;;) {
      const next = steps.next();
      if (next.done === true) return next.value;
      if (now() - sliceStart >= sliceMs) break;
    }
  }
}

/** One turn of the event loop (setImmediate): pending timers and HTTP requests run before the next stage. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** ~1–3 ms of model work on the benchmark machine. */
export const DEFAULT_CHECKPOINT_WORK = 2_000;

/**
 * Work a sliced stage has done since its last checkpoint, in units of about a microsecond (a rule, an
 * endpoint): `if (meter.add(n)) yield;` yields every `perCheckpoint` units, so checkpoints are a few
 * milliseconds apart and runInSlices can keep to its slice length.
 */
export class WorkMeter {
  private work = 0;

  constructor(private readonly perCheckpoint = DEFAULT_CHECKPOINT_WORK) {}

  /** Adds `units`; true when a checkpoint is due (the count then starts over). */
  add(units: number): boolean {
    this.work += units;
    if (this.work < this.perCheckpoint) return false;
    this.work = 0;
    return true;
  }
}

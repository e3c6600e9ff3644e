/**
 * Runs page renders (sliced computations, src/slices.ts) a slice at a time, so a render of a large
 * snapshot never holds the event loop for long, and shows each result whole when it is complete. What
 * this adds to runInSlices is the order: one render at a time, shown in the order their snapshots
 * arrived, never an older over a newer one.
 */
import { runInSlices, runToEnd, type Slices, yieldToEventLoop } from '../slices.js';
import type { Snapshot } from '../snapshot.js';

export interface RenderQueueOptions<T> {
  readonly render: (snapshot: Snapshot) => Slices<T>;
  /** Swaps a finished render in; never for a superseded one. */
  readonly show: (result: T) => void;
  /** How long one slice may run before the queue yields to the event loop (ms). */
  readonly sliceMs: number;
  /** Default performance.now. */
  readonly now?: () => number;
  /** One turn of the event loop; default setImmediate. Tests inject a controllable one. */
  readonly yieldTurn?: () => Promise<unknown>;
}

/**
 * What became of a scheduled snapshot. `shown`: its page is served now. `superseded`: a newer snapshot
 * arrived before its render started, or one rendered with renderNow() was shown first; it is never
 * shown. `closed`: close() came first. `failed`: the render threw; the previous page stays.
 */
export type ScheduleOutcome<T> =
  | { readonly status: 'shown'; readonly result: T }
  | { readonly status: 'superseded' | 'closed' }
  | { readonly status: 'failed'; readonly error: unknown };

interface Job<T> {
  readonly snapshot: Snapshot;
  /** Arrival order: a render is shown only if nothing that arrived later was shown before it. */
  readonly seq: number;
  readonly settle: (outcome: ScheduleOutcome<T>) => void;
  /** Aborted, with SUPERSEDED or CLOSED as its reason, to abandon the render at its next slice. */
  readonly stop: AbortController;
}

const SUPERSEDED = { status: 'superseded' } as const;
const CLOSED = { status: 'closed' } as const;

export class RenderQueue<T> {
  private readonly options: RenderQueueOptions<T>;
  private arrived = 0;
  private shownSeq = 0;
  /** At most one snapshot waits; a newer one replaces it (the page only needs the latest). */
  private waiting: Job<T> | null = null;
  /** The job being rendered. */
  private running: Job<T> | null = null;
  private busy = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(options: RenderQueueOptions<T>) {
    this.options = options;
  }

  /**
   * Renders `snapshot` in one go and shows it (tests, callers that want the page now). It counts as the
   * newest arrival: a render in progress is abandoned and a waiting snapshot dropped. Throws what the
   * render throws, leaving the previous page.
   */
  renderNow(snapshot: Snapshot): T {
    const seq = ++this.arrived;
    const result = runToEnd(this.options.render(snapshot));
    this.showIfNewest(seq, result);
    return result;
  }

  /**
   * Renders `snapshot` a slice at a time and shows it when complete. The first slice runs before this
   * returns (a small page is shown at once). While another render runs, the snapshot waits, replacing any
   * snapshot already waiting. Never rejects.
   */
  schedule(snapshot: Snapshot): Promise<ScheduleOutcome<T>> {
    if (this.closed) return Promise.resolve(CLOSED);
    return new Promise((settle) => {
      const job: Job<T> = { snapshot, seq: ++this.arrived, settle, stop: new AbortController() };
      if (this.busy) {
        this.waiting?.settle(SUPERSEDED);
        this.waiting = job;
        return;
      }
      this.busy = true;
      void this.drive(job);
    });
  }

  /** Resolves once no render runs and none waits. */
  idle(): Promise<void> {
    return this.busy ? new Promise((resolve) => this.idleWaiters.push(resolve)) : Promise.resolve();
  }

  /** Stops rendering: the render in progress is abandoned before its next slice, nothing more starts. */
  close(): Promise<void> {
    this.closed = true;
    this.waiting?.settle(CLOSED);
    this.waiting = null;
    this.running?.stop.abort(CLOSED);
    return this.idle();
  }

  private async drive(first: Job<T>): Promise<void> {
    let job: Job<T> | null = first;
    while (job !== null) {
      job.settle(await this.run(job));
      job = this.waiting;
      this.waiting = null;
      // A fresh turn before the next render: the last slice may have used its whole budget.
      if (job !== null) await (this.options.yieldTurn ?? yieldToEventLoop)();
    }
    // Synchronously with finding nothing waiting: a schedule() from here on starts a new drive.
    this.busy = false;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async run(job: Job<T>): Promise<ScheduleOutcome<T>> {
    this.running = job;
    try {
      const { sliceMs, now, yieldTurn } = this.options;
      return await runInSlices(this.renderAndShow(job), { signal: job.stop.signal, sliceMs, now, yieldTurn, firstSliceNow: true });
    } catch (error) {
      if (job.stop.signal.aborted) return job.stop.signal.reason as typeof SUPERSEDED | typeof CLOSED;
      return { status: 'failed', error };
    } finally {
      this.running = null;
    }
  }

  /** The render, then its show in the same slice as its last step (a page complete in the first slice is shown before schedule() returns). */
  private *renderAndShow(job: Job<T>): Slices<ScheduleOutcome<T>> {
    const result = yield* this.options.render(job.snapshot);
    return this.showIfNewest(job.seq, result) ? { status: 'shown', result } : SUPERSEDED;
  }

  /** Shows `result` unless something that arrived later was shown first; a render still running that arrived earlier is abandoned. */
  private showIfNewest(seq: number, result: T): boolean {
    if (seq < this.shownSeq) return false;
    this.shownSeq = seq;
    this.options.show(result);
    if (this.running !== null && this.running.seq < seq) this.running.stop.abort(SUPERSEDED);
    return true;
  }
}
